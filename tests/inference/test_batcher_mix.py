"""The batcher under a random mix of request sizes (split past max_batch_rows),
poisoned rows (batch retried alone), cancelled callers, client-gone watches and timeouts.
Every answered caller must get its own rows' outputs in order, every poisoned one an error,
and the row budget must come back to zero."""

from __future__ import annotations

import asyncio
import random
import time

import numpy as np
import pytest

from service.inference.runtime import pending as pending_module
from service.inference.runtime.batcher import Batcher
from service.inference.runtime.device import Device, Outputs
from service.inference.runtime.pending import ClientGone, InferenceTimeout, RowBudget
from service.metrics import ServiceMetrics

POISON = -1.0


def fn(x: np.ndarray) -> Outputs:
    time.sleep(0.0005 * len(x) / 8)
    if (x[:, 0] == POISON).any():
        raise ValueError("poisoned")
    return (x * 2, x[:, 0].copy() + 1)


@pytest.mark.parametrize("seed", range(6))
def test_random_mix(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pending_module, "GONE_WATCH_AFTER_S", 0.005)
    monkeypatch.setattr(pending_module, "SWEEP_S", 0.005)
    rng = random.Random(seed)

    async def scenario() -> None:
        metrics = ServiceMetrics()
        budget = RowBudget(100000, metrics)
        batcher = Batcher(
            operation="op",
            fn=fn,
            device=Device("test", inline_rows=4),
            budget=budget,
            metrics=metrics,
            max_batch_rows=16,
            max_wait_s=0.002,
            timeout_s=0.25,
        )
        counter = 0

        async def one(i: int) -> tuple[str, int]:
            nonlocal counter
            n = rng.choice([1, 2, 3, 5, 8, 17, 40])
            base = counter
            counter += n
            x = np.arange(base, base + n, dtype=np.float32)[:, None].repeat(3, axis=1)
            poisoned = rng.random() < 0.1
            if poisoned:
                x[rng.randrange(n), 0] = POISON
            kind = rng.random()
            gone = None
            if kind < 0.1:  # the client leaves after a while
                leaves_after = rng.random() * 0.02

                async def watch() -> None:
                    await asyncio.sleep(leaves_after)

                gone = watch
            await asyncio.sleep(rng.random() * 0.01)
            task = asyncio.ensure_future(batcher(x, gone=gone))
            if 0.1 <= kind < 0.2:
                await asyncio.sleep(rng.random() * 0.01)
                task.cancel()
            try:
                out, col = await task
            except asyncio.CancelledError:
                return ("cancelled", i)
            except (ClientGone, InferenceTimeout):
                return ("gone", i)
            except ValueError:
                assert poisoned, f"request {i} failed without a poisoned row"
                return ("failed", i)
            assert not poisoned, f"request {i} with a poisoned row answered"
            np.testing.assert_array_equal(out, x * 2, err_msg=f"request {i}")
            np.testing.assert_array_equal(col, x[:, 0] + 1, err_msg=f"request {i}")
            return ("ok", i)

        results = await asyncio.gather(*(one(i) for i in range(120)))
        # A caller that left or timed out may have rows still on the device thread, or in
        # the queue until the next sweep: wait for them to end (up to 10 s; a slow moment
        # of a loaded machine can outlast a fixed 0.1 s). A budget never given back stays.
        deadline = time.monotonic() + 10
        while not (budget.used == 0 and batcher.idle) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert budget.used == 0, (budget.used, sorted({r[0] for r in results}))
        assert batcher.idle
        batcher.close()

    asyncio.run(scenario())
