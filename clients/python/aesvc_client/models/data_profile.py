from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="DataProfile")



@_attrs_define
class DataProfile:
    """ 
        Attributes:
            binary_fraction (float):
            constant_fraction (float):
            heavy_tailed_fraction (float):
            image (bool):
            integer_valued (bool):
            max_ (float):
            min_ (float):
            n_features (int):
            n_rows (int):
     """

    binary_fraction: float
    constant_fraction: float
    heavy_tailed_fraction: float
    image: bool
    integer_valued: bool
    max_: float
    min_: float
    n_features: int
    n_rows: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        binary_fraction = self.binary_fraction

        constant_fraction = self.constant_fraction

        heavy_tailed_fraction = self.heavy_tailed_fraction

        image = self.image

        integer_valued = self.integer_valued

        max_ = self.max_

        min_ = self.min_

        n_features = self.n_features

        n_rows = self.n_rows


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "binary_fraction": binary_fraction,
            "constant_fraction": constant_fraction,
            "heavy_tailed_fraction": heavy_tailed_fraction,
            "image": image,
            "integer_valued": integer_valued,
            "max": max_,
            "min": min_,
            "n_features": n_features,
            "n_rows": n_rows,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        binary_fraction = d.pop("binary_fraction")

        constant_fraction = d.pop("constant_fraction")

        heavy_tailed_fraction = d.pop("heavy_tailed_fraction")

        image = d.pop("image")

        integer_valued = d.pop("integer_valued")

        max_ = d.pop("max")

        min_ = d.pop("min")

        n_features = d.pop("n_features")

        n_rows = d.pop("n_rows")

        data_profile = cls(
            binary_fraction=binary_fraction,
            constant_fraction=constant_fraction,
            heavy_tailed_fraction=heavy_tailed_fraction,
            image=image,
            integer_valued=integer_valued,
            max_=max_,
            min_=min_,
            n_features=n_features,
            n_rows=n_rows,
        )


        data_profile.additional_properties = d
        return data_profile

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
