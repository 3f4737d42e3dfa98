from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.batch_operation import BatchOperation
from ..models.job_status import JobStatus
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.batch_job_public_attempt_errors_item import BatchJobPublicAttemptErrorsItem
  from ..models.batch_progress import BatchProgress
  from ..models.worker_info import WorkerInfo





T = TypeVar("T", bound="BatchJobPublic")



@_attrs_define
class BatchJobPublic:
    """ 
        Attributes:
            attempt (int):
            attempt_errors (list[BatchJobPublicAttemptErrorsItem]):
            created_at (datetime.datetime):
            dataset_id (None | str):
            error (None | str):
            finished_at (datetime.datetime | None):
            id (str):
            max_attempts (int):
            model (str):
            operation (BatchOperation): What each row of the output holds: `encode` its codings (a VAE: their means),
                `reconstruct` its reconstruction in the data's units, `score` its anomaly score.
            output (str): Name of the dataset the job creates
            output_dataset_id (None | str): Set when the job has succeeded
            priority (int):
            progress (BatchProgress | None):
            started_at (datetime.datetime | None):
            status (JobStatus): A job's state: queued -> running -> succeeded | failed. A cancel moves a running job
                to cancelling, then cancelled; a queued one straight to cancelled.
            version (int): The version that runs (the ref resolved at submission)
            worker (None | WorkerInfo): Set while the job runs.
     """

    attempt: int
    attempt_errors: list[BatchJobPublicAttemptErrorsItem]
    created_at: datetime.datetime
    dataset_id: None | str
    error: None | str
    finished_at: datetime.datetime | None
    id: str
    max_attempts: int
    model: str
    operation: BatchOperation
    output: str
    output_dataset_id: None | str
    priority: int
    progress: BatchProgress | None
    started_at: datetime.datetime | None
    status: JobStatus
    version: int
    worker: None | WorkerInfo
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.batch_job_public_attempt_errors_item import BatchJobPublicAttemptErrorsItem # noqa: PLC0415
        from ..models.batch_progress import BatchProgress # noqa: PLC0415
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

        operation = self.operation.value

        output = self.output

        output_dataset_id: None | str
        output_dataset_id = self.output_dataset_id

        priority = self.priority

        progress: dict[str, Any] | None
        if isinstance(self.progress, BatchProgress):
            progress = self.progress.to_dict()
        else:
            progress = self.progress

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        status = self.status.value

        version = self.version

        worker: dict[str, Any] | None
        if isinstance(self.worker, WorkerInfo):
            worker = self.worker.to_dict()
        else:
            worker = self.worker


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
            "operation": operation,
            "output": output,
            "output_dataset_id": output_dataset_id,
            "priority": priority,
            "progress": progress,
            "started_at": started_at,
            "status": status,
            "version": version,
            "worker": worker,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.batch_job_public_attempt_errors_item import BatchJobPublicAttemptErrorsItem # noqa: PLC0415
        from ..models.batch_progress import BatchProgress # noqa: PLC0415
        from ..models.worker_info import WorkerInfo # noqa: PLC0415
        d = dict(src_dict)
        attempt = d.pop("attempt")

        attempt_errors = []
        _attempt_errors = d.pop("attempt_errors")
        for attempt_errors_item_data in (_attempt_errors):
            attempt_errors_item = BatchJobPublicAttemptErrorsItem.from_dict(attempt_errors_item_data)



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

        operation = BatchOperation(d.pop("operation"))




        output = d.pop("output")

        def _parse_output_dataset_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        output_dataset_id = _parse_output_dataset_id(d.pop("output_dataset_id"))


        priority = d.pop("priority")

        def _parse_progress(data: object) -> BatchProgress | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                progress_type_0 = BatchProgress.from_dict(data)



                return progress_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchProgress | None, data)

        progress = _parse_progress(d.pop("progress"))


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




        version = d.pop("version")

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


        batch_job_public = cls(
            attempt=attempt,
            attempt_errors=attempt_errors,
            created_at=created_at,
            dataset_id=dataset_id,
            error=error,
            finished_at=finished_at,
            id=id,
            max_attempts=max_attempts,
            model=model,
            operation=operation,
            output=output,
            output_dataset_id=output_dataset_id,
            priority=priority,
            progress=progress,
            started_at=started_at,
            status=status,
            version=version,
            worker=worker,
        )


        batch_job_public.additional_properties = d
        return batch_job_public

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
