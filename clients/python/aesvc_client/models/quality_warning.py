from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="QualityWarning")



@_attrs_define
class QualityWarning:
    """ This version is worse than a baseline: PCA at its code size, or an alias's version.

        Attributes:
            against (str): "pca", or "alias:NAME" for the version an alias names
            baseline_value (float):
            message (str):
            metric (str): The metric compared (lower is better).
            value (float): This version's figure.
            alias (None | str | Unset):
            version (int | None | Unset): The alias's version.
     """

    against: str
    baseline_value: float
    message: str
    metric: str
    value: float
    alias: None | str | Unset = UNSET
    version: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        against = self.against

        baseline_value = self.baseline_value

        message = self.message

        metric = self.metric

        value = self.value

        alias: None | str | Unset
        if isinstance(self.alias, Unset):
            alias = UNSET
        else:
            alias = self.alias

        version: int | None | Unset
        if isinstance(self.version, Unset):
            version = UNSET
        else:
            version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "against": against,
            "baseline_value": baseline_value,
            "message": message,
            "metric": metric,
            "value": value,
        })
        if alias is not UNSET:
            field_dict["alias"] = alias
        if version is not UNSET:
            field_dict["version"] = version

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        against = d.pop("against")

        baseline_value = d.pop("baseline_value")

        message = d.pop("message")

        metric = d.pop("metric")

        value = d.pop("value")

        def _parse_alias(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        alias = _parse_alias(d.pop("alias", UNSET))


        def _parse_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        version = _parse_version(d.pop("version", UNSET))


        quality_warning = cls(
            against=against,
            baseline_value=baseline_value,
            message=message,
            metric=metric,
            value=value,
            alias=alias,
            version=version,
        )


        quality_warning.additional_properties = d
        return quality_warning

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
