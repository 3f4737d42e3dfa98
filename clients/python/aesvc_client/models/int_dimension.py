from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import Literal, cast






T = TypeVar("T", bound="IntDimension")



@_attrs_define
class IntDimension:
    """ 
        Attributes:
            high (int):
            low (int):
            type_ (Literal['int']):
            log (bool | Unset):  Default: False.
     """

    high: int
    low: int
    type_: Literal['int']
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

        type_ = cast(Literal['int'] , d.pop("type"))
        if type_ != 'int':
            raise ValueError(f"type must match const 'int', got '{type_}'")

        log = d.pop("log", UNSET)

        int_dimension = cls(
            high=high,
            low=low,
            type_=type_,
            log=log,
        )

        return int_dimension

