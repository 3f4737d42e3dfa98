"""A Ray cluster of several nodes on this machine, each node a `ray start --block` with a
temporary folder of its own: nodes share no disk, and one can be killed outright."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.live import free_port

# The head notices a dead node within about 2 s instead of Ray's default 15 s or more.
FAST_HEALTH_CHECKS = {
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_timeout_ms": "500",
    "RAY_health_check_failure_threshold": "3",
}


def ray_cli() -> str:
    return shutil.which("ray") or str(Path(sys.executable).parent / "ray")


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (Ray's workers are the raylet's children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


class RayNode:
    def __init__(self, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.temp_dir = Path(tempfile.mkdtemp(prefix="aesvc-ray-"))  # short: socket paths
        self.log = (log_dir / f"ray-node-{self.temp_dir.name}.log").open("ab")
        self.process = subprocess.Popen(
            [ray_cli(), "start", *args, f"--temp-dir={self.temp_dir}", "--block"],
            env=env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL, all at once: the `ray start` process, its raylet and their workers."""
        for pid in descendants(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def pids(self) -> list[int]:
        return descendants(self.process.pid)

    def cleanup(self) -> None:
        if self.process.poll() is None:
            self.kill()
        self.log.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


class RayCluster:
    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir, self.env = log_dir, env
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: list[RayNode] = []

    def start_head(self, num_cpus: int = 1) -> RayNode:
        args = [
            "--head",
            f"--port={self.port}",
            f"--num-cpus={num_cpus}",
            "--num-gpus=0",
            "--include-dashboard=false",
            f"--dashboard-port={free_port()}",
            "--disable-usage-stats",
        ]
        node = RayNode(args, {**self.env, **FAST_HEALTH_CHECKS}, self.log_dir)
        self.nodes.append(node)
        self.wait_for(lambda status: "CPU" in status)
        return node

    def add_node(self, resources: dict[str, float], env: dict[str, str]) -> RayNode:
        args = [
            f"--address={self.address}",
            "--num-cpus=1",
            "--num-gpus=0",
            f"--resources={json.dumps(resources)}",
            "--disable-usage-stats",
        ]
        node = RayNode(args, env, self.log_dir)
        self.nodes.append(node)
        name = next(iter(resources))
        self.wait_for(lambda status: f"0.0/1.0 {name}" in status or f"/1.0 {name}" in status)
        return node

    def status(self) -> str:
        result = subprocess.run(
            [ray_cli(), "status", f"--address={self.address}"],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env,
        )
        return result.stdout if result.returncode == 0 else ""

    def wait_for(self, ready: object, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ready(self.status()):  # type: ignore[operator]
                return
            time.sleep(0.5)
        raise TimeoutError(f"the Ray cluster at {self.address} did not get ready")

    def cleanup(self) -> None:
        for node in reversed(self.nodes):
            node.cleanup()
