from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="OipRepositoryIndexRepositoryIndexRequest")



@_attrs_define
class OipRepositoryIndexRepositoryIndexRequest:
    """ 
        Attributes:
            limit (int | Unset): Entries per page. Default: 1000.
            page_token (None | str | Unset): The Next-Page-Token header of the previous page.
            ready (bool | Unset):  Default: False.
     """

    limit: int | Unset = 1000
    page_token: None | str | Unset = UNSET
    ready: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        limit = self.limit

        page_token: None | str | Unset
        if isinstance(self.page_token, Unset):
            page_token = UNSET
        else:
            page_token = self.page_token

        ready = self.ready


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if limit is not UNSET:
            field_dict["limit"] = limit
        if page_token is not UNSET:
            field_dict["page_token"] = page_token
        if ready is not UNSET:
            field_dict["ready"] = ready

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        limit = d.pop("limit", UNSET)

        def _parse_page_token(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        page_token = _parse_page_token(d.pop("page_token", UNSET))


        ready = d.pop("ready", UNSET)

        oip_repository_index_repository_index_request = cls(
            limit=limit,
            page_token=page_token,
            ready=ready,
        )


        oip_repository_index_repository_index_request.additional_properties = d
        return oip_repository_index_repository_index_request

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
