"""Torch runs multi-threaded only on a CPU device's inference thread
(service.inference.runtime.device), with the torch backend.

A thread that opens an OpenMP parallel region gets a team of worker threads of its own, and
once the process holds more OpenMP threads than cores, libgomp makes every team sleep at its
barriers: the inference thread's forwards slow down by a third. Loading and warming a version
(at 4096 rows) and drawing a UI plot run on other threads (the threadpool, the preloader), so
they must open no team: they add no OS thread to the process, while a batch of the same size
on the device thread does (which shows that the count sees a team when there is one).

In a fresh interpreter: this one's threads (and its teams) come and go with other tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = r"""
import asyncio, functools, json, os, sys, threading
from pathlib import Path

import numpy as np
import torch

from service.config import Settings
from service.context import AppContext
from service.inference.runtime.cache import ModelCache
from service.inference.runtime.device import Device
from service.inference.runtime.engine import prepare
from service.inference.runtime.engine import BackendOptions
from service.ui.service import _run

torch.set_num_threads(2)  # what a 2-core machine starts with
ctx = AppContext.from_settings(Settings(data_dir=Path(sys.argv[1])))
torch_backend = BackendOptions(setting="torch")
cache = ModelCache(ctx.store, warmup=lambda loaded: prepare(loaded, torch_backend, [1, 32, 4096]))
x = np.random.default_rng(0).uniform(0, 16, (4096, 64)).astype(np.float32)
found = {}


def tasks():
    return set(os.listdir("/proc/self/task"))  # ids: a thread that ends is not a new one


def load():
    before = tasks()
    with ctx.session_factory() as session:
        found["loaded"] = cache.resolve(session, "digits-ae", "1")
    found["load"] = len(tasks() - before)  # counted while this thread (and any team of it) lives
    before = tasks()
    _run(found["loaded"], found["loaded"].model.encode, x)
    found["ui_plot"] = len(tasks() - before)


thread = threading.Thread(target=load)
thread.start()
thread.join()
device = Device("cpu")
fn = functools.partial(found["loaded"].backend.run, "encode")
before = tasks()
(codings,), _ = asyncio.run(device.run(fn, x))
assert codings.shape == (4096, 4), codings.shape
found["device"] = len(tasks() - before)
print(json.dumps({key: found[key] for key in ("load", "ui_plot", "device")}))
"""


@pytest.mark.slow  # a fresh interpreter
@pytest.mark.any_database
def test_only_the_device_thread_opens_an_openmp_team(data_dir: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(data_dir)],  # a copy: trained_dir is shared
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    new_threads = json.loads(done.stdout.strip().splitlines()[-1])
    assert new_threads["device"] >= 1, new_threads  # its team: the count sees teams
    assert new_threads["load"] == 0, new_threads
    assert new_threads["ui_plot"] == 0, new_threads
