from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_status import JobStatus
from ..models.trial_public_status_type_1 import TrialPublicStatusType1
from typing import cast

if TYPE_CHECKING:
  from ..models.trial_public_metrics import TrialPublicMetrics
  from ..models.trial_public_params import TrialPublicParams





T = TypeVar("T", bound="TrialPublic")



@_attrs_define
class TrialPublic:
    """ 
        Attributes:
            code_size (int | None):
            error (None | str):
            job_id (None | str): Null until the trial is queued.
            kind (None | str):
            metrics (TrialPublicMetrics): val_mse and pca_val_mse (data units), train_time_s, epochs_run
            model_version (int | None):
            number (int):
            params (TrialPublicParams):
            status (JobStatus | TrialPublicStatusType1): The job's status; pending before it is queued, invalid where the
                spec was refused, skipped where the sweep ended first.
            train_time_s (float | None):
            value (float | None): The sweep's metric for this trial.
     """

    code_size: int | None
    error: None | str
    job_id: None | str
    kind: None | str
    metrics: TrialPublicMetrics
    model_version: int | None
    number: int
    params: TrialPublicParams
    status: JobStatus | TrialPublicStatusType1
    train_time_s: float | None
    value: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.trial_public_metrics import TrialPublicMetrics # noqa: PLC0415
        from ..models.trial_public_params import TrialPublicParams # noqa: PLC0415
        code_size: int | None
        code_size = self.code_size

        error: None | str
        error = self.error

        job_id: None | str
        job_id = self.job_id

        kind: None | str
        kind = self.kind

        metrics = self.metrics.to_dict()

        model_version: int | None
        model_version = self.model_version

        number = self.number

        params = self.params.to_dict()

        status: str
        if isinstance(self.status, JobStatus):
            status = self.status.value
        else:
            status = self.status.value


        train_time_s: float | None
        train_time_s = self.train_time_s

        value: float | None
        value = self.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "code_size": code_size,
            "error": error,
            "job_id": job_id,
            "kind": kind,
            "metrics": metrics,
            "model_version": model_version,
            "number": number,
            "params": params,
            "status": status,
            "train_time_s": train_time_s,
            "value": value,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.trial_public_metrics import TrialPublicMetrics # noqa: PLC0415
        from ..models.trial_public_params import TrialPublicParams # noqa: PLC0415
        d = dict(src_dict)
        def _parse_code_size(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        code_size = _parse_code_size(d.pop("code_size"))


        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))


        def _parse_job_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        job_id = _parse_job_id(d.pop("job_id"))


        def _parse_kind(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        kind = _parse_kind(d.pop("kind"))


        metrics = TrialPublicMetrics.from_dict(d.pop("metrics"))




        def _parse_model_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        model_version = _parse_model_version(d.pop("model_version"))


        number = d.pop("number")

        params = TrialPublicParams.from_dict(d.pop("params"))




        def _parse_status(data: object) -> JobStatus | TrialPublicStatusType1:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = JobStatus(data)



                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, str):
                raise TypeError()
            status_type_1 = TrialPublicStatusType1(data)



            return status_type_1

        status = _parse_status(d.pop("status"))


        def _parse_train_time_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        train_time_s = _parse_train_time_s(d.pop("train_time_s"))


        def _parse_value(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        value = _parse_value(d.pop("value"))


        trial_public = cls(
            code_size=code_size,
            error=error,
            job_id=job_id,
            kind=kind,
            metrics=metrics,
            model_version=model_version,
            number=number,
            params=params,
            status=status,
            train_time_s=train_time_s,
            value=value,
        )


        trial_public.additional_properties = d
        return trial_public

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
