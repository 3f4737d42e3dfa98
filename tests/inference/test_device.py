"""The inference device on a tiny real network: which thread runs a batch (inline on the
loop, or the device's own thread), with how many intra-op threads, that a large batch on
several CPU lanes runs as one slice per lane at once and comes back in row order, and that
a failing batch reaches its caller in either path while the device serves on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from service.config import Settings
from service.inference.device import Device, Outputs
from service.inference.engine import InferenceEngine
from service.metrics import ServiceMetrics

ALL_THREADS = 3  # set before each Device is made: neither 1 nor tied to the machine's cores
WIDTH = 4


@pytest.fixture(autouse=True)
def torch_threads() -> Iterator[None]:
    """Each test starts at ALL_THREADS; torch's own setting is restored afterwards."""
    original = torch.get_num_threads()
    torch.set_num_threads(ALL_THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(original)


@dataclass
class Seen:
    thread: str
    torch_threads: int
    inference_mode: bool
    ident: int = 0
    rows: int = 0


@dataclass
class TinyNet:
    """A real nn.Linear on the rows; records where and how each batch ran."""

    fail: bool = False
    seen: list[Seen] = field(default_factory=list)
    barrier: threading.Barrier | None = None  # every slice must be running at once

    def __post_init__(self) -> None:
        torch.manual_seed(0)
        self.layer = nn.Linear(WIDTH, 2)

    def __call__(self, x: np.ndarray) -> Outputs:
        self.seen.append(
            Seen(
                threading.current_thread().name,
                torch.get_num_threads(),
                torch.is_inference_mode_enabled(),
                threading.get_ident(),
                len(x),
            )
        )
        if self.barrier is not None:
            self.barrier.wait()
        if self.fail:
            raise ValueError("a broken batch")
        return (self.layer(torch.from_numpy(x)).numpy(),)


def rows(n: int) -> np.ndarray:
    return np.ones((n, WIDTH), dtype=np.float32)


async def run(device: Device, fn: TinyNet, n_rows: int) -> Seen:
    """One batch of n_rows; what fn saw. (wait_for: a dead device fails, never hangs.)"""
    (out,) = await asyncio.wait_for(device.run(fn, rows(n_rows)), 30)
    assert out.shape == (n_rows, 2)
    return fn.seen[-1]


@pytest.mark.parametrize("name", ["cpu", "cuda:0"])  # the name alone: no GPU is touched
def test_small_batches_run_inline_and_larger_ones_on_the_device_thread(name: str) -> None:
    async def scenario() -> None:
        loop_thread = threading.current_thread().name
        device = Device(name, parallel_rows=8, inline_rows=16)
        fn = TinyNet()
        try:
            for n_rows in (1, 16):  # at most inline_rows: on the caller's thread
                assert (await run(device, fn, n_rows)).thread == loop_thread
            for n_rows in (17, 40):
                assert (await run(device, fn, n_rows)).thread == f"aesvc-infer-{name}"
            assert all(seen.inference_mode for seen in fn.seen)
        finally:
            device.close()

    asyncio.run(scenario())


def test_inline_rows_zero_never_runs_inline() -> None:
    async def scenario() -> None:
        loop_thread = threading.current_thread().name
        fn = TinyNet()
        for device in (Device("cpu", inline_rows=0), Device("cuda:0", inline_rows=0)):
            try:
                for n_rows in (1, 5):
                    seen = await run(device, fn, n_rows)
                    assert seen.thread == f"aesvc-infer-{device.name}" != loop_thread
            finally:
                device.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("inline_rows", "expected"),
    [(0, [1, ALL_THREADS, 1, ALL_THREADS]), (16, [1, 1, 1, 1])],
    ids=["on-the-thread", "inline-always-one"],  # no OpenMP team on the event loop's thread
)
def test_batches_under_parallel_rows_get_one_torch_thread(
    inline_rows: int, expected: list[int]
) -> None:
    async def scenario() -> None:
        device = Device("cpu", parallel_rows=8, inline_rows=inline_rows)
        torch.set_num_threads(1)  # later changes do not move what the device recorded
        fn = TinyNet()
        try:
            # small, at the threshold, small again, then over it: set on every batch
            threads = [(await run(device, fn, n)).torch_threads for n in (7, 8, 1, 9)]
            assert threads == expected
        finally:
            device.close()

    asyncio.run(scenario())


