"""The dashboard's event stream parser (app.js follow()) against the service's SSE, whose
lines end in CRLF (sse-starlette), cut by the network anywhere: a read that ended between
an event's last \\r and its \\n merged two events (it replaced CRLF chunk by chunk), so
JSON.parse threw and the stream was dropped. Runs the real app.js in Node with a stubbed
DOM and fetch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.node_harness import run_harness

HARNESS = r"""
const fs = require("fs");
const src = fs.readFileSync(process.argv[2], "utf8");
const node = () => ({ addEventListener() {}, replaceChildren() {}, replaceWith() {}, prepend() {},
  classList: { toggle() {}, add() {} }, set textContent(v) { global.notices.push(v); },
  get textContent() { return ""; }, value: "" });
global.notices = [];
global.Node = class {};
global.window = {};
global.sessionStorage = { getItem: () => null };
global.localStorage = global.sessionStorage;
global.setInterval = () => 0;  // the page's poll: not in this harness
global.document = { querySelector: () => node(), querySelectorAll: () => [],
  createElement: () => ({ ...node(), append() {}, setAttribute() {} }) };
global.URL.createObjectURL = () => "blob:x";
const JOB = "a".repeat(32);
const sse = 'id: 1\r\nevent: progress\r\ndata: {"epoch": 1}\r\n\r\n' +
  'id: 2\r\nevent: progress\r\ndata: {"epoch": 2}\r\n\r\n' +
  'id: 3\r\nevent: state\r\ndata: {"status": "succeeded"}\r\n\r\n';
const cut = sse.indexOf("\r\n\r\n") + Number(process.argv[3]);
global.fetch = async (path) => {
  if (path.includes("/events")) {
    const enc = new TextEncoder();
    const body = new ReadableStream({ start(c) {
      c.enqueue(enc.encode(sse.slice(0, cut)));
      c.enqueue(enc.encode(sse.slice(cut)));
      c.close(); } });
    return new Response(body, { status: 200 });
  }
  if (path.startsWith(`/v1/jobs/${JOB}`))
    return new Response(JSON.stringify(
      { id: JOB, model: "m", status: "succeeded", model_version: 1, progress: null }));
  if (path.startsWith("/v1/models/m/versions/1/plots"))
    return new Response(JSON.stringify({ plots: {} }));
  return new Response(JSON.stringify({ data: [] }));
};
eval(src + "\n;global.follow = follow;");
(async () => {
  await new Promise((r) => setTimeout(r, 50));
  global.notices = [];
  await Promise.race([follow(JOB), new Promise((r) => setTimeout(r, 3000))]);
  console.log(JSON.stringify({ progress: window.aesvcProgress[JOB] || [],
    notices: notices.filter((n) => n && n.includes("stream")) }));
  process.exit(0);  // not waiting for the race's timer
})();
"""


def run(tmp_path: Path, split_after: int) -> dict:
    return run_harness(tmp_path, HARNESS, str(split_after))


@pytest.mark.parametrize(
    "split_after",
    [1, 2, 3, 4, 5],
    ids=["after-CR", "after-CRLF", "between-last-CR-and-LF", "after-blank-line", "into-next"],
)
def test_every_progress_event_arrives_however_the_stream_is_cut(
    tmp_path: Path, split_after: int
) -> None:
    result = run(tmp_path, split_after)
    assert result == {"progress": [1, 2], "notices": []}, result
