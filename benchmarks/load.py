"""A mixed load on a real server for a fixed time: throughput, latency, errors, memory.

One `aesvc serve` (SQLite, one local worker) on loopback, a tiny model trained through it,
then two phases, each a fixed time:

1. below capacity: an open-loop load at --rate requests/s, mixed like production traffic
   (inference of 1 to 64 rows in JSON and .npy over every operation, reads of jobs and
   models, a job submission every few seconds); the server's RSS is sampled throughout;
2. past capacity: --overload-clients closed-loop clients sending 2048-row requests to a
   row queue that holds only a few of them.

Targets (issue #9): below capacity zero errors; past capacity nothing but 200 and 503 with
Retry-After; RSS growth over the first phase (10 minutes by default) under 50 MB.

    .venv/bin/python benchmarks/load.py [--duration-s 600] [--rate 150] [--overload-s 30]

Prints and saves benchmarks/results/load.json (or --out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.config import Settings  # noqa: E402
from tests.factories import npy_bytes, wait_for_job  # noqa: E402
from tests.live import LiveServer  # noqa: E402

MODEL = "load-ae"
RESULTS = ROOT / "benchmarks" / "results" / "load.json"
RSS_GROWTH_TARGET_MB = 50.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def train_model(server: LiveServer) -> None:
    body = {
        "model_name": MODEL,
        "dataset": "digits",
        "architecture": {"kind": "dense", "code_size": 8, "hidden_sizes": [64]},
        "training": {"epochs": 3, "batch_size": 64},
    }
    with server.client() as http:
        job = http.post("/v1/jobs", json=body).json()
        done = wait_for_job(lambda path: http.get(path).json(), job["id"], timeout_s=300)
    if done["status"] != "succeeded":
        raise RuntimeError(f"training ended {done['status']}: {done.get('error')}")


class Mix:
    """The requests of the below-capacity phase, drawn with fixed weights and a seed."""

    def __init__(self, rows: np.ndarray, seed: int) -> None:
        self.rows = rows
        self.random = random.Random(seed)
        self.base = f"/v1/models/{MODEL}/versions/latest"
        self.kinds = [
            ("encode_json", 30),
            ("reconstruct_json", 15),
            ("score_json", 15),
            ("encode_npy", 10),
            ("generate", 5),
            ("interpolate", 5),
            ("read_jobs", 8),
            ("read_models", 7),
            ("read_version", 5),
        ]

    def draw(self) -> tuple[str, str, str, dict[str, Any]]:
        """(kind, method, path, aiohttp request keywords)"""
        kind = self.random.choices([k for k, _ in self.kinds], [w for _, w in self.kinds])[0]
        n = self.random.randint(1, 64)
        start = self.random.randrange(0, len(self.rows) - n)
        x = self.rows[start : start + n]
        if kind.endswith("_json"):
            op = kind.removesuffix("_json")
            return kind, "POST", f"{self.base}/{op}", {"json": {"inputs": x.tolist()}}
        if kind == "encode_npy":
            headers = {"content-type": "application/x-npy", "accept": "application/x-npy"}
            return kind, "POST", f"{self.base}/encode", {"data": npy_bytes(x), "headers": headers}
        if kind == "generate":
            body = {"n": n, "seed": self.random.randrange(1000)}
            return kind, "POST", f"{self.base}/generate", {"json": body}
        if kind == "interpolate":
            body = {"start": x[0].tolist(), "end": x[-1].tolist(), "steps": 8}
            return kind, "POST", f"{self.base}/interpolate", {"json": body}
        if kind == "read_jobs":
            return kind, "GET", "/v1/jobs?limit=20", {}
        if kind == "read_models":
            return kind, "GET", "/v1/models", {}
        return kind, "GET", f"/v1/models/{MODEL}/versions/latest", {}


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.by_kind: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()  # "status 503", "status 503 without Retry-After"...
        self.statuses: Counter[int] = Counter()

    async def send(
        self, http: aiohttp.ClientSession, kind: str, method: str, url: str, kw: dict[str, Any]
    ) -> None:
        start = time.perf_counter()
        try:
            async with http.request(method, url, **kw) as response:
                await response.read()
                status, headers = response.status, response.headers
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.latencies.append(time.perf_counter() - start)
            self.by_kind[kind] += 1
            self.errors[type(exc).__name__] += 1
            return
        self.latencies.append(time.perf_counter() - start)
        self.by_kind[kind] += 1
        self.statuses[status] += 1
        if status >= 400:
            retry = "" if "retry-after" in headers else " without Retry-After"
            self.errors[f"status {status}{retry}"] += 1

    def summary(self, seconds: float) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else None

        return {
            "requests": len(lat),
            "req_per_s": round(len(lat) / seconds, 1),
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": round(1000 * lat[-1], 2) if lat else None,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors_by_kind": dict(self.errors),
            "requests_by_kind": dict(self.by_kind),
        }


async def below_capacity(
    server: LiveServer, rows: np.ndarray, *, rate: float, duration_s: float, seed: int
) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """Open loop: a request every 1/rate s whatever the answers' latency; a job every 5 s."""
    mix = Mix(rows, seed)
    tally = Tally()
    pid = server.process.pid if server.process else 0
    rss: list[dict[str, float]] = []
    tasks: set[asyncio.Task[None]] = set()
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(server.base_url, timeout=timeout, connector=connector) as http:

        def send(kind: str, method: str, path: str, kw: dict[str, Any]) -> Any:
            return tally.send(http, kind, method, path, kw)

        started = time.perf_counter()
        next_job = next_rss = started
        i = 0
        while (now := time.perf_counter()) < started + duration_s:
            if now >= next_rss:
                rss.append({"t_s": round(now - started, 1), "rss_mb": round(rss_mb(pid), 1)})
                next_rss += 5.0
            if now >= next_job:
                body = {
                    "model_name": f"{MODEL}-load",
                    "dataset": "pca3d",
                    "architecture": {"code_size": 2, "hidden_sizes": [8]},
                    "training": {"epochs": 1, "batch_size": 64},
                }
                args = ("submit_job", "POST", "/v1/jobs", {"json": body})
                tasks.add(asyncio.ensure_future(send(*args)))
                next_job += 5.0
            tasks.add(asyncio.ensure_future(send(*mix.draw())))
            tasks = {t for t in tasks if not t.done()}
            i += 1
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    rss.append({"t_s": round(elapsed, 1), "rss_mb": round(rss_mb(pid), 1)})
    return tally.summary(elapsed), rss


