"""The inference device on a tiny real network: which thread runs a batch (inline on the
loop, or the device's own thread), and that a failing batch reaches its caller in either
path while the device serves on. And the torch backend on a CPU: how many intra-op threads
a batch gets."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from torch import nn

from service.inference.backends.base import Outputs
from service.inference.backends.torch import TorchBackend
from service.inference.runtime.device import Device
from tests.inference.test_backends import serving_model

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
        if self.fail:
            raise ValueError("a broken batch")
        with torch.inference_mode():  # as the torch backend runs its modules
            return (self.layer(torch.from_numpy(x)).numpy(),)


def rows(n: int) -> np.ndarray:
    return np.ones((n, WIDTH), dtype=np.float32)


async def run(device: Device, fn: TinyNet, n_rows: int) -> Seen:
    """One batch of n_rows; what fn saw. (wait_for: a dead device fails, never hangs.)"""
    (out,), _ = await asyncio.wait_for(device.run(fn, rows(n_rows)), 30)
    assert out.shape == (n_rows, 2)
    return fn.seen[-1]


@pytest.mark.parametrize("name", ["cpu", "cuda:0"])  # the name alone: no GPU is touched
def test_small_batches_run_inline_and_larger_ones_on_the_device_thread(name: str) -> None:
    async def scenario() -> None:
        loop_thread = threading.current_thread().name
        device = Device(name, inline_rows=16)
        fn = TinyNet()
        try:
            for n_rows in (1, 16):  # at most inline_rows: on the caller's thread
                assert (await run(device, fn, n_rows)).thread == loop_thread
            for n_rows in (17, 40):
                assert (await run(device, fn, n_rows)).thread == f"aesvc-infer-{name}_0"
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
                    assert seen.thread == f"aesvc-infer-{device.name}_0" != loop_thread
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


def test_the_torch_backend_runs_in_inference_mode() -> None:
    model, _ = serving_model("dense")
    backend = TorchBackend(model, device="cpu")
    seen: list[bool] = []

    def recorded(z: torch.Tensor) -> tuple[torch.Tensor]:
        seen.append(torch.is_inference_mode_enabled())
        return (z,)

    backend._ops["decode"] = recorded  # type: ignore[assignment]
    backend.run("decode", rows(2))
    assert seen == [True]


def test_a_failing_batch_reaches_its_caller_in_both_paths_and_the_device_serves_on() -> None:
    async def scenario() -> None:
        loop_thread = threading.current_thread().name
        device = Device("cpu", inline_rows=4)
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
