"""Server CPU per one-row encode, in process: the app driven over ASGI, no HTTP, no client.

`benchmarks/inference.py` measures what a client sees, and on a 2-core machine shares the
cores with its load generator, so run-to-run noise is large. This measures what the
service's own code costs: the event-loop thread's CPU time per request for one-row JSON
encodes, one at a time (c=1) and from 64 concurrent tasks (c=64), through the whole app
(the hot path, validation, the batcher, the forward pass, metrics, the response). It also
times the forward pass alone in a hot loop, the app's own batch function (the one its batcher runs)
and the eager model, so that the in-app figure can be read against them.

    .venv/bin/python benchmarks/inference_cpu.py [--requests 6000]

Prints and saves benchmarks/results/inference_cpu.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # inference.py: the model, its training, (e)
RESULTS = ROOT / "benchmarks" / "results"


async def drive(app: Any, path: str, body: bytes) -> None:
    """One request through the ASGI app; it must answer 200."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"localhost"),  # an allowed host (service.guard)
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
        "state": {},
    }
    sent = False
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # the client never leaves
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    if statuses != [200]:
        raise RuntimeError(f"{path} answered {statuses}")


def hot_loop_us(fn: Any, x: Any, calls: int) -> float:
    """µs per call of fn(x), after 300 calls to warm up."""
    for _ in range(300):
        fn(x)
    start = time.perf_counter()
    for _ in range(calls):
        fn(x)
    return round((time.perf_counter() - start) / calls * 1e6, 1)


async def measure(data_dir: Path, requests: int) -> dict[str, Any]:
    import numpy as np
    import torch
    from inference import ENCODE, MODEL, in_process_encoder
    from sklearn.datasets import load_digits

    from service.config import Settings
    from service.inference.api.service import served_version
    from service.main import create_app

    settings = Settings(data_dir=data_dir, workers=0, log_level="WARNING")
    app = create_app(settings, start_workers=False)
    row = load_digits().data[:1].astype(np.float32)  # (1, 64)
    body = json.dumps({"inputs": row.tolist()}).encode()
    out: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        gc.collect()
        gc.freeze()  # as `aesvc serve` does
        for _ in range(300):
            await drive(app, ENCODE, body)
        for c in (1, 64):
            start_cpu, start = time.thread_time(), time.perf_counter()
            if c == 1:
                for _ in range(requests):
                    await drive(app, ENCODE, body)
            else:

                async def client(n: int) -> None:
                    for _ in range(n):
                        await drive(app, ENCODE, body)

                await asyncio.gather(*(client(requests // c) for _ in range(c)))
            done = requests if c == 1 else c * (requests // c)
            out[f"c{c}"] = {
                "requests": done,
                "loop_thread_cpu_us_per_request": round(
                    (time.thread_time() - start_cpu) / done * 1e6, 1
                ),
                "wall_us_per_request": round((time.perf_counter() - start) / done * 1e6, 1),
            }
        # the app's own batch function for the encode (the one its batcher runs: the
        # version's backend, ONNX Runtime on a CPU), rows in and out
        loaded = await served_version(app.state.ctx, name=MODEL, ref="1")
        app_encode = app.state.ctx.inference()[0].batcher(loaded, "encode").fn
        torch.set_num_threads(1)
        with torch.inference_mode():
            out["app_batch_fn_hot_loop_us"] = hot_loop_us(app_encode, row, requests)
        gc.unfreeze()
    encode = in_process_encoder(data_dir, "cpu")  # eager, as (e) in inference.py
    out["forward_alone_hot_loop_us"] = hot_loop_us(encode, row, requests)
    out["model"] = MODEL
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=6000, help="per concurrency level")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    import uvloop
    from inference import train

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        train(data_dir, args.epochs)
        results = uvloop.run(measure(data_dir, args.requests))
    results["setup"] = {
        "what": "one-row JSON encode through the ASGI app in process (uvloop), no HTTP",
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "inference_cpu.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
