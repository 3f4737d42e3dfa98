from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="DecodeResponse")



@_attrs_define
class DecodeResponse:
    """ 
        Attributes:
            model (str): The model name.
            outputs (list[list[float]]): (n, n_features) in the dataset's units.
            version (int): The version that answered ({ref} resolved).
     """

    model: str
    outputs: list[list[float]]
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        model = self.model

        outputs = []
        for outputs_item_data in self.outputs:
            outputs_item = outputs_item_data


            outputs.append(outputs_item)



        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "model": model,
            "outputs": outputs,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model = d.pop("model")

        outputs = []
        _outputs = d.pop("outputs")
        for outputs_item_data in (_outputs):
            outputs_item = cast(list[float], outputs_item_data)

            outputs.append(outputs_item)


        version = d.pop("version")

        decode_response = cls(
            model=model,
            outputs=outputs,
            version=version,
        )


        decode_response.additional_properties = d
        return decode_response

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
