"""A job whose epochs are long, through a real `aesvc serve` with one worker: how long it
shows no sign of life, how long a cancel takes to stop it mid-epoch, and what a SIGKILL of
its worker mid-epoch costs.

Three jobs on one streamed dataset (1.2 M rows x 16 features, 73 MB: chunked, read chunk by
chunk; batch_size 32 makes an epoch take ~20-30 s on 2 cores):
- quiet (2 epochs): the longest time GET /v1/jobs/{id}, polled every 0.2 s, shows no change
  of the job's status or progress while it runs, and the events it wrote;
- cancel: POST /v1/jobs/{id}/cancel `--into-epoch-s` into epoch 2, then the seconds until
  the job is `cancelled`;
- kill: SIGKILL of the worker `--into-epoch-s` into epoch 2 (lease timeout 10 s): the
  epochs attempt 2 trains, and when it has epoch 2 again.

    nice -n 19 .venv/bin/python benchmarks/long_epoch.py [--rows 1200000] [--label after]

`--label before` ran with PYTHONPATH at an export of the code before (git archive).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import signal
import sys
import tempfile
import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.config import Settings
from tests.live import LiveServer

RESULTS = Path(__file__).resolve().parent / "results" / "long_epoch.json"
TERMINAL = ("succeeded", "failed", "cancelled")


def spec(epochs: int, batch_size: int) -> dict[str, Any]:
    return {
        "architecture": {"code_size": 4, "hidden_sizes": [32], "linear_path": False},
        "training": {"epochs": epochs, "batch_size": batch_size, "early_stopping_patience": None},
    }


def upload(http: httpx.Client, rows: int) -> str:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 16)).astype(np.float32)
    X[:, 1] = 2 * X[:, 0] + 0.1 * X[:, 2]
    buffer = io.BytesIO()
    np.save(buffer, X)
    files = {"file": ("big.npy", buffer.getvalue(), "application/octet-stream")}
    answer = http.post("/v1/datasets", files=files, data={"name": "big"}, timeout=600)
    answer.raise_for_status()
    return str(answer.json()["id"])


class Watch:
    """GET /v1/jobs/{id} every 0.2 s: the time of each change of its progress or status."""

    def __init__(self, http: httpx.Client, job_id: str) -> None:
        self.http, self.job_id = http, job_id
        self.changes: list[tuple[float, str, dict[str, Any] | None]] = []
        self.job: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        seen: Any = None
        while True:
            job = self.http.get(f"/v1/jobs/{self.job_id}").json()
            self.job = job
            now = (job["status"], job["progress"], job["attempt"])
            if now != seen:
                seen = now
                self.changes.append((time.monotonic(), job["status"], job["progress"]))
            if job["status"] in TERMINAL:
                return
            time.sleep(0.2)

    def until(self, predicate: Any, timeout_s: float = 900) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.job and predicate(self.job):
                return time.monotonic()
            time.sleep(0.05)
        raise TimeoutError(f"job {self.job_id}: condition not met in {timeout_s} s")

    def join(self) -> None:
        self._thread.join()


def epoch_done(n: int, attempt: int = 1) -> Any:
    def check(job: dict[str, Any]) -> bool:
        p = job["progress"] or {}
        return bool(job["attempt"] == attempt and p.get("epoch", 0) >= n and p.get("batch") is None)

    return check


def quiet(http: httpx.Client, dataset: str, args: argparse.Namespace) -> dict[str, Any]:
    body = {"model": "quiet", "dataset": dataset, "spec": spec(2, args.batch_size)}
    job_id = http.post("/v1/jobs", json=body).json()["id"]
    watch = Watch(http, job_id)
    watch.join()
    times = [t for t, status, _ in watch.changes if status != "queued"]
    gaps = [b - a for a, b in pairwise(times)]
    epochs = [t for t, _, p in watch.changes if p is not None and p.get("batch") is None]
    return {
        "status": watch.job["status"],
        "changes_seen": len(times),
        "longest_silence_s": round(max(gaps), 1) if gaps else None,
        "running_to_first_report_s": round(times[1] - times[0], 1) if len(times) > 1 else None,
        "running_to_epoch_1_s": round(epochs[0] - times[0], 1) if epochs else None,
        "epoch_2_s": round(epochs[1] - epochs[0], 1) if len(epochs) > 1 else None,
        "last_epoch_to_succeeded_s": round(times[-1] - epochs[1], 1) if len(epochs) > 1 else None,
        "progress_events": _count_events(http, job_id, "progress"),
        "epoch_progress_events": _count_events(http, job_id, "epoch_progress"),
    }


def _count_events(http: httpx.Client, job_id: str, kind: str) -> int:
    with http.stream("GET", f"/v1/jobs/{job_id}/events") as answer:
        return sum(line == f"event: {kind}" for line in answer.iter_lines())


def cancel(http: httpx.Client, dataset: str, args: argparse.Namespace) -> dict[str, Any]:
    body = {"model": "cancel", "dataset": dataset, "spec": spec(4, args.batch_size)}
    job_id = http.post("/v1/jobs", json=body).json()["id"]
    watch = Watch(http, job_id)
    watch.until(epoch_done(1))
    time.sleep(args.into_epoch_s)
    asked = time.monotonic()
    http.post(f"/v1/jobs/{job_id}/cancel").raise_for_status()
    ended = watch.until(lambda job: job["status"] in TERMINAL)
    watch.join()
    return {
        "status": watch.job["status"],
        "cancel_to_cancelled_s": round(ended - asked, 1),
        "progress_at_end": watch.job["progress"],
    }


def kill(http: httpx.Client, dataset: str, args: argparse.Namespace) -> dict[str, Any]:
    body = {"model": "kill", "dataset": dataset, "spec": spec(3, args.batch_size)}
    job_id = http.post("/v1/jobs", json=body).json()["id"]
    watch = Watch(http, job_id)
    epoch_1 = watch.until(epoch_done(1))
    time.sleep(args.into_epoch_s)
    pid = watch.job["worker"]["pid"]
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    resumed = watch.until(lambda job: job["attempt"] == 2 and job["status"] == "running")
    again = watch.until(epoch_done(2, attempt=2))
    watch.until(lambda job: job["status"] in TERMINAL)
    watch.join()
    history = http.get(f"/v1/jobs/{job_id}/history").json()["epochs"]
    second = [h["epoch"] for h in history if h["attempt"] == 2]
    return {
        "status": watch.job["status"],
        "killed_into_epoch_2_s": round(killed - epoch_1, 1),
        "kill_to_attempt_2_s": round(resumed - killed, 1),
        "attempt_2_epochs": second,
        "epoch_2_done_after_kill_s": round(again - killed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_200_000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--into-epoch-s", type=float, default=10.0)
    parser.add_argument("--label", default="after")
    parser.add_argument("--only", choices=("quiet", "cancel", "kill"), action="append")
    args = parser.parse_args()
    result: dict[str, Any] = {
        "rows": args.rows,
        "batch_size": args.batch_size,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "started": time.strftime("%Y-%m-%d %H:%M"),
        "load_average_at_start": round(os.getloadavg()[0], 1),
    }
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var", lease_timeout_s=10.0, poll_interval_s=0.1)
        server = LiveServer(settings, workers=1).start()
        try:
            with server.client() as http:
                dataset = upload(http, args.rows)
                for name, run in (("quiet", quiet), ("cancel", cancel), ("kill", kill)):
                    if args.only and name not in args.only:
                        continue
                    result[name] = run(http, dataset, args)
                    print(name, json.dumps(result[name]), flush=True)
        finally:
            server.stop()
            server.cleanup()
    result["load_average_at_end"] = round(os.getloadavg()[0], 1)
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    saved.setdefault(args.label, {}).update(result)  # a part not run keeps its last figures
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(saved, indent=2) + "\n")


if __name__ == "__main__":
    main()
