from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.generate_response_method import GenerateResponseMethod
from typing import cast






T = TypeVar("T", bound="GenerateResponse")



@_attrs_define
class GenerateResponse:
    """ 
        Attributes:
            method (GenerateResponseMethod): prior: a VAE's N(0, I); fitted_gaussian: N(mean, cov) of training codings.
            model (str): The model name.
            samples (list[list[float]]): (n, n_features) in the dataset's units.
            version (int): The version that answered ({ref} resolved).
     """

    method: GenerateResponseMethod
    model: str
    samples: list[list[float]]
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        method = self.method.value

        model = self.model

        samples = []
        for samples_item_data in self.samples:
            samples_item = samples_item_data


            samples.append(samples_item)



        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "method": method,
            "model": model,
            "samples": samples,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        method = GenerateResponseMethod(d.pop("method"))




        model = d.pop("model")

        samples = []
        _samples = d.pop("samples")
        for samples_item_data in (_samples):
            samples_item = cast(list[float], samples_item_data)

            samples.append(samples_item)


        version = d.pop("version")

        generate_response = cls(
            method=method,
            model=model,
            samples=samples,
            version=version,
        )


        generate_response.additional_properties = d
        return generate_response

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