def test_a_failing_batch_reaches_its_caller_in_both_lanes_and_the_device_serves_on() -> None:
    async def scenario() -> None:
        loop_thread = threading.current_thread().name
        device = Device("cpu", parallel_rows=8, inline_rows=4)
        broken, good = TinyNet(fail=True), TinyNet()
        try:
            for n_rows in (2, 10, 2, 10):  # inline, thread, and each again after a failure
                with pytest.raises(ValueError, match="a broken batch"):
                    await run(device, broken, n_rows)
                seen = await run(device, good, n_rows)
                assert (seen.thread == loop_thread) == (n_rows <= 4)
            assert [s.thread for s in broken.seen] == [s.thread for s in good.seen]
        finally:
            device.close()

    asyncio.run(scenario())


def on_cpu_lanes(body: Callable[[Device], Awaitable[None]]) -> None:
    """body(device) on a 2-lane CPU device that splits batches of 8 rows or more."""

    async def scenario() -> None:
        device = Device("cpu", parallel_rows=8, inline_rows=0, lanes=2)
        try:
            await asyncio.wait_for(body(device), 60)
        finally:
            device.close()

    asyncio.run(scenario())


def test_a_large_batch_runs_as_one_slice_per_lane_at_once_in_row_order() -> None:
    async def body(device: Device) -> None:
        fn = TinyNet(barrier=threading.Barrier(2, timeout=30))  # one slice alone times out
        x = np.arange(11 * WIDTH, dtype=np.float32).reshape(11, WIDTH)
        (out,) = await device.run(fn, x)
        with torch.inference_mode():
            expected = fn.layer(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-6)
        assert sorted(s.rows for s in fn.seen) == [5, 6]
        assert len({s.ident for s in fn.seen}) == 2  # two lanes, both the device's
        assert {s.thread for s in fn.seen} == {"aesvc-infer-cpu"}
        assert {s.torch_threads for s in fn.seen} == {ALL_THREADS // 2}
        fn.barrier = None  # under parallel_rows: one slice, on one thread
        assert (await run(device, fn, 7)).torch_threads == 1
        assert fn.seen[-1].rows == 7

    on_cpu_lanes(body)


def test_a_batch_with_fewer_rows_than_lanes_has_no_empty_slice() -> None:
    async def body(device: Device) -> None:
        device.parallel_rows = 1
        fn = TinyNet()
        assert (await run(device, fn, 1)).rows == 1
        assert [s.rows for s in fn.seen] == [1]

    on_cpu_lanes(body)


def test_a_failing_slice_fails_the_batch_and_the_lanes_serve_on() -> None:
    async def body(device: Device) -> None:
        broken, good = TinyNet(fail=True), TinyNet()
        with pytest.raises(ValueError, match="a broken batch"):
            await device.run(broken, rows(10))
        assert len(broken.seen) == 2  # both slices ran; the failure came back
        for _ in range(3):
            assert (await run(device, good, 10)).thread == "aesvc-infer-cpu"

    on_cpu_lanes(body)


def test_a_gpu_device_has_one_lane() -> None:
    device = Device("cuda:0", lanes=4)  # the name alone: no GPU is touched
    try:
        assert device.lanes == 1
    finally:
        device.close()


@pytest.mark.parametrize(("setting", "lanes"), [(0, 2), (1, 1), (3, 3)])
def test_the_engine_gives_the_cpu_device_its_lanes(
    tmp_path: Path, setting: int, lanes: int
) -> None:
    """AESVC_INFERENCE_CPU_LANES; 0 is 2 where torch has 2 threads or more (3 here)."""
    settings = Settings(data_dir=tmp_path, inference_device="cpu", inference_cpu_lanes=setting)
    engine = InferenceEngine(settings, ServiceMetrics(frozenset({"encode"})))
    try:
        assert engine.devices["cpu"].lanes == lanes
    finally:
        engine.close()
