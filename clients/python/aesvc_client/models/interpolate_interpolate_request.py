from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="InterpolateInterpolateRequest")



@_attrs_define
class InterpolateInterpolateRequest:
    """ 
        Attributes:
            end (list[float]): One row in the dataset's units, (n_features,).
            start (list[float]): One row in the dataset's units, (n_features,).
            steps (int | Unset): Points from start to end inclusive, >= 2. Default: 8.
     """

    end: list[float]
    start: list[float]
    steps: int | Unset = 8





    def to_dict(self) -> dict[str, Any]:
        end = self.end



        start = self.start



        steps = self.steps


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "end": end,
            "start": start,
        })
        if steps is not UNSET:
            field_dict["steps"] = steps

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        end = cast(list[float], d.pop("end"))


        start = cast(list[float], d.pop("start"))


        steps = d.pop("steps", UNSET)

        interpolate_interpolate_request = cls(
            end=end,
            start=start,
            steps=steps,
        )

        return interpolate_interpolate_request

