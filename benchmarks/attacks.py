"""/healthz under cheap attacks (issue 22): slow clients, big JSON bodies, many event streams.

One `aesvc serve` (SQLite, no worker, the default limits) on loopback, an imported 64-feature
model, then phases of --phase-s seconds each. Throughout each phase one prober opens a new
connection to /healthz every 20 ms (5 s timeout) and records the answer time:

- idle: nothing else;
- slowloris: two processes open --slow-connections connections in all (21,000, as the
  issue's probe), each sending an unfinished request head and one more byte a second,
  opening a connection again when the server cuts it;
- big-json: four clients each sending 32 MB JSON encode bodies, one after the other;
- sse: --streams event streams of one job opened at once by one caller, held open;
- wide_dataset: --unread-gets connections each sending `GET /v1/datasets/{id}` (the full
  view of a 262,144-feature dataset, a 512x512 image set) and reading nothing, held open;
  the server's RSS growth and CPU seconds are recorded beside /healthz.

Target (issue 22): /healthz p99 <= 50 ms while 4 clients send 32 MB JSON bodies.

    .venv/bin/python benchmarks/attacks.py [--phase-s 10] [--slow-connections 21000]
        [--phases idle,slowloris,big_json,sse,wide_dataset]

Prints and saves benchmarks/results/attacks.json (or --out).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import multiprocessing
import os
import platform
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.config import Settings  # noqa: E402
from tests.live import LiveServer  # noqa: E402
from tests.registry.builders import model_blob  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "attacks.json"
BIG_JSON_TARGET_P99_MS = 50.0


def probe(port: int, seconds: float, results: Any) -> None:
    """In its own process (the attackers' threads would share its GIL): GET /healthz on a
    new connection every 20 ms, over a bare socket (httpx.get builds an SSL context per
    call, tens of ms on the client's side)."""
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    latencies_ms, failures = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(request)
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            ok = answer.startswith(b"HTTP/1.1 200")
        except OSError:
            ok = False
        latencies_ms.append((time.perf_counter() - started) * 1000)
        failures += not ok
        time.sleep(0.02)
    values = np.asarray(latencies_ms)
    results.put(
        {
            "probes": len(values),
            "failures": failures,
            "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p99_ms": round(float(np.percentile(values, 99)), 2),
            "max_ms": round(float(values.max()), 2),
            "over_1s": int((values > 1000).sum()),
        }
    )


def probed(server: LiveServer, seconds: float, attack: Any = None) -> dict[str, Any]:
    stop = threading.Event()
    extra: dict[str, Any] = {}
    attacker = None
    if attack is not None:
        attacker = threading.Thread(target=attack, args=(stop, extra), daemon=True)
        attacker.start()
        time.sleep(1.0)  # let the attack build up before measuring
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    prober = context.Process(target=probe, args=(server.port, seconds, results))
    prober.start()
    descriptors = [0]

    def count_descriptors() -> None:  # the server's open files, sockets included
        assert server.process is not None
        while prober.is_alive():
            with contextlib.suppress(OSError):
                count = len(os.listdir(f"/proc/{server.process.pid}/fd"))
                descriptors[0] = max(descriptors[0], count)
            time.sleep(0.2)

    counter = threading.Thread(target=count_descriptors, daemon=True)
    counter.start()
    healthz = results.get(timeout=seconds + 60)
    prober.join()
    counter.join()
    stop.set()
    if attacker is not None:
        attacker.join(timeout=30)
    return {"healthz": healthz, "server_descriptors_peak": descriptors[0], **extra}


def hold_connections(port: int, connections: int, seconds: float, results: Any) -> None:
    """One attacker process: open up to `connections` connections, each sending an
    unfinished request head, then one more byte on each every second; a connection the
    server cuts is opened again."""
    opened: list[socket.socket] = []
    refused: Counter[str] = Counter()
    cut = made = 0
    deadline = time.monotonic() + seconds
    next_trickle = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        if len(opened) < connections:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2)
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-slow: ")
                sock.setblocking(False)
                opened.append(sock)
                made += 1
            except OSError as exc:
                refused[type(exc).__name__] += 1
                time.sleep(0.01)
        else:
            time.sleep(0.01)
        if time.monotonic() >= next_trickle:
            next_trickle += 1.0
            alive = []
            for sock in opened:
                try:
                    sock.send(b"a")
                    alive.append(sock)
                except OSError:
                    cut += 1
                    sock.close()
            opened = alive
    results.put({"opened": made, "cut": cut, "connect_errors": dict(refused)})
    for sock in opened:
        sock.close()


def slowloris(port: int, connections: int, seconds: float) -> Any:
    """Two attacker processes (each is bound by its own descriptor limit), as the issue's."""

    def attack(stop: threading.Event, extra: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        processes = [
            context.Process(
                target=hold_connections, args=(port, connections // 2, seconds + 1.5, results)
            )
            for _ in range(2)
        ]
        for process in processes:
            process.start()
        reports = [results.get(timeout=seconds + 60) for _ in processes]
        for process in processes:
            process.join()
        errors: Counter[str] = Counter()
        for report in reports:
            errors.update(report["connect_errors"])
        extra.update(
            connections_opened=sum(r["opened"] for r in reports),
            cut_by_server=sum(r["cut"] for r in reports),
            connect_errors=dict(errors),
        )

    return attack


def big_json(base_url: str, body: bytes, clients: int) -> Any:
    def attack(stop: threading.Event, extra: dict[str, Any]) -> None:
        statuses = Counter[int]()

        def client() -> None:
            with httpx.Client(base_url=base_url, timeout=120) as http:
                while not stop.is_set():
                    response = http.post(
                        "/v1/models/attacked/versions/1/encode",
                        content=body,
                        headers={"Content-Type": "application/json"},
                    )
                    statuses[response.status_code] += 1

        threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        extra.update(body_mb=round(len(body) / 1e6, 1), clients=clients, answers=dict(statuses))

    return attack


def many_streams(base_url: str, job_id: str, streams: int) -> Any:
    def attack(stop: threading.Event, extra: dict[str, Any]) -> None:
        async def run() -> None:
            statuses = Counter[int]()
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(None)
            ) as session:

                async def one() -> None:
                    async with session.get(f"{base_url}/v1/jobs/{job_id}/events") as response:
                        statuses[response.status] += 1
                        while response.status == 200 and not stop.is_set():
                            with contextlib.suppress(TimeoutError):
                                await asyncio.wait_for(response.content.readany(), 0.5)

                await asyncio.gather(*(one() for _ in range(streams)), return_exceptions=True)
            extra.update(streams=streams, answers=dict(statuses))

        asyncio.run(run())

    return attack


def _rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith("VmRSS:"))


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wide_dataset(server: LiveServer, dataset_id: str, gets: int) -> Any:
    """`gets` connections each asking for the wide dataset's full view, reading nothing."""

    def attack(stop: threading.Event, extra: dict[str, Any]) -> None:
        assert server.process is not None
        pid = server.process.pid
        rss, cpu = _rss_bytes(pid), _cpu_s(pid)
        request = f"GET /v1/datasets/{dataset_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        socks = []
        peak = rss
        for _ in range(gets):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
            sock.connect(("127.0.0.1", server.port))
            sock.sendall(request.encode())
            socks.append(sock)
        while not stop.is_set():
            peak = max(peak, _rss_bytes(pid))
            time.sleep(0.1)
        extra.update(
            unread_gets=gets,
            rss_growth_peak_mb=round((peak - rss) / 1e6, 1),
            server_cpu_s=round(_cpu_s(pid) - cpu, 2),
        )
        for sock in socks:
            sock.close()

    return attack


def upload_wide(server: LiveServer) -> tuple[str, dict[str, Any]]:
    """The widest dataset allowed (4 rows of 262,144 features); its id, and what one read
    of its full view costs: bytes, seconds, server CPU seconds (the second of two reads)."""
    assert server.process is not None
    buffer = io.BytesIO()
    np.save(buffer, np.random.default_rng(0).random((4, 1 << 18), dtype=np.float32))
    with server.client() as http:
        created = http.post(
            "/v1/datasets",
            files={"file": ("wide.npy", buffer.getvalue(), "application/octet-stream")},
            data={"name": "wide"},
        )
        assert created.status_code == 201, created.text
        dataset_id = created.json()["id"]
        cost: dict[str, Any] = {}
        for _ in range(2):
            cpu, started = _cpu_s(server.process.pid), time.perf_counter()
            answer = http.get(f"/v1/datasets/{dataset_id}")
            cost = {
                "answer_mb": round(len(answer.content) / 1e6, 1),
                "get_s": round(time.perf_counter() - started, 3),
                "get_server_cpu_s": round(_cpu_s(server.process.pid) - cpu, 3),
            }
    return dataset_id, cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase-s", type=float, default=10.0)
    parser.add_argument("--slow-connections", type=int, default=21000)
    parser.add_argument("--json-mb", type=float, default=32.0)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--unread-gets", type=int, default=60)
    parser.add_argument("--phases", default="idle,slowloris,big_json,sse,wide_dataset")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    rows = int(args.json_mb * 1e6 / (64 * 19.3))
    body = orjson.dumps({"inputs": np.random.default_rng(0).random((rows, 64)).tolist()})
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "command": "benchmarks/attacks.py " + " ".join(sys.argv[1:]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        env = {"AESVC_BUILTIN_DATASETS": "true", "AESVC_MAX_REQUEST_ROWS": str(max(rows, 65536))}
        env["AESVC_MAX_QUEUE_ROWS"] = str(max(rows, 65536) * 8)
        server = LiveServer(Settings(data_dir=Path(tmp) / "var"), workers=0, env=env).start()
        try:
            blob, _ = model_blob(seed=0, n_features=64, code_size=8)
            with server.client() as http:
                imported = http.post(
                    "/v1/models/attacked/versions",
                    files={"file": ("m.safetensors", blob, "application/octet-stream")},
                )
                assert imported.status_code == 201, imported.text
                job = http.post(
                    "/v1/jobs",
                    json={"model_name": "m", "dataset": "digits", "architecture": {"code_size": 4}},
                ).json()
            phases = {
                "idle": None,
                "slowloris": slowloris(server.port, args.slow_connections, args.phase_s),
                "big_json": big_json(server.base_url, body, 4),
                "sse": many_streams(server.base_url, job["id"], args.streams),
            }
            if "wide_dataset" in args.phases.split(","):
                wide_id, results["wide_dataset_get"] = upload_wide(server)
                phases["wide_dataset"] = wide_dataset(server, wide_id, args.unread_gets)
            for name in args.phases.split(","):
                attack = phases[name]
                results[name] = probed(server, args.phase_s, attack)
                print(name, json.dumps(results[name]), flush=True)
                time.sleep(2)
        finally:
            server.stop()
            server.cleanup()
    if "big_json" in results:
        p99 = results["big_json"]["healthz"]["p99_ms"]
        results["big_json_target_met"] = p99 <= BIG_JSON_TARGET_P99_MS
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
