from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="GenerateGenerateRequest")



@_attrs_define
class GenerateGenerateRequest:
    """ 
        Attributes:
            n (int | Unset): How many samples, 1 <= n <= AESVC_MAX_GENERATE. Default: 16.
            seed (int | None | Unset): Same seed, same samples.
     """

    n: int | Unset = 16
    seed: int | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        n = self.n

        seed: int | None | Unset
        if isinstance(self.seed, Unset):
            seed = UNSET
        else:
            seed = self.seed


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if n is not UNSET:
            field_dict["n"] = n
        if seed is not UNSET:
            field_dict["seed"] = seed

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        n = d.pop("n", UNSET)

        def _parse_seed(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        seed = _parse_seed(d.pop("seed", UNSET))


        generate_generate_request = cls(
            n=n,
            seed=seed,
        )

        return generate_generate_request

