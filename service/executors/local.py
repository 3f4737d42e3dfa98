"""Local executor: a supervisor in the API process and one worker process per device.

The worker processes are started with `spawn` (no forked torch or database state), pinned
to one GPU each with CUDA_VISIBLE_DEVICES, restarted when they die, and they exit when
their parent does. `aesvc worker` runs the same loop standalone.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess

from service.config import Settings
from service.executors.memory import MemoryCgroup

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
MAX_UNAVAILABLE_BACKOFF_S = 5.0


def worker_loop(
    settings: Settings, *, stopping: threading.Event, max_jobs: int | None = None
) -> int:
    """Poll, claim, run; returns the number of jobs run.

    A database outage does not end the loop: polling backs off (up to
    MAX_UNAVAILABLE_BACKOFF_S) and resumes when the database answers again.
    """
    from service.context import AppContext
    from service.database import first_line, is_database_unavailable
    from service.datasets.service import ABANDONED_AFTER_LEASES, sweep_abandoned_uploads
    from service.training import lifecycle
    from service.training.runner import run_job

    ctx = AppContext.from_settings(settings)
    ctx.sweep_abandoned_temp_files()
    host, pid = socket.gethostname(), os.getpid()
    owner = f"{host}:{pid}:{uuid.uuid4().hex[:8]}"
    ran = 0
    next_reap = 0.0
    backoff_s = settings.poll_interval_s
    try:
        while not stopping.is_set() and (max_jobs is None or ran < max_jobs):
            try:
                if time.monotonic() >= next_reap:
                    lifecycle.requeue_stale_jobs(
                        ctx.engine,
                        ctx.session_factory,
                        lease_timeout_s=settings.lease_timeout_s,
                        store=ctx.store,
                    )
                    sweep_abandoned_uploads(
                        ctx.session_factory,
                        ctx.store,
                        stale_after_s=ABANDONED_AFTER_LEASES * settings.lease_timeout_s,
                    )
                    next_reap = time.monotonic() + max(settings.lease_timeout_s / 4, 0.5)
                job = lifecycle.claim_next_job(ctx.session_factory, owner=owner, host=host, pid=pid)
            except Exception as exc:
                if not is_database_unavailable(exc):
                    raise
                log.warning(
                    "worker %s: database unavailable; polling again in %.1f s: %s",
                    owner,
                    backoff_s,
                    first_line(exc),
                )
                stopping.wait(backoff_s)
                backoff_s = min(backoff_s * 2, MAX_UNAVAILABLE_BACKOFF_S)
                # Heartbeats could not land during the outage either: reaping right after
                # it would take jobs from workers that are alive and well.
                next_reap = time.monotonic() + settings.lease_timeout_s
                continue
            backoff_s = settings.poll_interval_s
            if job is None:
                stopping.wait(settings.poll_interval_s)
                continue
            log.info("worker %s runs job %s (attempt %s)", owner, job.id, job.attempt)
            try:
                status = run_job(
                    factory=ctx.session_factory,
                    store=ctx.store,
                    job=job,
                    owner=owner,
                    heartbeat_interval_s=settings.heartbeat_interval_s,
                    checkpoint_every_s=settings.checkpoint_every_s,
                    batch_record_every_s=settings.batch_record_every_s,
                    inference_backend=settings.inference_backend,
                    stopping=stopping,
                )
            except Exception as exc:
                if not is_database_unavailable(exc):
                    raise
                # Retried for minutes already: the lease runs out and the reaper requeues it.
                log.error("job %s: database unavailable for too long; left to its lease", job.id)
                status = None
            log.info("job %s left as %s", job.id, status or "lost (no longer this worker's)")
            ran += 1
            if job.sweep_id is not None:  # a sweep's trial: queue its next one now
                from service.sweeps.background import after_trial

                after_trial(ctx.session_factory, ctx.store, settings, job.sweep_id)
    finally:
        ctx.close()
    return ran


def _die_with_parent(parent_pid: int, stopping: threading.Event) -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass

    def watch() -> None:
        while not stopping.wait(1.0):
            if os.getppid() != parent_pid:
                log.warning("parent %s is gone; worker stops", parent_pid)
                stopping.set()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def install_stop_signals(stopping: threading.Event) -> None:
    """SIGTERM and SIGINT set `stopping`, through a pipe to a thread of their own.

    The handler takes no lock: Python runs it between any two bytecodes of the main thread,
    which may be inside `stopping.set()` for an earlier signal at that moment (a worker gets
    SIGTERM from its pool and from its process group together). Event.set takes the event's
    lock, which is not reentrant: set from the handler itself, the second signal deadlocked
    the worker inside the first one's set() (seen: a stop waited out its 30 s grace period).
    Logging, which takes locks too, moves to the same thread."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)

    def handle(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):  # the pipe is full: the relay knows already
            os.write(write_fd, bytes([signum]))

    def relay() -> None:
        signum = os.read(read_fd, 1)[0]
        stopping.set()
        log.info("signal %s: finishing the current epoch's checkpoint and handing back", signum)

    threading.Thread(target=relay, name="stop-signal", daemon=True).start()
    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def worker_process_main(
    settings_json: str, cuda_device: str | None, parent_pid: int, cpu_threads: int
) -> None:
    """Entry point of a spawned worker process."""
    if cuda_device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = cuda_device
    import torch

    # CPU workers share the cores instead of each starting one thread per core.
    torch.set_num_threads(cpu_threads)
    from service.logs import configure_logging

    settings = Settings.model_validate_json(settings_json)
    configure_logging(settings.log_level)
    stopping = threading.Event()
    install_stop_signals(stopping)
    _die_with_parent(parent_pid, stopping)
    worker_loop(settings, stopping=stopping)


