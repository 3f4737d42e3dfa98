from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_status import JobStatus
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.job_progress import JobProgress
  from ..models.job_public_attempt_errors_item import JobPublicAttemptErrorsItem
  from ..models.model_spec import ModelSpec
  from ..models.worker_info import WorkerInfo





T = TypeVar("T", bound="JobPublic")



@_attrs_define
class JobPublic:
    """ 
        Attributes:
            attempt (int):
            attempt_errors (list[JobPublicAttemptErrorsItem]):
            created_at (datetime.datetime):
            dataset_id (None | str):
            error (None | str):
            finished_at (datetime.datetime | None):
            id (str):
            max_attempts (int):
            model (str):
            model_name (str): 0.x name of `model`.
            model_version (int | None):
            priority (int):
            progress (JobProgress | None):
            spec (ModelSpec): Everything needed to rebuild and retrain a model, apart from its data.
            started_at (datetime.datetime | None):
            status (JobStatus): A job's state: queued -> running -> succeeded | failed. A cancel moves a running job
                to cancelling, then cancelled; a queued one straight to cancelled.
            worker (None | WorkerInfo): Set while the job runs.
            sweep_id (None | str | Unset): The sweep this job is a trial of.
     """

    attempt: int
    attempt_errors: list[JobPublicAttemptErrorsItem]
    created_at: datetime.datetime
    dataset_id: None | str
    error: None | str
    finished_at: datetime.datetime | None
    id: str
    max_attempts: int
    model: str
    model_name: str
    model_version: int | None
    priority: int
    progress: JobProgress | None
    spec: ModelSpec
    started_at: datetime.datetime | None
    status: JobStatus
    worker: None | WorkerInfo
    sweep_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.job_progress import JobProgress # noqa: PLC0415
        from ..models.job_public_attempt_errors_item import JobPublicAttemptErrorsItem # noqa: PLC0415
        from ..models.model_spec import ModelSpec # noqa: PLC0415
        from ..models.worker_info import WorkerInfo # noqa: PLC0415
        attempt = self.attempt

        attempt_errors = []
        for attempt_errors_item_data in self.attempt_errors:
            attempt_errors_item = attempt_errors_item_data.to_dict()
            attempt_errors.append(attempt_errors_item)



        created_at = self.created_at.isoformat()

        dataset_id: None | str
        dataset_id = self.dataset_id

        error: None | str
        error = self.error

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        id = self.id

        max_attempts = self.max_attempts

        model = self.model

        model_name = self.model_name

        model_version: int | None
        model_version = self.model_version

        priority = self.priority

        progress: dict[str, Any] | None
        if isinstance(self.progress, JobProgress):
            progress = self.progress.to_dict()
        else:
            progress = self.progress

        spec = self.spec.to_dict()

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        status = self.status.value

        worker: dict[str, Any] | None
        if isinstance(self.worker, WorkerInfo):
            worker = self.worker.to_dict()
        else:
            worker = self.worker

        sweep_id: None | str | Unset
        if isinstance(self.sweep_id, Unset):
            sweep_id = UNSET
        else:
            sweep_id = self.sweep_id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "attempt": attempt,
            "attempt_errors": attempt_errors,
            "created_at": created_at,
            "dataset_id": dataset_id,
            "error": error,
            "finished_at": finished_at,
            "id": id,
            "max_attempts": max_attempts,
            "model": model,
            "model_name": model_name,
            "model_version": model_version,
            "priority": priority,
            "progress": progress,
            "spec": spec,
            "started_at": started_at,
            "status": status,
            "worker": worker,
        })
        if sweep_id is not UNSET:
            field_dict["sweep_id"] = sweep_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_progress import JobProgress # noqa: PLC0415
        from ..models.job_public_attempt_errors_item import JobPublicAttemptErrorsItem # noqa: PLC0415
        from ..models.model_spec import ModelSpec # noqa: PLC0415
        from ..models.worker_info import WorkerInfo # noqa: PLC0415
        d = dict(src_dict)
        attempt = d.pop("attempt")

        attempt_errors = []
        _attempt_errors = d.pop("attempt_errors")
        for attempt_errors_item_data in (_attempt_errors):
            attempt_errors_item = JobPublicAttemptErrorsItem.from_dict(attempt_errors_item_data)



            attempt_errors.append(attempt_errors_item)


        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_dataset_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        dataset_id = _parse_dataset_id(d.pop("dataset_id"))


        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))


        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)



                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))


        id = d.pop("id")

        max_attempts = d.pop("max_attempts")

        model = d.pop("model")

        model_name = d.pop("model_name")

        def _parse_model_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        model_version = _parse_model_version(d.pop("model_version"))


        priority = d.pop("priority")

        def _parse_progress(data: object) -> JobProgress | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                progress_type_0 = JobProgress.from_dict(data)



                return progress_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobProgress | None, data)

        progress = _parse_progress(d.pop("progress"))


        spec = ModelSpec.from_dict(d.pop("spec"))




        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)



                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))


        status = JobStatus(d.pop("status"))




        def _parse_worker(data: object) -> None | WorkerInfo:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                worker_type_0 = WorkerInfo.from_dict(data)



                return worker_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | WorkerInfo, data)

        worker = _parse_worker(d.pop("worker"))


        def _parse_sweep_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        sweep_id = _parse_sweep_id(d.pop("sweep_id", UNSET))


        job_public = cls(
            attempt=attempt,
            attempt_errors=attempt_errors,
            created_at=created_at,
            dataset_id=dataset_id,
            error=error,
            finished_at=finished_at,
            id=id,
            max_attempts=max_attempts,
            model=model,
            model_name=model_name,
            model_version=model_version,
            priority=priority,
            progress=progress,
            spec=spec,
            started_at=started_at,
            status=status,
            worker=worker,
            sweep_id=sweep_id,
        )


        job_public.additional_properties = d
        return job_public

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
