"""The dashboard's jobs table (app.js progressCells) shows how far into an epoch a job is:
its bar goes on within the epoch and its text names the batch. Runs the real app.js in Node
with a stubbed DOM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.ui.node_harness import run_harness

HARNESS = r"""
const fs = require("fs");
const src = fs.readFileSync(process.argv[2], "utf8");
const node = (tag) => ({ tag, attrs: {}, children: [], addEventListener() {},
  setAttribute(k, v) { this.attrs[k] = v; }, append(c) { this.children.push(c); },
  classList: { toggle() {}, add() {} } });
global.Node = class {};
global.window = {};
global.sessionStorage = { getItem: () => null };
global.setInterval = () => 0;
global.fetch = async () => new Response(JSON.stringify({ data: [] }));
global.document = { querySelector: () => node("x"), querySelectorAll: () => [],
  createElement: (tag) => Object.assign(new Node(), node(tag)) };
eval(src + "\n;global.progressCells = progressCells; global.seenKey = seenKey;");
const text = (n) => (typeof n === "string" ? n : n.children.map(text).join(""));
const job = JSON.parse(process.argv[3]);
const [cell] = progressCells(job);
const bar = cell.children[0];
console.log(JSON.stringify({ max: bar.attrs.max, value: bar.attrs.value, text: text(cell),
  seen: seenKey(job) }));
process.exit(0);
"""


def cells(tmp_path: Path, job: dict[str, Any]) -> dict[str, Any]:
    return run_harness(tmp_path, HARNESS, json.dumps(job))


def test_a_job_inside_an_epoch_shows_the_batch_and_a_bar_past_its_last_epoch(
    tmp_path: Path,
) -> None:
    progress = {"epoch": 2, "epochs": 10, "val_loss": 0.5, "train_loss": 0.6}
    between = cells(tmp_path, {"status": "running", "model_version": None, "progress": progress})
    assert (between["max"], between["value"], between["text"]) == (10, 2, " 2/10")
    inside = {**progress, "batch": 125, "batches": 500}
    within = cells(tmp_path, {"status": "running", "model_version": None, "progress": inside})
    assert (within["max"], within["value"]) == (10, 2.25)
    assert within["text"] == " 2/10 · batch 125/500 of epoch 3"
    assert within["seen"] != between["seen"]  # the poll redraws the row as the batch moves
