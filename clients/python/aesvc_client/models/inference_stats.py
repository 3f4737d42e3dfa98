from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.duration_stat import DurationStat





T = TypeVar("T", bound="InferenceStats")



@_attrs_define
class InferenceStats:
    """ 
        Attributes:
            cache_hit (DurationStat):
            compute_infer (DurationStat):
            compute_input (DurationStat):
            compute_output (DurationStat):
            fail (DurationStat):
            queue (DurationStat):
            success (DurationStat):
     """

    cache_hit: DurationStat
    compute_infer: DurationStat
    compute_input: DurationStat
    compute_output: DurationStat
    fail: DurationStat
    queue: DurationStat
    success: DurationStat
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.duration_stat import DurationStat # noqa: PLC0415
        cache_hit = self.cache_hit.to_dict()

        compute_infer = self.compute_infer.to_dict()

        compute_input = self.compute_input.to_dict()

        compute_output = self.compute_output.to_dict()

        fail = self.fail.to_dict()

        queue = self.queue.to_dict()

        success = self.success.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "cache_hit": cache_hit,
            "compute_infer": compute_infer,
            "compute_input": compute_input,
            "compute_output": compute_output,
            "fail": fail,
            "queue": queue,
            "success": success,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.duration_stat import DurationStat # noqa: PLC0415
        d = dict(src_dict)
        cache_hit = DurationStat.from_dict(d.pop("cache_hit"))




        compute_infer = DurationStat.from_dict(d.pop("compute_infer"))




        compute_input = DurationStat.from_dict(d.pop("compute_input"))




        compute_output = DurationStat.from_dict(d.pop("compute_output"))




        fail = DurationStat.from_dict(d.pop("fail"))




        queue = DurationStat.from_dict(d.pop("queue"))




        success = DurationStat.from_dict(d.pop("success"))




        inference_stats = cls(
            cache_hit=cache_hit,
            compute_infer=compute_infer,
            compute_input=compute_input,
            compute_output=compute_output,
            fail=fail,
            queue=queue,
            success=success,
        )


        inference_stats.additional_properties = d
        return inference_stats

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
