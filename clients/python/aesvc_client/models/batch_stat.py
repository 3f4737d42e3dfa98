from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.duration_stat import DurationStat





T = TypeVar("T", bound="BatchStat")



@_attrs_define
class BatchStat:
    """ 
        Attributes:
            batch_size (int):
            compute_infer (DurationStat):
            compute_input (DurationStat):
            compute_output (DurationStat):
     """

    batch_size: int
    compute_infer: DurationStat
    compute_input: DurationStat
    compute_output: DurationStat
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.duration_stat import DurationStat # noqa: PLC0415
        batch_size = self.batch_size

        compute_infer = self.compute_infer.to_dict()

        compute_input = self.compute_input.to_dict()

        compute_output = self.compute_output.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "batch_size": batch_size,
            "compute_infer": compute_infer,
            "compute_input": compute_input,
            "compute_output": compute_output,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.duration_stat import DurationStat # noqa: PLC0415
        d = dict(src_dict)
        batch_size = d.pop("batch_size")

        compute_infer = DurationStat.from_dict(d.pop("compute_infer"))




        compute_input = DurationStat.from_dict(d.pop("compute_input"))




        compute_output = DurationStat.from_dict(d.pop("compute_output"))




        batch_stat = cls(
            batch_size=batch_size,
            compute_infer=compute_infer,
            compute_input=compute_input,
            compute_output=compute_output,
        )


        batch_stat.additional_properties = d
        return batch_stat

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
