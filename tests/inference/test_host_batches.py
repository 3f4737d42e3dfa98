"""Small batches of a GPU-served version on the host (service.inference.host_batches): the
measurement picks the sizes the host wins from one row up, batches go where it says, host
work runs on one intra-op thread, and nothing of it applies to a CPU-served version. On a
GPU, the host copy and the routed answers are checked in tests/test_gpu.py (CUDA only)."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from service.config import Settings
from service.context import AppContext
from service.inference import engine, host_batches
from service.inference.cache import ModelCache
from service.inference.device import Outputs
from service.inference.service import load_version
from tests.inference.test_graphs import OPS, loaded_model

SIZES = [1, 2, 4, 8, 16]


def timed(delay_s: Callable[[int], float], seen: list[int]) -> Callable[[np.ndarray], Outputs]:
    """A batch function that doubles its rows and takes delay_s(rows) seconds more."""

    def fn(x: np.ndarray) -> Outputs:
        seen.append(len(x))
        if delay := delay_s(len(x)):
            time.sleep(delay)
        return (x * 2,)

    return fn


@pytest.mark.parametrize(
    ("host_delay", "device_delay", "host_rows", "measured"),
    [
        (lambda rows: 0.0, lambda rows: 0.001, 16, SIZES),  # the host wins everywhere
        (lambda rows: 0.001, lambda rows: 0.0, 0, [1]),  # the device wins at once
        # the host wins up to 4 rows; 16 is not measured once the device has won at 8
        (lambda rows: 0.0 if rows <= 4 else 0.002, lambda rows: 0.001, 4, [1, 2, 4, 8]),
    ],
    ids=["host-everywhere", "device-at-one-row", "host-up-to-4"],
)
def test_the_host_takes_the_sizes_it_wins_from_one_row_up(
    host_delay: Callable[[int], float],
    device_delay: Callable[[int], float],
    host_rows: int,
    measured: list[int],
) -> None:
    on_host_rows: list[int] = []
    on_device_rows: list[int] = []
    chosen, timings = host_batches.measure_host_rows(
        timed(host_delay, on_host_rows),
        timed(device_delay, on_device_rows),
        width=3,
        sizes=SIZES,
        repeats=3,
    )
    assert chosen == host_rows
    assert sorted(timings) == measured
    assert sorted(set(on_host_rows)) == sorted(set(on_device_rows)) == measured
    for rows, (host_us, device_us) in timings.items():
        host_won = host_delay(rows) < device_delay(rows)
        assert (host_us < device_us) == host_won, (rows, host_us, device_us)


def test_batches_go_where_the_measurement_said() -> None:
    on_host: list[int] = []
    on_device: list[int] = []
    fn = host_batches.routed(timed(lambda r: 0, on_host), timed(lambda r: 0, on_device), 4)
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    for rows in (1, 4, 5, 10, 3):
        (out,) = fn(x[:rows])
        np.testing.assert_array_equal(out, x[:rows] * 2)
    assert on_host == [1, 4, 3] and on_device == [5, 10]
    device_fn = timed(lambda r: 0, on_device)
    assert host_batches.routed(timed(lambda r: 0, on_host), device_fn, 0) is device_fn


def test_host_work_runs_on_one_thread_and_restores_the_setting() -> None:
    before = torch.get_num_threads()
    inside: list[int] = []

    def fn(x: np.ndarray) -> Outputs:
        inside.append(torch.get_num_threads())
        return (x,)

    host_batches.on_one_thread(fn)(np.zeros((2, 3), dtype=np.float32))
    assert inside == [1]
    assert torch.get_num_threads() == before


def test_a_cpu_served_version_never_measures_or_routes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="service.inference.engine")
    plain = loaded_model("dense")
    with_copy = dataclasses.replace(loaded_model("dense"), host_model=loaded_model("dense").model)
    x = np.random.default_rng(0).standard_normal((5, plain.n_features), dtype=np.float32)
    with torch.inference_mode():
        for op in OPS:
            fn = engine.batch_fn(with_copy, op, cuda_host_rows=16)
            assert fn.host_rows == 0  # type: ignore[attr-defined]
            want = engine.batch_fn(plain, op)
            n = plain.code_size if op == "decode" else plain.n_features
            for got, expected in zip(fn(x[:, :n]), want(x[:, :n]), strict=True):
                np.testing.assert_array_equal(got, expected)
    assert not [r for r in caplog.records if "run on the host" in r.getMessage()]


def test_the_cache_keeps_no_host_copy_of_a_cpu_version(data_dir: Path) -> None:
    ctx = AppContext.from_settings(Settings(data_dir=data_dir))
    sizes = []
    for host_copies in (False, True):
        cache = ModelCache(ctx.store, devices=("cpu",), host_copies=host_copies)
        with ctx.session_factory() as session:
            loaded = load_version(session=session, cache=cache, name="digits-ae", ref="1")
        assert loaded.device == "cpu" and loaded.host_model is None
        sizes.append(loaded.size_bytes)
    assert sizes[0] == sizes[1] > 0


def test_warm_up_drops_a_host_copy_no_operation_runs_on() -> None:
    """On a CPU (as on a GPU the host wins at no size) every operation's host_rows is 0: the
    copy goes before the cache counts the version, and its bytes with it."""
    host = loaded_model("dense").model
    loaded = dataclasses.replace(loaded_model("dense"), host_model=host, host_bytes=1234)
    assert loaded.footprint_bytes == loaded.size_bytes + 1234
    engine.warm_up(loaded, [1, 3], cuda_host_rows=16)
    assert loaded.host_model is None and loaded.host_bytes == 0
    assert loaded.footprint_bytes == loaded.size_bytes


@pytest.mark.parametrize(("numpy_rows", "in_numpy"), [(8, 8), (0, 0)])
def test_a_slow_devices_small_batches_run_on_the_host_copy_in_numpy(
    numpy_rows: int, in_numpy: int, numpy_calls: list[int]
) -> None:
    """The engine's host routing, with a "device" 2 ms slower than the host at every size
    (on the CPU: the GPU side is checked in tests/test_gpu.py): batches of up to 16 rows
    run on the host copy, those up to `numpy_rows` in its numpy form, larger ones on the
    device; every answer is the model's."""
    version = dataclasses.replace(loaded_model("dense"), host_model=loaded_model("dense").model)
    exact = engine.batch_fn(loaded_model("dense"), "reconstruct")
    device_rows: list[int] = []

    def slow_device(x: np.ndarray) -> Outputs:
        device_rows.append(len(x))
        time.sleep(0.002)
        return exact(x)

    fn, host_rows, timings, numpy_used = engine._host_where_faster(
        version, "reconstruct", slow_device, flat=True, max_rows=16, numpy_rows=numpy_rows
    )
    assert host_rows == 16 and sorted(timings) == SIZES and numpy_used == in_numpy
    device_rows.clear()
    numpy_calls.clear()
    x = np.random.default_rng(3).standard_normal((40, version.n_features), dtype=np.float32)
    with torch.inference_mode():
        for rows in (1, 8, 9, 16, 17, 40):
            for got, want in zip(fn(x[:rows]), exact(x[:rows]), strict=True):
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert device_rows == [17, 40]
    assert numpy_calls == [rows for rows in (1, 8, 9, 16) if rows <= in_numpy]
