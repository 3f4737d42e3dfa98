from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field
import json
from .. import types

from ..types import UNSET, Unset

from ..types import File, FileTypes
from ..types import UNSET, Unset
from io import BytesIO






T = TypeVar("T", bound="ImportModelVersionForm")



@_attrs_define
class ImportModelVersionForm:
    """ 
        Attributes:
            file (File): Weights and preprocessing, safetensors
            config (str | Unset): Config JSON {spec, n_features, image_shape, format_version}; optional when the file's
                metadata holds it under 'config'
            metrics (str | Unset): Metrics JSON object (the anomaly threshold, the coding statistics); optional, and taken
                from the file's metadata under 'metrics' without it (the service's own exports hold the ones scoring and
                generating read)
     """

    file: File
    config: str | Unset = UNSET
    metrics: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()


        config = self.config

        metrics = self.metrics


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "file": file,
        })
        if config is not UNSET:
            field_dict["config"] = config
        if metrics is not UNSET:
            field_dict["metrics"] = metrics

        return field_dict


    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))



        if not isinstance(self.config, Unset):
            files.append(("config", (None, str(self.config).encode(), "text/plain")))



        if not isinstance(self.metrics, Unset):
            files.append(("metrics", (None, str(self.metrics).encode(), "text/plain")))




        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))



        return files


    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(
             payload = BytesIO(d.pop("file"))
        )




        config = d.pop("config", UNSET)

        metrics = d.pop("metrics", UNSET)

        import_model_version_form = cls(
            file=file,
            config=config,
            metrics=metrics,
        )


        import_model_version_form.additional_properties = d
        return import_model_version_form

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
