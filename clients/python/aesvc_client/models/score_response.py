from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="ScoreResponse")



@_attrs_define
class ScoreResponse:
    """ 
        Attributes:
            is_anomaly (list[bool]): score > threshold, per row.
            model (str): The model name.
            scores (list[float | None]): Per-row anomaly score: the reconstruction error plus the codings' squared
                Mahalanobis distance, each in units of its typical value on the rows the version was fitted on (about 2 for a
                typical one of those rows; see docs/models.md).
            threshold (float): The threshold used: the request's, or the fitted rows' scores' quantile at 1 - contamination.
            version (int): The version that answered ({ref} resolved).
     """

    is_anomaly: list[bool]
    model: str
    scores: list[float | None]
    threshold: float
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        is_anomaly = self.is_anomaly



        model = self.model

        scores = []
        for scores_item_data in self.scores:
            scores_item: float | None
            scores_item = scores_item_data
            scores.append(scores_item)



        threshold = self.threshold

        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "is_anomaly": is_anomaly,
            "model": model,
            "scores": scores,
            "threshold": threshold,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        is_anomaly = cast(list[bool], d.pop("is_anomaly"))


        model = d.pop("model")

        scores = []
        _scores = d.pop("scores")
        for scores_item_data in (_scores):
            def _parse_scores_item(data: object) -> float | None:
                if data is None:
                    return data
                return cast(float | None, data)

            scores_item = _parse_scores_item(scores_item_data)

            scores.append(scores_item)


        threshold = d.pop("threshold")

        version = d.pop("version")

        score_response = cls(
            is_anomaly=is_anomaly,
            model=model,
            scores=scores,
            threshold=threshold,
            version=version,
        )


        score_response.additional_properties = d
        return score_response

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
