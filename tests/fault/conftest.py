"""Fixtures of the fault tests that own a server: a throwaway PostgreSQL cluster."""

from __future__ import annotations

import contextlib
import glob
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live import free_port


@dataclass
class PostgresCluster:
    """A PostgreSQL server of this test alone, so that it may be stopped and started."""

    bin_dir: Path
    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str, timeout_s: float = 60.0) -> None:
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args]
        run_as_postgres(command, timeout_s=timeout_s)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=100"
        )
        self.pg_ctl("-l", str(self.data_dir / "log"), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "-w", "-t", "60", "stop")

    def log(self) -> str:
        path = self.data_dir / "log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def run_as_postgres(command: list[str], *, timeout_s: float) -> None:
    """initdb and the server refuse to run as root: as root, they run as `postgres`."""
    if os.geteuid() == 0:
        command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed: {result.stderr or result.stdout}")


def postgres_bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if not found:
        pytest.fail(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install the "
            "`postgresql` package, as .ci/run does): the outage test starts its own cluster",
            pytrace=False,
        )
    return Path(found[-1]).parent


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


@pytest.fixture
def postgres_cluster() -> Iterator[PostgresCluster]:
    """initdb, start; always stopped (immediate) and removed at the end."""
    bin_dir = postgres_bin_dir()
    # Not under tmp_path: pytest's folders are private to root, and the server runs as
    # `postgres`. A folder of its own in /tmp, like scripts/ci_postgres.sh makes.
    data_dir = Path(tempfile.mkdtemp(prefix="aesvc-fault-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres", "postgres")
    cluster = PostgresCluster(bin_dir=bin_dir, data_dir=data_dir, port=free_port())
    try:
        run_as_postgres(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            timeout_s=120,
        )
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            cluster.stop("immediate")  # fails when never started, or already stopped
        shutil.rmtree(data_dir, ignore_errors=True)
