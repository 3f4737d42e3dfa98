"""Ray executor: each job runs in a detached Ray actor named after the job.

The API process only dispatches: it claims a queued job, then creates the actor
`aesvc-job-<id>` (get_if_exists, so a re-dispatch never starts a second run) with the
GPUs the job asks for. The actor runs the same `run_job` as a local worker (heartbeats,
per-epoch checkpoints, idempotent registration) and outlives the API. A reconciler
settles running Ray jobs whose actor is gone, on start and then periodically.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from service.config import Settings
from service.context import AppContext
from service.database import utcnow
from service.datasets.service import ABANDONED_AFTER_LEASES, sweep_abandoned_uploads
from service.training import lifecycle
from service.training.schemas import LEASED_STATES, JobStatus

log = logging.getLogger(__name__)
NAMESPACE = "aesvc"
OWNER_PREFIX = "ray:"
ACTOR_START_TIMEOUT_S = 120.0


def actor_name(job_id: str) -> str:
    return f"aesvc-job-{job_id}"


class JobActor:
    """Runs one job in a background thread, so that no caller owns the work."""

    def __init__(self, settings_json: str, job_id: str, owner: str) -> None:
        self.settings = node_local(Settings.model_validate_json(settings_json), job_id)
        self.job_id, self.owner = job_id, owner
        # the job's status as this actor left it (JobStatus), before it: "starting"; after
        # a lease it no longer holds, or an error: "lost"; no context (the store or the
        # database unreachable): "failed to start" (the actor exits; the job is requeued)
        self.status: str = "starting"
        self._thread = threading.Thread(target=self._run, name=f"job-{job_id[:8]}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from service.training.runner import run_job
        from service.training.tables import Job

        ctx = None
        try:  # the store unreachable at start too: the actor exits, and the job is requeued
            ctx = AppContext.from_settings(self.settings)
            if not lifecycle.adopt_job(
                ctx.session_factory,
                job_id=self.job_id,
                owner=self.owner,
                host=socket.gethostname(),
                pid=os.getpid(),
            ):
                self.status = "lost"
                return
            with ctx.session_factory() as session:
                job = session.get(Job, self.job_id)
            assert job is not None
            self.status = JobStatus.RUNNING
            outcome = run_job(
                factory=ctx.session_factory,
                store=ctx.store,
                job=job,
                owner=self.owner,
                heartbeat_interval_s=self.settings.heartbeat_interval_s,
                checkpoint_every_s=self.settings.checkpoint_every_s,
                batch_record_every_s=self.settings.batch_record_every_s,
                inference_backend=self.settings.inference_backend,
                stopping=threading.Event(),
            )
            self.status = outcome or "lost"
        except BaseException:
            self.status = "failed to start" if ctx is None else "lost"
            raise
        finally:
            if ctx is not None:
                ctx.close()
            _exit_actor()

    def state(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "status": self.status, "pid": os.getpid()}


def node_local(settings: Settings, job_id: str) -> Settings:
    """With PostgreSQL and an object store, a job needs no disk of the API's machine: its
    spool and read-through cache go to this node's temporary folder."""
    if settings.is_sqlite or not settings.artifact_in_object_store:
        return settings
    return settings.model_copy(update={"data_dir": Path(tempfile.gettempdir()) / "aesvc-ray"})


# The credentials of an object store reach the job actors on other nodes with the job
# (nodes with an instance role or workload identity need none of these).
FORWARDED_ENV_PREFIXES = ("AWS_", "GOOGLE_", "AZURE_", "AZURITE_")


def _runtime_env(settings: Settings) -> dict[str, Any] | None:
    if not settings.artifact_in_object_store:
        return None
    forwarded = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV_PREFIXES)}
    return {"env_vars": forwarded} if forwarded else None


def _exit_actor() -> None:
    """The job is settled: free the actor's name and its CPUs/GPUs for the next job."""
    ray = _ray()
    try:
        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)
    except Exception:
        os._exit(0)


def _ray() -> Any:
    import ray

    return ray


def connect(settings: Settings) -> None:
    ray = _ray()
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS", "auto")
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=False)


def find_actor(job_id: str) -> Any | None:
    ray = _ray()
    try:
        return ray.get_actor(actor_name(job_id), namespace=NAMESPACE)
    except ValueError:
        return None


def actor_alive(job_id: str) -> bool:
    # A named actor's name is released when it dies (max_restarts=0), so a lookup suffices.
    return find_actor(job_id) is not None


def _gpus_for(spec: dict[str, Any] | None) -> float:
    """The GPUs a job's actor asks for: the training spec's `gpus`, else one where the
    cluster has any. A batch job's spec is empty ({}): one GPU where there is one (its
    worker runs the model on CUDA where it sees a device), else none."""
    asked = ((spec or {}).get("training") or {}).get("gpus")
    if asked is not None:
        return float(asked)
    return 1.0 if _ray().cluster_resources().get("GPU", 0) >= 1 else 0.0


def dispatch(settings: Settings, job_id: str, owner: str, spec: dict[str, Any]) -> None:
    ray = _ray()
    remote_cls = ray.remote(JobActor)
    remote_cls.options(
        name=actor_name(job_id),
        namespace=NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        max_restarts=0,
        num_cpus=1,
        num_gpus=_gpus_for(spec),
        resources=settings.ray_job_resources or None,
        runtime_env=_runtime_env(settings),
    ).remote(portable_settings(settings).model_dump_json(), job_id, owner)


