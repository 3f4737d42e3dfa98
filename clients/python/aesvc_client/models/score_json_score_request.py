from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="ScoreJsonScoreRequest")



@_attrs_define
class ScoreJsonScoreRequest:
    """ 
        Attributes:
            inputs (list[list[float]]): Rows in the dataset's units, (n, n_features).
            contamination (float | None | Unset): Flag this share of the rows the version was fitted on instead of its own
                contamination (the threshold becomes that quantile of their scores).
            threshold (float | None | Unset): Flag scores above this instead.
     """

    inputs: list[list[float]]
    contamination: float | None | Unset = UNSET
    threshold: float | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        inputs = []
        for inputs_item_data in self.inputs:
            inputs_item = inputs_item_data


            inputs.append(inputs_item)



        contamination: float | None | Unset
        if isinstance(self.contamination, Unset):
            contamination = UNSET
        else:
            contamination = self.contamination

        threshold: float | None | Unset
        if isinstance(self.threshold, Unset):
            threshold = UNSET
        else:
            threshold = self.threshold


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "inputs": inputs,
        })
        if contamination is not UNSET:
            field_dict["contamination"] = contamination
        if threshold is not UNSET:
            field_dict["threshold"] = threshold

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        inputs = []
        _inputs = d.pop("inputs")
        for inputs_item_data in (_inputs):
            inputs_item = cast(list[float], inputs_item_data)

            inputs.append(inputs_item)


        def _parse_contamination(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        contamination = _parse_contamination(d.pop("contamination", UNSET))


        def _parse_threshold(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        threshold = _parse_threshold(d.pop("threshold", UNSET))


        score_json_score_request = cls(
            inputs=inputs,
            contamination=contamination,
            threshold=threshold,
        )

        return score_json_score_request

