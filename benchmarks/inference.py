"""Batched inference against a naive server, the HTTP floor and bare torch, in one run.

Servers (each a real uvicorn subprocess): (a) the service; (b) a naive FastAPI app that
runs one forward per request on the same ServingModel; (c) a FastAPI echo of the body.
The load generator runs in its own process (it shares the CPU cores with the servers).
Then (d) rows/s of 8192-row .npy encode requests to (a) against (e) the fastest in-process
runtime on the same model (torch, or on a CPU ONNX Runtime as the service runs it), and
(f) the same requests to an .npy echo on (c)'s server (parse, answer 8 columns): HTTP and the
codec without the model, the floor under (d); and (d4), (d) from 4 connections at once, where
the service reads the next bodies while the device computes (no target: how large requests
fare under concurrency); and (g), the same requests to the least a server can do for them
(parse, one forward on the event loop on all of torch's threads, answer: no batcher, no
checks), which puts (d) against what HTTP on the machine allows with the model. (e) runs
with the allocator settings `aesvc serve` applies (service.allocator): with glibc's
defaults the forward's 4 MiB intermediates are mapped and unmapped per call in some runs
and reused in others, and (e) alone swung between 1.1 and 2.7 M rows/s from run to run.
And (h): (d)'s encodes through the Open Inference Protocol with the rows and the codings in
system shared memory (only a short JSON body crosses HTTP), and (h4) from 4 clients: what a client
on the same host gets where HTTP would carry 2 MiB per request (no target).

Every figure is the median of `--rounds` rounds, the servers taking turns within each round
(a, b, c at one concurrency, then the next round), so that a slow moment of the machine
(the cores are shared with the load generator, and with whatever else runs) lands on all
three alike rather than on one; (d) and (e) take turns the same way.

    .venv/bin/python benchmarks/inference.py [--device cpu|cuda] [--requests 2000] [--rounds 5]
        [--variant AESVC_SETTING=VALUE]  # (a) again with one setting changed, same rounds

Targets: (a)/(c) req/s at c=64 >= 0.85; (a)/(b) req/s at c=64 >= 2; (a) p50 at c=1 over
(c) p50 <= 1.30; (d)/(e) rows/s >= 0.60; (h) has none. Prints and saves
benchmarks/results/inference.json.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI, Request, Response

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
MODEL = "bench-ae"
ENCODE = f"/v1/models/{MODEL}/versions/1/encode"
ECHO_NPY = "/echo-npy"
INLINE_NPY = "/encode-npy-inline"
CODE_SIZE = 8
LEVELS = (1, 16, 64)
BIG_ROWS = 8192


# -- the two comparison servers (run as `--serve naive|echo`) -----------------------------


def naive_app(data_dir: str, device: str) -> Any:
    import orjson
    import torch

    from service.config import Settings
    from service.context import AppContext
    from service.inference.runtime.cache import ModelCache

    ctx = AppContext.from_settings(Settings(data_dir=Path(data_dir)))
    with ctx.session_factory() as session:
        cache = ModelCache(ctx.store, devices=(device,))
        model = cache.resolve(session, MODEL, "1").model
    app = FastAPI()

    @app.post(ENCODE)
    def encode(body: dict[str, Any]) -> Response:  # one forward per request, in the threadpool
        with torch.inference_mode():
            x = torch.tensor(body["inputs"], dtype=torch.float32, device=device)
            codings = model.encode(x).cpu().numpy()
        return Response(orjson.dumps({"codings": codings}, option=orjson.OPT_SERIALIZE_NUMPY))

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/json")

    @app.post(ECHO_NPY)
    async def echo_npy(request: Request) -> Response:
        """(f): the .npy codec and HTTP of (d) without the model: parse, answer 8 columns."""
        x = np.load(io.BytesIO(await request.body()), allow_pickle=False)
        out = io.BytesIO()
        np.save(out, np.ascontiguousarray(x[:, :CODE_SIZE]))
        return Response(out.getvalue(), media_type="application/x-npy")

    @app.post(INLINE_NPY)
    async def encode_npy_inline(request: Request) -> Response:
        """(g): the least a server can do for (d): parse, one forward on the event loop
        (torch's threads, one OpenMP team, no hand-off, no checks), answer."""
        x = np.load(io.BytesIO(await request.body()), allow_pickle=False)
        with torch.inference_mode():
            codings = model.encode(torch.from_numpy(x).to(device)).cpu().numpy()
        out = io.BytesIO()
        np.save(out, codings)
        return Response(out.getvalue(), media_type="application/x-npy")

    return app


def serve(kind: str, port: int, data_dir: str, device: str) -> None:
    import uvicorn

    from service.allocator import tune_malloc
    from service.config import Settings

    tune_malloc(Settings().malloc_top_pad_bytes)  # as `aesvc serve` does for (a)
    uvicorn.run(naive_app(data_dir, device), host="127.0.0.1", port=port, log_level="warning")


# -- the load generator (run as `--load`) --------------------------------------------------


async def load(url: str, concurrency: int, total: int, body: bytes) -> dict[str, Any]:
    """`total` one-row requests from `concurrency` keep-alive connections (aiohttp: httpx
    costs the client more CPU per request than the servers spend, and would be measured)."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    headers = {"content-type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post() -> int:
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
                return response.status

        for _ in range(min(50, total)):  # warm connections and caches
            await post()
        remaining = total

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                start = time.perf_counter()
                status = await post()
                latencies.append(time.perf_counter() - start)
                errors += status != 200

        start = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": errors,
        "req_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 3),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99) - 1], 3),
    }


def run_load(url: str, concurrency: int, total: int, body: bytes) -> dict[str, Any]:
    """The client in its own process, so that it does not share the servers' GIL."""
    out = subprocess.run(
        [sys.executable, __file__, "--load", url, str(concurrency), str(total)],
        input=body,
        capture_output=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


# -- orchestration -----------------------------------------------------------------------


def train(data_dir: Path, epochs: int) -> None:
    from fastapi.testclient import TestClient

    from service.config import Settings
    from service.main import create_app
    from tests.factories import run_worker

    # starlette's TestClient sends `Host: testserver`, which the request guard refuses
    hosts = "localhost,127.0.0.1,[::1],testserver"
    settings = Settings(data_dir=data_dir, workers=0, poll_interval_s=0.05, allowed_hosts=hosts)
    body = {
        "model_name": MODEL,
        "dataset": "digits",
        "architecture": {"kind": "dense", "code_size": 8, "hidden_sizes": [128, 64]},
        "training": {"epochs": epochs, "batch_size": 64},
    }
    with TestClient(create_app(settings, start_workers=False)) as client:
        assert client.post("/v1/jobs", json=body).status_code == 202
        assert run_worker(settings) == 1


def start_helper(kind: str, data_dir: Path, device: str) -> tuple[subprocess.Popen[bytes], str]:
    from tests.live import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, str(port), str(data_dir), device],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.post(f"{base}/echo", content=b"{}", timeout=1)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(f"{kind} server did not start")


def big_rows_per_s(
    base: str, x: np.ndarray, repeats: int, path: str = ENCODE, *, concurrency: int = 1
) -> float:
    """.npy encodes of `x`, each answered as .npy (aiohttp, as the load): `repeats` requests
    from `concurrency` connections, each sending its next request when its answer is in."""
    import aiohttp

    buffer = io.BytesIO()
    np.save(buffer, x)
    body = buffer.getvalue()
    headers = {"content-type": "application/x-npy", "accept": "application/x-npy"}

    async def run() -> float:
        timeout = aiohttp.ClientTimeout(total=120)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(base, timeout=timeout, connector=connector) as http:

            async def post() -> None:
                async with http.post(path, data=body, headers=headers) as response:
                    answer = await response.read()
                    assert response.status == 200, answer[:500]

            left = repeats

            async def client() -> None:
                nonlocal left
                while left > 0:
                    left -= 1
                    await post()

            await asyncio.gather(*[post() for _ in range(concurrency)])  # connections open
            start = time.perf_counter()
            await asyncio.gather(*[client() for _ in range(concurrency)])
            return repeats * len(x) / (time.perf_counter() - start)

    return asyncio.run(run())


def shm_rows_per_s(base: str, x: np.ndarray, repeats: int, *, concurrency: int = 1) -> float:
    """(h): OIP encodes of `x` with the input and the codings in system shared memory, one
    object per client (its rows, then its codings), registered before the clock starts. As
    (d)'s client sends one body it made once and reads the answer's bytes without decoding
    them, this one writes its rows once and leaves the codings where the service put them."""
    import uuid
    from multiprocessing import shared_memory

    import aiohttp

    in_bytes, out_bytes = x.nbytes, len(x) * CODE_SIZE * 4
    objects = [
        shared_memory.SharedMemory(
            f"aesvc-bench-{uuid.uuid4().hex[:8]}", True, in_bytes + out_bytes
        )
        for _ in range(concurrency)
    ]
    infer = f"/v2/models/{MODEL}/versions/1/infer"

    def body(i: int) -> bytes:
        params = {"shared_memory_region": f"h{i}", "shared_memory_byte_size": in_bytes}
        out = {**params, "shared_memory_byte_size": out_bytes, "shared_memory_offset": in_bytes}
        return json.dumps(
            {
                "inputs": [
                    {
                        "name": "input",
                        "datatype": "FP32",
                        "shape": list(x.shape),
                        "parameters": params,
                    }
                ],
                "outputs": [{"name": "codings", "parameters": out}],
            }
        ).encode()

    bodies = [body(i) for i in range(concurrency)]

    async def run() -> float:
        timeout = aiohttp.ClientTimeout(total=120)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(base, timeout=timeout, connector=connector) as http:
            try:
                return await timed(http)
            finally:  # a failed round leaves no region behind for the next one's names
                async with http.post("/v2/systemsharedmemory/unregister") as response:
                    assert response.status == 200

    async def timed(http: Any) -> float:
        for i, shm in enumerate(objects):
            shm.buf[:in_bytes] = x.tobytes()  # as (d)'s body, made once
            spec = {"key": "/" + shm.name, "offset": 0, "byte_size": in_bytes + out_bytes}
            url = f"/v2/systemsharedmemory/region/h{i}/register"
            async with http.post(url, json=spec) as response:
                assert response.status == 200, await response.text()

        async def post(i: int) -> None:
            async with http.post(infer, data=bodies[i]) as response:
                answer = await response.read()
                assert response.status == 200, answer[:500]

        left = repeats

        async def client(i: int) -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await post(i)

        await asyncio.gather(*[post(i) for i in range(concurrency)])
        start = time.perf_counter()
        await asyncio.gather(*[client(i) for i in range(concurrency)])
        return repeats * len(x) / (time.perf_counter() - start)

    try:
        return asyncio.run(run())
    finally:
        for shm in objects:
            shm.close()
            shm.unlink()


def in_process_encoder(data_dir: Path, device: str) -> Callable[[np.ndarray], np.ndarray]:
    """(e): the served model's encode in this process, rows in and codings back to numpy
    (the same work as a request, without HTTP, batching or validation)."""
    import torch

    from service.config import Settings
    from service.context import AppContext
    from service.inference.runtime.cache import ModelCache

    ctx = AppContext.from_settings(Settings(data_dir=data_dir))
    with ctx.session_factory() as session:
        cache = ModelCache(ctx.store, devices=(device,))
        model = cache.resolve(session, MODEL, "1").model

    def encode(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model.encode(torch.from_numpy(x).to(device)).cpu().numpy()

    return encode


def in_process_onnxruntime_encoder(
    data_dir: Path, device: str
) -> Callable[[np.ndarray], np.ndarray] | None:
    """(e) in ONNX Runtime: the served model's encode exported and run in a session as the
    service's CPU backend runs it (its threads: torch's); None on a GPU."""
    if device != "cpu":
        return None
    from service.config import Settings
    from service.context import AppContext
    from service.inference.backends.onnxruntime import OnnxRuntimeBackend
    from service.inference.runtime.cache import ModelCache

    ctx = AppContext.from_settings(Settings(data_dir=data_dir))
    with ctx.session_factory() as session:
        cache = ModelCache(ctx.store, devices=(device,))
        loaded = cache.resolve(session, MODEL, "1")
    backend = OnnxRuntimeBackend(loaded.model, device=device)

    def encode(x: np.ndarray) -> np.ndarray:
        return backend.run("encode", x)[0]

    return encode


def torch_rows_per_s(
    encode: Callable[[np.ndarray], np.ndarray], x: np.ndarray, repeats: int
) -> float:
    encode(x)
    start = time.perf_counter()
    for _ in range(repeats):
        encode(x)
    return repeats * len(x) / (time.perf_counter() - start)


def context_switches() -> int | None:
    """This process's voluntary context switches, all threads (Linux): a forward whose
    OpenMP workers sleep at the barriers (libgomp's throttled mode) makes about a dozen."""
    total = 0
    try:
        for task in Path("/proc/self/task").iterdir():
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches"):
                    total += int(line.split()[1])
    except OSError:
        return None
    return total


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One level's figures: the median over rounds of each, and every round's req/s."""
    return {
        "concurrency": rounds[0]["concurrency"],
        "requests": sum(r["requests"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "req_per_s": round(statistics.median(r["req_per_s"] for r in rounds), 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in rounds), 3),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in rounds), 3),
        "rounds_req_per_s": [r["req_per_s"] for r in rounds],
        "rounds_p50_ms": [r["p50_ms"] for r in rounds],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--requests", type=int, default=2000, help="per server, level and round")
    parser.add_argument("--rounds", type=int, default=5, help="medians over this many rounds")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--big-repeats", type=int, default=20)
    parser.add_argument(
        "--variant",
        metavar="AESVC_SETTING=VALUE",
        help="also measure (a) with this setting changed, as a_variant, in the same rounds "
        "(an A/B of one setting on the same machine)",
    )
    args = parser.parse_args()
    variant = args.variant.split("=", 1) if args.variant else None
    if variant is not None and (len(variant) != 2 or not variant[0].startswith("AESVC_")):
        parser.error("--variant takes AESVC_SETTING=VALUE")

    from service.allocator import tune_malloc
    from service.config import Settings
    from tests.live import LiveServer

    rows = np.load(io.BytesIO(_digits_npy()))
    one_row = json.dumps({"inputs": [rows[0].tolist()]}).encode()
    big = np.ascontiguousarray(np.resize(rows, (BIG_ROWS, rows.shape[1])), dtype=np.float32)
    results: dict[str, Any] = {}
    allocator: dict[str, int] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        t0 = time.perf_counter()
        train(data_dir, args.epochs)
        results["train_s"] = round(time.perf_counter() - t0, 1)
        env = {
            "AESVC_INFERENCE_DEVICE": args.device,
            "AESVC_LOG_LEVEL": "WARNING",
            "AESVC_OIP_SHARED_MEMORY": "true",  # (h)
        }
        service = LiveServer(Settings(data_dir=data_dir), workers=0, env=env).start()
        other = None
        if variant is not None:
            other_env = {**env, variant[0]: variant[1]}
            other = LiveServer(Settings(data_dir=data_dir), workers=0, env=other_env).start()
        naive, naive_base = start_helper("naive", data_dir, args.device)
        # (e) with the allocator settings `aesvc serve` uses: with glibc's defaults its
        # 4 MiB intermediates are mapped and unmapped per forward in some runs and not in
        # others, and (e) swings between 1.1 and 2.7 M rows/s from run to run
        allocator = tune_malloc(Settings().malloc_top_pad_bytes)
        torch_encode = in_process_encoder(data_dir, args.device)
        ort_encode = in_process_onnxruntime_encoder(data_dir, args.device)
        try:
            targets = {
                "a_service": service.base_url + ENCODE,
                "b_naive": naive_base + ENCODE,
                "c_echo": naive_base + "/echo",
            }
            if other is not None:
                targets["a_variant"] = other.base_url + ENCODE
            rounds: dict[str, dict[int, list[dict[str, Any]]]] = {
                name: {c: [] for c in LEVELS} for name in targets
            }
            for c in LEVELS:
                for _ in range(args.rounds):
                    for name, url in targets.items():
                        rounds[name][c].append(run_load(url, c, args.requests, one_row))
                for name in targets:
                    print(name, json.dumps(median_of(rounds[name][c])), flush=True)
            for name in targets:
                results[name] = [median_of(rounds[name][c]) for c in LEVELS]
            d_rounds, d4_rounds, e_rounds, f_rounds, g_rounds = [], [], [], [], []
            h_rounds, h4_rounds, eo_rounds = [], [], []
            e_switches: list[int] = []
            for _ in range(args.rounds):
                d_rounds.append(big_rows_per_s(service.base_url, big, args.big_repeats))
                d4_rounds.append(
                    big_rows_per_s(service.base_url, big, 2 * args.big_repeats, concurrency=4)
                )
                before = context_switches()
                e_rounds.append(torch_rows_per_s(torch_encode, big, args.big_repeats))
                after = context_switches()
                if before is not None and after is not None:
                    e_switches.append(after - before)
                if ort_encode is not None:
                    eo_rounds.append(torch_rows_per_s(ort_encode, big, args.big_repeats))
                f_rounds.append(big_rows_per_s(naive_base, big, args.big_repeats, ECHO_NPY))
                g_rounds.append(big_rows_per_s(naive_base, big, args.big_repeats, INLINE_NPY))
                h_rounds.append(shm_rows_per_s(service.base_url, big, args.big_repeats))
                h4_rounds.append(
                    shm_rows_per_s(service.base_url, big, 2 * args.big_repeats, concurrency=4)
                )
        finally:
            for server in (service, other):
                if server is not None:
                    server.stop()
                    server.cleanup()
            naive.terminate()
            naive.wait(30)
    d, e_torch = statistics.median(d_rounds), statistics.median(e_rounds)
    e_ort = statistics.median(eo_rounds) if eo_rounds else 0.0
    e = max(e_torch, e_ort)  # the fastest in-process runtime on the same model
    f = statistics.median(f_rounds)
    results["d_service_npy_rows_per_s"] = round(d)
    results["e_torch_rows_per_s"] = round(e_torch)
    results["e_onnxruntime_rows_per_s"] = round(e_ort)
    results["e_fastest_rows_per_s"] = round(e)
    results["e_onnxruntime_rounds"] = [round(v) for v in eo_rounds]
    results["f_npy_echo_rows_per_s"] = round(f)
    d4 = statistics.median(d4_rounds)
    results["d4_service_npy_rows_per_s_4_clients"] = round(d4)
    results["d_rounds"] = [round(v) for v in d_rounds]
    results["d4_rounds"] = [round(v) for v in d4_rounds]
    results["e_rounds"] = [round(v) for v in e_rounds]
    results["f_rounds"] = [round(v) for v in f_rounds]
    g = statistics.median(g_rounds)
    results["g_inline_npy_rows_per_s"] = round(g)
    results["g_rounds"] = [round(v) for v in g_rounds]
    h, h4 = statistics.median(h_rounds), statistics.median(h4_rounds)
    results["h_service_shm_rows_per_s"] = round(h)
    results["h4_service_shm_rows_per_s_4_clients"] = round(h4)
    results["h_rounds"] = [round(v) for v in h_rounds]
    results["h4_rounds"] = [round(v) for v in h4_rounds]
    # (e)'s own health: about 0 when its OpenMP workers spin between ops as they should
    results["e_context_switches_per_forward"] = [
        round(n / (args.big_repeats + 1), 1) for n in e_switches
    ]

    def at(name: str, c: int, key: str) -> float:
        return float(next(r[key] for r in results[name] if r["concurrency"] == c))

    results["ratios"] = {
        "a_over_c_req_per_s_c64 (target >= 0.85)": round(
            at("a_service", 64, "req_per_s") / at("c_echo", 64, "req_per_s"), 3
        ),
        "a_over_b_req_per_s_c64 (target >= 2)": round(
            at("a_service", 64, "req_per_s") / at("b_naive", 64, "req_per_s"), 3
        ),
        "a_p50_c1_over_c_p50_c1 (target <= 1.30)": round(
            at("a_service", 1, "p50_ms") / at("c_echo", 1, "p50_ms"), 3
        ),
        "d_over_e_rows_per_s (target >= 0.60)": round(d / e, 3),
        # (f) is (d) without the model: what HTTP and the .npy codec alone allow. 1/(1/f+1/e)
        # is the best (d) could do with no overhead of its own beyond those and the forward.
        # (d) again from 4 concurrent connections: bodies are read while the device computes
        "d4_over_e_rows_per_s_4_clients (no target)": round(d4 / e, 3),
        "d_over_f_rows_per_s (no target)": round(d / f, 3),
        "d_over_e_bound_from_f_and_e (no target)": round(f / (f + e), 3),
        # (g) is the least a server can do for (d): where d/g is about 1, the service's
        # batching and checks cost (d) nothing that HTTP on this machine does not
        "d_over_g_rows_per_s (no target)": round(d / g, 3),
        "g_over_e_rows_per_s (no target)": round(g / e, 3),
        # (h) is (d) with the tensors in shared memory instead of HTTP bodies
        "h_over_e_rows_per_s (no target)": round(h / e, 3),
        "h4_over_e_rows_per_s_4_clients (no target)": round(h4 / e, 3),
        "h_over_d_rows_per_s (no target)": round(h / d, 3),
    }
    if variant is not None:
        results["ratios"]["a_variant_over_c_req_per_s_c64 (no target)"] = round(
            at("a_variant", 64, "req_per_s") / at("c_echo", 64, "req_per_s"), 3
        )
        results["ratios"]["a_variant_p50_c1_over_c_p50_c1 (no target)"] = round(
            at("a_variant", 1, "p50_ms") / at("c_echo", 1, "p50_ms"), 3
        )
    results["setup"] = {
        "variant": "=".join(variant) if variant is not None else None,
        "device": args.device,
        "model": "digits dense AE 64-128-64-8, trained through the service",
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        "figures": "medians over the rounds; the servers take turns within each round",
        "request": "one-row JSON encode; (d) 8192-row .npy in and out, sequential "
        "(d4: from 4 connections); (h) the same rows through OIP system shared memory",
        "load_generator": "aiohttp in a separate process, on the same cores",
        "e_allocator": allocator or "glibc defaults (not glibc, or AESVC_MALLOC_TOP_PAD_BYTES=0)",
        "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "inference.json" if args.device == "cpu" else f"inference-{args.device}.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def _digits_npy() -> bytes:
    from sklearn.datasets import load_digits

    buffer = io.BytesIO()
    np.save(buffer, load_digits().data.astype(np.float32))
    return buffer.getvalue()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif len(sys.argv) > 1 and sys.argv[1] == "--load":
        body = sys.stdin.buffer.read()
        stats = asyncio.run(load(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), body))
        print(json.dumps(stats))
    else:
        main()
