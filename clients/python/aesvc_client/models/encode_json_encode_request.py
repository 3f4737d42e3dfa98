from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="EncodeJsonEncodeRequest")



@_attrs_define
class EncodeJsonEncodeRequest:
    """ 
        Attributes:
            inputs (list[list[float]]): Rows in the dataset's units, (n, n_features).
            sample (bool | Unset): VAE only: draw codings instead of the mean. Default: False.
            seed (int | None | Unset): With sample: the same seed draws the same codings for the same request (the draw is
                the request's: row i takes its i-th noise vector); none draws fresh ones.
     """

    inputs: list[list[float]]
    sample: bool | Unset = False
    seed: int | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        inputs = []
        for inputs_item_data in self.inputs:
            inputs_item = inputs_item_data


            inputs.append(inputs_item)



        sample = self.sample

        seed: int | None | Unset
        if isinstance(self.seed, Unset):
            seed = UNSET
        else:
            seed = self.seed


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "inputs": inputs,
        })
        if sample is not UNSET:
            field_dict["sample"] = sample
        if seed is not UNSET:
            field_dict["seed"] = seed

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        inputs = []
        _inputs = d.pop("inputs")
        for inputs_item_data in (_inputs):
            inputs_item = cast(list[float], inputs_item_data)

            inputs.append(inputs_item)


        sample = d.pop("sample", UNSET)

        def _parse_seed(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        seed = _parse_seed(d.pop("seed", UNSET))


        encode_json_encode_request = cls(
            inputs=inputs,
            sample=sample,
            seed=seed,
        )

        return encode_json_encode_request

