from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.model_version_public_kind import ModelVersionPublicKind
from ..models.model_version_public_status import ModelVersionPublicStatus
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.model_spec import ModelSpec
  from ..models.model_version_public_metrics import ModelVersionPublicMetrics
  from ..models.quality_warning import QualityWarning





T = TypeVar("T", bound="ModelVersionPublic")



@_attrs_define
class ModelVersionPublic:
    """ 
        Attributes:
            aliases (list[str]):
            artifact_sha256 (str):
            code_size (int):
            created_at (datetime.datetime):
            dataset_id (None | str):
            dataset_sha256 (None | str):
            kind (ModelVersionPublicKind):
            metrics (ModelVersionPublicMetrics):
            model (str):
            n_features (int):
            service_version (str):
            size_bytes (int):
            source_job_id (None | str):
            spec (ModelSpec): Everything needed to rebuild and retrain a model, apart from its data.
            status (ModelVersionPublicStatus): ready, or archived once deleted
            torch_version (str):
            version (int):
            worse_than (list[QualityWarning] | Unset): Baselines this version is worse than (more than 1% higher error): PCA
                at the same code size, and the versions other aliases point at (same dataset). `latest` moves to the newest
                version even so.
     """

    aliases: list[str]
    artifact_sha256: str
    code_size: int
    created_at: datetime.datetime
    dataset_id: None | str
    dataset_sha256: None | str
    kind: ModelVersionPublicKind
    metrics: ModelVersionPublicMetrics
    model: str
    n_features: int
    service_version: str
    size_bytes: int
    source_job_id: None | str
    spec: ModelSpec
    status: ModelVersionPublicStatus
    torch_version: str
    version: int
    worse_than: list[QualityWarning] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.model_spec import ModelSpec # noqa: PLC0415
        from ..models.model_version_public_metrics import ModelVersionPublicMetrics # noqa: PLC0415
        from ..models.quality_warning import QualityWarning # noqa: PLC0415
        aliases = self.aliases



        artifact_sha256 = self.artifact_sha256

        code_size = self.code_size

        created_at = self.created_at.isoformat()

        dataset_id: None | str
        dataset_id = self.dataset_id

        dataset_sha256: None | str
        dataset_sha256 = self.dataset_sha256

        kind = self.kind.value

        metrics = self.metrics.to_dict()

        model = self.model

        n_features = self.n_features

        service_version = self.service_version

        size_bytes = self.size_bytes

        source_job_id: None | str
        source_job_id = self.source_job_id

        spec = self.spec.to_dict()

        status = self.status.value

        torch_version = self.torch_version

        version = self.version

        worse_than: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.worse_than, Unset):
            worse_than = []
            for worse_than_item_data in self.worse_than:
                worse_than_item = worse_than_item_data.to_dict()
                worse_than.append(worse_than_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "aliases": aliases,
            "artifact_sha256": artifact_sha256,
            "code_size": code_size,
            "created_at": created_at,
            "dataset_id": dataset_id,
            "dataset_sha256": dataset_sha256,
            "kind": kind,
            "metrics": metrics,
            "model": model,
            "n_features": n_features,
            "service_version": service_version,
            "size_bytes": size_bytes,
            "source_job_id": source_job_id,
            "spec": spec,
            "status": status,
            "torch_version": torch_version,
            "version": version,
        })
        if worse_than is not UNSET:
            field_dict["worse_than"] = worse_than

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.model_spec import ModelSpec # noqa: PLC0415
        from ..models.model_version_public_metrics import ModelVersionPublicMetrics # noqa: PLC0415
        from ..models.quality_warning import QualityWarning # noqa: PLC0415
        d = dict(src_dict)
        aliases = cast(list[str], d.pop("aliases"))


        artifact_sha256 = d.pop("artifact_sha256")

        code_size = d.pop("code_size")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_dataset_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        dataset_id = _parse_dataset_id(d.pop("dataset_id"))


        def _parse_dataset_sha256(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        dataset_sha256 = _parse_dataset_sha256(d.pop("dataset_sha256"))


        kind = ModelVersionPublicKind(d.pop("kind"))




        metrics = ModelVersionPublicMetrics.from_dict(d.pop("metrics"))




        model = d.pop("model")

        n_features = d.pop("n_features")

        service_version = d.pop("service_version")

        size_bytes = d.pop("size_bytes")

        def _parse_source_job_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        source_job_id = _parse_source_job_id(d.pop("source_job_id"))


        spec = ModelSpec.from_dict(d.pop("spec"))




        status = ModelVersionPublicStatus(d.pop("status"))




        torch_version = d.pop("torch_version")

        version = d.pop("version")

        _worse_than = d.pop("worse_than", UNSET)
        worse_than: list[QualityWarning] | Unset = UNSET
        if _worse_than is not UNSET:
            worse_than = []
            for worse_than_item_data in _worse_than:
                worse_than_item = QualityWarning.from_dict(worse_than_item_data)



                worse_than.append(worse_than_item)


        model_version_public = cls(
            aliases=aliases,
            artifact_sha256=artifact_sha256,
            code_size=code_size,
            created_at=created_at,
            dataset_id=dataset_id,
            dataset_sha256=dataset_sha256,
            kind=kind,
            metrics=metrics,
            model=model,
            n_features=n_features,
            service_version=service_version,
            size_bytes=size_bytes,
            source_job_id=source_job_id,
            spec=spec,
            status=status,
            torch_version=torch_version,
            version=version,
            worse_than=worse_than,
        )


        model_version_public.additional_properties = d
        return model_version_public

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
