from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="Denoising")



@_attrs_define
class Denoising:
    """ 
        Attributes:
            dropout (float | Unset): Input dropout rate. Default: 0.0.
            gaussian_std (float | Unset): Std of added noise. Default: 0.0.
     """

    dropout: float | Unset = 0.0
    gaussian_std: float | Unset = 0.0





    def to_dict(self) -> dict[str, Any]:
        dropout = self.dropout

        gaussian_std = self.gaussian_std


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if dropout is not UNSET:
            field_dict["dropout"] = dropout
        if gaussian_std is not UNSET:
            field_dict["gaussian_std"] = gaussian_std

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        dropout = d.pop("dropout", UNSET)

        gaussian_std = d.pop("gaussian_std", UNSET)

        denoising = cls(
            dropout=dropout,
            gaussian_std=gaussian_std,
        )

        return denoising

