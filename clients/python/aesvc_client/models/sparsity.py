from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.sparsity_kind import SparsityKind
from ..types import UNSET, Unset






T = TypeVar("T", bound="Sparsity")



@_attrs_define
class Sparsity:
    """ 
        Attributes:
            kind (SparsityKind | Unset):  Default: SparsityKind.KL.
            target (float | Unset): Target mean activation (kl only). Default: 0.1.
            weight (float | Unset):  Default: 0.1.
     """

    kind: SparsityKind | Unset = SparsityKind.KL
    target: float | Unset = 0.1
    weight: float | Unset = 0.1





    def to_dict(self) -> dict[str, Any]:
        kind: str | Unset = UNSET
        if not isinstance(self.kind, Unset):
            kind = self.kind.value


        target = self.target

        weight = self.weight


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if kind is not UNSET:
            field_dict["kind"] = kind
        if target is not UNSET:
            field_dict["target"] = target
        if weight is not UNSET:
            field_dict["weight"] = weight

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _kind = d.pop("kind", UNSET)
        kind: SparsityKind | Unset
        if isinstance(_kind,  Unset):
            kind = UNSET
        else:
            kind = SparsityKind(_kind)




        target = d.pop("target", UNSET)

        weight = d.pop("weight", UNSET)

        sparsity = cls(
            kind=kind,
            target=target,
            weight=weight,
        )

        return sparsity

