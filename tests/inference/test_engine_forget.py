"""A version evicted from the cache while one of its batchers is busy: the engine closes that
batcher once it is idle, without another request or eviction to prompt it."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from service.config import Settings
from service.inference.runtime import engine as engine_module
from service.inference.runtime.engine import InferenceEngine
from service.metrics import ServiceMetrics
from tests.factories import loaded_version
from tests.inference.test_backends import serving_model


def test_a_busy_batcher_of_an_evicted_version_is_closed_once_it_is_idle(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "FORGET_AGAIN_S", 0.05)
    settings = Settings(data_dir=tmp_path, inference_inline_rows=0)  # type: ignore[arg-type]
    engine = InferenceEngine(settings, ServiceMetrics())
    model, variational = serving_model("dense")
    loaded = loaded_version(model, name="m", variational=variational)
    live = [loaded]
    engine.live = lambda: list(live)

    async def scenario() -> None:
        batcher = engine.batcher(loaded, "encode")
        gate, started = threading.Event(), threading.Event()
        run = batcher.fn

        def held(x: np.ndarray) -> tuple[np.ndarray, ...]:
            started.set()
            gate.wait(10)
            return run(x)

        batcher.fn = held
        x = np.zeros((2, loaded.n_features), np.float32)
        request = asyncio.ensure_future(batcher(x))
        await asyncio.to_thread(started.wait, 10)
        live.clear()  # evicted: the cache calls forget (forget_soon) after it
        engine.forget()
        assert not batcher.idle and engine._batchers  # busy: kept for now
        gate.set()
        (codings,) = await request
        assert codings.shape == (2, loaded.code_size)
        for _ in range(100):  # no request and no eviction from here on
            if not engine._batchers:
                break
            await asyncio.sleep(0.02)
        assert not engine._batchers  # closed, its backend let go

    try:
        asyncio.run(scenario())
    finally:
        engine.close()
