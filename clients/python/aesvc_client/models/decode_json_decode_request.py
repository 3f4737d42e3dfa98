from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="DecodeJsonDecodeRequest")



@_attrs_define
class DecodeJsonDecodeRequest:
    """ 
        Attributes:
            codings (list[list[float]]): (n, code_size) codings.
     """

    codings: list[list[float]]





    def to_dict(self) -> dict[str, Any]:
        codings = []
        for codings_item_data in self.codings:
            codings_item = codings_item_data


            codings.append(codings_item)




        field_dict: dict[str, Any] = {}

        field_dict.update({
            "codings": codings,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        codings = []
        _codings = d.pop("codings")
        for codings_item_data in (_codings):
            codings_item = cast(list[float], codings_item_data)

            codings.append(codings_item)


        decode_json_decode_request = cls(
            codings=codings,
        )

        return decode_json_decode_request

