from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="ReconstructJsonReconstructRequest")



@_attrs_define
class ReconstructJsonReconstructRequest:
    """ 
        Attributes:
            inputs (list[list[float]]): Rows in the dataset's units, (n, n_features).
     """

    inputs: list[list[float]]





    def to_dict(self) -> dict[str, Any]:
        inputs = []
        for inputs_item_data in self.inputs:
            inputs_item = inputs_item_data


            inputs.append(inputs_item)




        field_dict: dict[str, Any] = {}

        field_dict.update({
            "inputs": inputs,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        inputs = []
        _inputs = d.pop("inputs")
        for inputs_item_data in (_inputs):
            inputs_item = cast(list[float], inputs_item_data)

            inputs.append(inputs_item)


        reconstruct_json_reconstruct_request = cls(
            inputs=inputs,
        )

        return reconstruct_json_reconstruct_request

