from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import Literal, cast






T = TypeVar("T", bound="LinearArchitecture")



@_attrs_define
class LinearArchitecture:
    """ PCA's subspace, learned: one linear layer each way, no activation anywhere.

        Attributes:
            code_size (int): Size of the coding layer.
            kind (Literal['linear']):
     """

    code_size: int
    kind: Literal['linear']





    def to_dict(self) -> dict[str, Any]:
        code_size = self.code_size

        kind = self.kind


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "code_size": code_size,
            "kind": kind,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        code_size = d.pop("code_size")

        kind = cast(Literal['linear'] , d.pop("kind"))
        if kind != 'linear':
            raise ValueError(f"kind must match const 'linear', got '{kind}'")

        linear_architecture = cls(
            code_size=code_size,
            kind=kind,
        )

        return linear_architecture

