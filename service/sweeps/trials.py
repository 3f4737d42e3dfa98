"""A trial as a job, and as the API shows it.

`queue_trial` is the one place a sweep makes a job (JobCreate's field names live only
here): the job is an ordinary one with `sweep_id` set, so claims, leases, resume, cancel,
the executors and the registry treat it like any other.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from service.registry.tables import ModelVersion
from service.sweeps.schemas import TrialPublic
from service.sweeps.tables import Sweep
from service.training.schemas import JobCreate, JobStatus
from service.training.service import add_event
from service.training.tables import Job
from service.zoo.spec import ModelSpec

METRIC_KEYS = ("val_mse", "pca_val_mse", "train_time_s", "epochs_run", "best_epoch")


def trial_body(sweep: Sweep, spec: ModelSpec) -> JobCreate:
    """The job request a trial stands for: the sweep's model and dataset, the trial's spec."""
    return JobCreate(
        model=sweep.model_name,
        dataset=sweep.dataset_id or "",
        spec=spec,
        priority=int(sweep.request.get("priority", 0)),
    )


def queue_trial(session: Session, sweep: Sweep, spec: ModelSpec) -> Job:
    """Add the trial's job, queued, in the caller's transaction (not committed here)."""
    body = trial_body(sweep, spec)
    job = Job(
        id=uuid.uuid4().hex,
        model_name=body.model_ref,
        dataset_id=sweep.dataset_id,
        spec=body.to_spec().model_dump(mode="json"),
        status=JobStatus.QUEUED,
        priority=body.priority,
        max_attempts=spec.training.max_attempts,
        attempt_errors=[],
        sweep_id=sweep.id,
        api_key_id=sweep.api_key_id,
    )
    session.add(job)
    session.flush()
    add_event(session, job.id, "state", {"status": JobStatus.QUEUED, "sweep_id": sweep.id})
    return job


def trial_public(
    trial: dict[str, Any], job: Job | None, version: ModelVersion | None, *, ended: bool
) -> TrialPublic:
    """A trial: its parameters from the sweep row, its state from its job and version."""
    metrics = {k: version.metrics.get(k) for k in METRIC_KEYS} if version is not None else {}
    status: Any
    if trial.get("invalid"):
        status = "invalid"
    elif job is not None:
        status = JobStatus(job.status)
    else:
        status = "skipped" if ended else "pending"
    error = trial.get("error") or (job.error if job is not None else None)
    return TrialPublic(
        number=trial["number"],
        params=trial.get("params") or {},
        job_id=trial.get("job_id"),
        status=status,
        model_version=job.model_version if job is not None else None,
        code_size=trial.get("code_size"),
        kind=trial.get("kind"),
        value=trial.get("value"),
        metrics=metrics,
        train_time_s=metrics.get("train_time_s"),
        error=error,
    )
