from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="ReconstructResponse")



@_attrs_define
class ReconstructResponse:
    """ 
        Attributes:
            errors (list[float | None]): Per-row mean squared error between the row and its reconstruction, in the dataset's
                units.
            model (str): The model name.
            reconstructions (list[list[float]]):
            version (int): The version that answered ({ref} resolved).
     """

    errors: list[float | None]
    model: str
    reconstructions: list[list[float]]
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        errors = []
        for errors_item_data in self.errors:
            errors_item: float | None
            errors_item = errors_item_data
            errors.append(errors_item)



        model = self.model

        reconstructions = []
        for reconstructions_item_data in self.reconstructions:
            reconstructions_item = reconstructions_item_data


            reconstructions.append(reconstructions_item)



        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "errors": errors,
            "model": model,
            "reconstructions": reconstructions,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        errors = []
        _errors = d.pop("errors")
        for errors_item_data in (_errors):
            def _parse_errors_item(data: object) -> float | None:
                if data is None:
                    return data
                return cast(float | None, data)

            errors_item = _parse_errors_item(errors_item_data)

            errors.append(errors_item)


        model = d.pop("model")

        reconstructions = []
        _reconstructions = d.pop("reconstructions")
        for reconstructions_item_data in (_reconstructions):
            reconstructions_item = cast(list[float], reconstructions_item_data)

            reconstructions.append(reconstructions_item)


        version = d.pop("version")

        reconstruct_response = cls(
            errors=errors,
            model=model,
            reconstructions=reconstructions,
            version=version,
        )


        reconstruct_response.additional_properties = d
        return reconstruct_response

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
