"""Telling a worker killed by the kernel's OOM killer from any other SIGKILL.

Both end the process with SIGKILL and leave no trace in it, so the pool asks the memory
cgroup: its `oom_kill` counter (cgroup v2 `memory.events`, v1 `memory.oom_control`) counts
the processes the kernel killed for memory. With `AESVC_WORKER_MEMORY_BYTES` each worker
runs in a cgroup of its own under the service's, capped at that size: the kernel then
kills that worker, never the API beside it, and the counter names the worker exactly.
Without it (or where the cgroup cannot be written) the pool reads the service's own
cgroup: a SIGKILLed worker while the counter rose is taken as killed for memory.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class MemoryCgroup:
    path: Path
    v2: bool

    @classmethod
    def of_process(cls, pid: int | str = "self") -> MemoryCgroup | None:
        """The memory cgroup a process is in, if this machine exposes one."""
        try:
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        except OSError:
            return None
        for line in lines:
            _, controllers, path = line.split(":", 2)
            if "memory" in controllers.split(","):  # cgroup v1, the memory hierarchy
                found = CGROUP_ROOT / "memory" / path.lstrip("/")
                if (found / "memory.oom_control").exists():
                    return cls(found, v2=False)
        for line in lines:
            if line.startswith("0::"):  # cgroup v2, one unified hierarchy
                found = CGROUP_ROOT / line[3:].lstrip("/")
                if (found / "memory.events").exists():
                    return cls(found, v2=True)
        return None

    def oom_kills(self) -> int:
        """How many processes the kernel killed for memory in this cgroup (0 if unreadable)."""
        name = "memory.events" if self.v2 else "memory.oom_control"
        try:
            text = (self.path / name).read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0

    def child(self, name: str, limit_bytes: int) -> MemoryCgroup | None:
        """A capped cgroup under this one, or None (logged) where it cannot be made."""
        path = self.path / name
        try:
            path.mkdir(exist_ok=True)
            limit = "memory.max" if self.v2 else "memory.limit_in_bytes"
            (path / limit).write_text(str(limit_bytes))
        except OSError as exc:
            log.warning(
                "AESVC_WORKER_MEMORY_BYTES: cannot make memory cgroup %s (%s); workers share "
                "the service's memory",
                path,
                exc,
            )
            return None
        return MemoryCgroup(path, self.v2)

    def add(self, pid: int) -> bool:
        try:
            (self.path / "cgroup.procs").write_text(str(pid))
        except OSError as exc:
            log.warning("cannot move worker pid %s into %s: %s", pid, self.path, exc)
            return False
        return True

    def remove(self) -> None:
        with contextlib.suppress(OSError):  # still has processes, or gone already
            os.rmdir(self.path)