async def past_capacity(
    server: LiveServer, rows: np.ndarray, *, clients: int, duration_s: float
) -> dict[str, Any]:
    """Closed loop, each client sending 2048-row encodes back to back."""
    tally = Tally()
    body = {"inputs": np.resize(rows, (2048, rows.shape[1])).tolist()}
    path = f"/v1/models/{MODEL}/versions/latest/encode"
    kw = {"data": json.dumps(body).encode(), "headers": {"content-type": "application/json"}}
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(server.base_url, timeout=timeout, connector=connector) as http:
        started = time.perf_counter()

        async def client() -> None:
            while time.perf_counter() < started + duration_s:
                await tally.send(http, "encode_2048_rows", "POST", path, kw)

        await asyncio.gather(*[client() for _ in range(clients)])
        elapsed = time.perf_counter() - started
    return tally.summary(elapsed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration-s", type=float, default=600.0, help="below-capacity phase")
    parser.add_argument("--rate", type=float, default=150.0, help="requests/s, below capacity")
    parser.add_argument("--overload-s", type=float, default=30.0)
    parser.add_argument("--overload-clients", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    from sklearn.datasets import load_digits

    rows = load_digits().data.astype(np.float32)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        env = {
            "AESVC_LOG_LEVEL": "WARNING",
            # a queue that holds four 2048-row requests: the overload phase fills it
            "AESVC_MAX_QUEUE_ROWS": "8192",
            "AESVC_MAX_REQUEST_ROWS": "4096",
        }
        server = LiveServer(Settings(data_dir=data_dir), workers=1, env=env).start()
        try:
            train_model(server)
            summary, rss = asyncio.run(
                below_capacity(
                    server, rows, rate=args.rate, duration_s=args.duration_s, seed=args.seed
                )
            )
            results["below_capacity"] = {"rate_target": args.rate, **summary}
            results["rss_mb"] = rss
            overload = asyncio.run(
                past_capacity(
                    server, rows, clients=args.overload_clients, duration_s=args.overload_s
                )
            )
            results["past_capacity"] = {"clients": args.overload_clients, **overload}
        finally:
            server.stop()
            server.cleanup()

    # growth from the first sample after a minute of warm-up (or the first, in short runs)
    warm = [s for s in rss if s["t_s"] >= 60] or rss
    growth = round(rss[-1]["rss_mb"] - warm[0]["rss_mb"], 1)
    past = results["past_capacity"]
    unexpected = {k: v for k, v in past["errors_by_kind"].items() if k != "status 503"}
    results["targets"] = {
        "below capacity: zero errors": not results["below_capacity"]["errors_by_kind"],
        "past capacity: only 200 and 503 with Retry-After": not unexpected
        and "503" in past["statuses"],
        f"RSS growth under {RSS_GROWTH_TARGET_MB:g} MB": growth < RSS_GROWTH_TARGET_MB,
    }
    results["rss_growth_mb"] = growth
    results["setup"] = {
        "duration_s": args.duration_s,
        "overload_s": args.overload_s,
        "server": "aesvc serve, SQLite, 1 local worker, max_queue_rows 8192",
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "rss_mb"}, indent=2))
    if not all(results["targets"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
