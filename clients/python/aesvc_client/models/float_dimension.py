from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import Literal, cast






T = TypeVar("T", bound="FloatDimension")



@_attrs_define
class FloatDimension:
    """ 
        Attributes:
            high (float):
            low (float):
            type_ (Literal['float']):
            log (bool | Unset):  Default: False.
     """

    high: float
    low: float
    type_: Literal['float']
    log: bool | Unset = False





    def to_dict(self) -> dict[str, Any]:
        high = self.high

        low = self.low

        type_ = self.type_

        log = self.log


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "high": high,
            "low": low,
            "type": type_,
        })
        if log is not UNSET:
            field_dict["log"] = log

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        high = d.pop("high")

        low = d.pop("low")

        type_ = cast(Literal['float'] , d.pop("type"))
        if type_ != 'float':
            raise ValueError(f"type must match const 'float', got '{type_}'")

        log = d.pop("log", UNSET)

        float_dimension = cls(
            high=high,
            low=low,
            type_=type_,
            log=log,
        )

        return float_dimension