def portable_settings(settings: Settings) -> Settings:
    """Absolute paths: an actor's working directory is not the API's."""
    return settings.model_copy(
        update={
            "data_dir": settings.data_dir.resolve(),
            "database_url": settings.resolved_database_url,
            "artifact_url": settings.artifact_url
            if settings.artifact_in_object_store
            else str(settings.resolved_artifact_root),
        }
    )


def reconcile(ctx: AppContext) -> int:
    """Requeue running Ray jobs whose actor is gone; kill actors whose job has ended."""
    from sqlalchemy import select

    from service.training.tables import Job

    settled = 0
    # A just-dispatched actor may not be registered yet: judge only leases that are not fresh.
    grace_s = max(5.0, 3 * ctx.settings.heartbeat_interval_s)
    cutoff = utcnow() - timedelta(seconds=grace_s)
    with ctx.session_factory() as session:
        running = session.execute(
            select(Job.id, Job.lease_owner).where(
                Job.status.in_(LEASED_STATES),
                Job.lease_owner.like(f"{OWNER_PREFIX}%"),
                Job.heartbeat_at < cutoff,
            )
        ).all()
    for job_id, owner in running:
        if owner is not None and not actor_alive(job_id):
            error = "its Ray actor is gone (worker process or node died)"
            if lifecycle.retry_or_fail(
                ctx.session_factory, job_id=job_id, owner=owner, error=error, store=ctx.store
            ):
                settled += 1
    return settled


class RayDispatcher:
    """Claims queued jobs while the cluster has room and hands each to its own actor."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ray-dispatcher", daemon=True)
        self.healthy = False
        self._pending: dict[str, tuple[str, float]] = {}

    def start(self) -> None:
        connect(self.settings)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive() and self.healthy

    def pids(self) -> list[int]:
        return []

    def stop(self, timeout_s: float = 10.0) -> None:
        # The actors are detached: they keep training while the API restarts.
        self._stopping.set()
        self._thread.join(timeout=timeout_s)

    def _has_room(self) -> bool:
        available = _ray().available_resources()
        return float(available.get("CPU", 0.0)) >= 1.0

    def _loop(self) -> None:
        ctx = AppContext.from_settings(self.settings)
        host, pid = socket.gethostname(), os.getpid()
        next_reconcile = 0.0
        try:
            while not self._stopping.is_set():
                try:
                    if time.monotonic() >= next_reconcile:
                        reconcile(ctx)
                        lifecycle.requeue_stale_jobs(
                            ctx.engine,
                            ctx.session_factory,
                            lease_timeout_s=self.settings.lease_timeout_s,
                            store=ctx.store,
                        )
                        sweep_abandoned_uploads(
                            ctx.session_factory,
                            ctx.store,
                            stale_after_s=ABANDONED_AFTER_LEASES * self.settings.lease_timeout_s,
                        )
                        next_reconcile = time.monotonic() + 1.0
                    self._renew_pending(ctx, pid)
                    self.healthy = True
                    if not self._has_room() or not self._dispatch_one(ctx, host, pid):
                        self._stopping.wait(self.settings.poll_interval_s)
                except Exception:
                    self.healthy = False
                    log.exception("ray dispatcher iteration failed")
                    self._stopping.wait(1.0)
        finally:
            ctx.close()

    def _renew_pending(self, ctx: AppContext, pid: int) -> None:
        """Hold the lease of a dispatched job until its actor adopts it (actor start-up on a
        busy cluster can outlast the lease), or give the job back if the actor never starts."""
        from service.training.tables import Job

        for job_id, (owner, since) in list(self._pending.items()):
            with ctx.session_factory() as session:
                row = session.get(Job, job_id)
                adopted = row is None or row.lease_owner != owner or row.worker_pid != pid
            if adopted:
                del self._pending[job_id]
            elif time.monotonic() - since > ACTOR_START_TIMEOUT_S:
                del self._pending[job_id]
                error = f"its Ray actor did not start within {ACTOR_START_TIMEOUT_S:g} s"
                lifecycle.retry_or_fail(
                    ctx.session_factory, job_id=job_id, owner=owner, error=error, store=ctx.store
                )
            else:
                lifecycle.heartbeat(ctx.session_factory, job_id=job_id, owner=owner)

    def _dispatch_one(self, ctx: AppContext, host: str, pid: int) -> bool:
        owner = f"{OWNER_PREFIX}{uuid.uuid4().hex[:12]}"
        job = lifecycle.claim_next_job(ctx.session_factory, owner=owner, host=host, pid=pid)
        if job is None:
            return False
        try:
            dispatch(self.settings, job.id, owner, job.spec)
            self._pending[job.id] = (owner, time.monotonic())
        except Exception as exc:
            log.exception("could not start a Ray actor for job %s", job.id)
            lifecycle.retry_or_fail(
                ctx.session_factory,
                job_id=job.id,
                owner=owner,
                error=f"ray: {exc}",
                store=ctx.store,
            )
        return True
