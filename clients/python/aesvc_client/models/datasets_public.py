from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.dataset_public import DatasetPublic





T = TypeVar("T", bound="DatasetsPublic")



@_attrs_define
class DatasetsPublic:
    """ 
        Attributes:
            count (int):
            data (list[DatasetPublic]): This page's datasets. In the full view a page ends early where its datasets would
                hold more than 262,144 features together (a page holds one dataset at least)
            next_page_token (None | str): Send as page_token for the next page; null on the last page
     """

    count: int
    data: list[DatasetPublic]
    next_page_token: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.dataset_public import DatasetPublic # noqa: PLC0415
        count = self.count

        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)



        next_page_token: None | str
        next_page_token = self.next_page_token


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "count": count,
            "data": data,
            "next_page_token": next_page_token,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dataset_public import DatasetPublic # noqa: PLC0415
        d = dict(src_dict)
        count = d.pop("count")

        data = []
        _data = d.pop("data")
        for data_item_data in (_data):
            data_item = DatasetPublic.from_dict(data_item_data)



            data.append(data_item)


        def _parse_next_page_token(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        next_page_token = _parse_next_page_token(d.pop("next_page_token"))


        datasets_public = cls(
            count=count,
            data=data,
            next_page_token=next_page_token,
        )


        datasets_public.additional_properties = d
        return datasets_public

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