def worker_slots(settings: Settings) -> list[str | None]:
    """One slot per CUDA device, else AESVC_WORKERS CPU workers."""
    if settings.workers == 0:
        return []
    import torch

    if torch.cuda.is_available():
        return [str(i) for i in range(torch.cuda.device_count())]
    return [None] * settings.workers


@dataclass
class _Slot:
    cuda_device: str | None
    process: SpawnProcess | None = None
    restarts: int = 0
    next_start: float = 0.0
    cgroup: MemoryCgroup | None = None
    oom_kills_at_start: int = 0


@dataclass
class WorkerPool:
    """`on_oom_kill(pid, error)` is told of a worker the kernel killed for memory (the API
    fails that worker's jobs instead of leaving them to be retried)."""

    settings: Settings
    on_oom_kill: Callable[[int, str], None] | None = None
    slots: list[_Slot] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        own = MemoryCgroup.of_process()
        limit = self.settings.worker_memory_bytes
        self.slots = []
        for i, device in enumerate(worker_slots(self.settings)):
            cgroup = own
            if own is not None and limit is not None:
                cgroup = own.child(f"aesvc-worker-{os.getpid()}-{i}", limit) or own
            self.slots.append(_Slot(cuda_device=device, cgroup=cgroup))
        started = threading.Event()
        # The supervisor thread spawns every process itself: a worker's parent-death signal
        # fires when the *thread* that started it ends, so that must be a long-lived one.
        self._thread = threading.Thread(
            target=self._supervise, args=(started,), name="worker-supervisor", daemon=True
        )
        self._thread.start()
        started.wait(timeout=60)

    def _start(self, slot: _Slot) -> None:
        context = multiprocessing.get_context("spawn")
        slot.process = context.Process(
            target=worker_process_main,
            args=(
                self.settings.model_dump_json(),
                slot.cuda_device,
                os.getpid(),
                max(1, (os.cpu_count() or 1) // max(1, len(self.slots))),
            ),
            name=f"aesvc-worker-{slot.cuda_device or 'cpu'}",
            daemon=False,
        )
        if slot.cgroup is not None:
            slot.oom_kills_at_start = slot.cgroup.oom_kills()
        slot.process.start()
        if slot.cgroup is not None and slot.process.pid is not None:
            slot.cgroup.add(slot.process.pid)
        log.info("started worker pid %s (device %s)", slot.process.pid, slot.cuda_device or "cpu")

    def _supervise(self, started: threading.Event) -> None:
        for slot in self.slots:
            self._start(slot)
        started.set()
        while not self._stopping.wait(0.5):
            for slot in self.slots:
                process = slot.process
                if process is None or process.is_alive():
                    continue
                now = time.monotonic()
                if slot.next_start == 0.0:
                    log.warning(
                        "worker pid %s exited with %s; restarting", process.pid, process.exitcode
                    )
                    self._tell_if_oom_killed(slot, process)
                    slot.next_start = now + self.settings.worker_restart_delay_s
                if now >= slot.next_start and not self._stopping.is_set():
                    slot.restarts += 1
                    slot.next_start = 0.0
                    self._start(slot)

    def _tell_if_oom_killed(self, slot: _Slot, process: SpawnProcess) -> None:
        if process.exitcode != -signal.SIGKILL or slot.cgroup is None or process.pid is None:
            return
        if slot.cgroup.oom_kills() <= slot.oom_kills_at_start:
            return  # killed by someone else: its job resumes from its checkpoint
        error = (
            f"out of memory: worker pid {process.pid} was killed by the kernel's OOM killer "
            f"(memory cgroup {slot.cgroup.path})"
        )
        log.error("%s", error)
        if self.on_oom_kill is not None:
            try:
                self.on_oom_kill(process.pid, error)
            except Exception:  # the database may be down: the lease reaper retries the job
                log.exception("could not fail the jobs of worker pid %s", process.pid)

    def alive(self) -> bool:
        return all(slot.process is not None and slot.process.is_alive() for slot in self.slots)

    def pids(self) -> list[int]:
        return [slot.process.pid for slot in self.slots if slot.process and slot.process.pid]

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM every worker (they hand their jobs back), then wait, then kill."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for slot in self.slots:
            if slot.process is not None and slot.process.is_alive():
                slot.process.terminate()
        deadline = time.monotonic() + timeout_s
        for slot in self.slots:
            if slot.process is None:
                continue
            slot.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(timeout=5)
        for slot in self.slots:
            if slot.cgroup is not None and slot.cgroup.path.name.startswith("aesvc-worker-"):
                slot.cgroup.remove()
