from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.batch_stat import BatchStat
  from ..models.inference_stats import InferenceStats





T = TypeVar("T", bound="ModelStat")



@_attrs_define
class ModelStat:
    """ 
        Attributes:
            batch_stats (list[BatchStat]):
            execution_count (int):
            inference_count (int):
            inference_stats (InferenceStats):
            last_inference (int):
            name (str):
            version (str):
     """

    batch_stats: list[BatchStat]
    execution_count: int
    inference_count: int
    inference_stats: InferenceStats
    last_inference: int
    name: str
    version: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.batch_stat import BatchStat # noqa: PLC0415
        from ..models.inference_stats import InferenceStats # noqa: PLC0415
        batch_stats = []
        for batch_stats_item_data in self.batch_stats:
            batch_stats_item = batch_stats_item_data.to_dict()
            batch_stats.append(batch_stats_item)



        execution_count = self.execution_count

        inference_count = self.inference_count

        inference_stats = self.inference_stats.to_dict()

        last_inference = self.last_inference

        name = self.name

        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "batch_stats": batch_stats,
            "execution_count": execution_count,
            "inference_count": inference_count,
            "inference_stats": inference_stats,
            "last_inference": last_inference,
            "name": name,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.batch_stat import BatchStat # noqa: PLC0415
        from ..models.inference_stats import InferenceStats # noqa: PLC0415
        d = dict(src_dict)
        batch_stats = []
        _batch_stats = d.pop("batch_stats")
        for batch_stats_item_data in (_batch_stats):
            batch_stats_item = BatchStat.from_dict(batch_stats_item_data)



            batch_stats.append(batch_stats_item)


        execution_count = d.pop("execution_count")

        inference_count = d.pop("inference_count")

        inference_stats = InferenceStats.from_dict(d.pop("inference_stats"))




        last_inference = d.pop("last_inference")

        name = d.pop("name")

        version = d.pop("version")

        model_stat = cls(
            batch_stats=batch_stats,
            execution_count=execution_count,
            inference_count=inference_count,
            inference_stats=inference_stats,
            last_inference=last_inference,
            name=name,
            version=version,
        )


        model_stat.additional_properties = d
        return model_stat

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
