from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="FeatureStats")



@_attrs_define
class FeatureStats:
    """ 
        Attributes:
            max_ (list[float]):
            mean (list[float]):
            min_ (list[float]):
            std (list[float]):
     """

    max_: list[float]
    mean: list[float]
    min_: list[float]
    std: list[float]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        max_ = self.max_



        mean = self.mean



        min_ = self.min_



        std = self.std




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "max": max_,
            "mean": mean,
            "min": min_,
            "std": std,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        max_ = cast(list[float], d.pop("max"))


        mean = cast(list[float], d.pop("mean"))


        min_ = cast(list[float], d.pop("min"))


        std = cast(list[float], d.pop("std"))


        feature_stats = cls(
            max_=max_,
            mean=mean,
            min_=min_,
            std=std,
        )


        feature_stats.additional_properties = d
        return feature_stats

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
