from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="AliasEventPublic")



@_attrs_define
class AliasEventPublic:
    """ 
        Attributes:
            actor (None | str): The API key (by name) that moved it; null while auth is disabled
            alias (str):
            created_at (datetime.datetime):
            from_version (int | None): null when the alias was created
            to_version (int | None): null when the alias was deleted
     """

    actor: None | str
    alias: str
    created_at: datetime.datetime
    from_version: int | None
    to_version: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        actor: None | str
        actor = self.actor

        alias = self.alias

        created_at = self.created_at.isoformat()

        from_version: int | None
        from_version = self.from_version

        to_version: int | None
        to_version = self.to_version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "actor": actor,
            "alias": alias,
            "created_at": created_at,
            "from_version": from_version,
            "to_version": to_version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_actor(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        actor = _parse_actor(d.pop("actor"))


        alias = d.pop("alias")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_from_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        from_version = _parse_from_version(d.pop("from_version"))


        def _parse_to_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        to_version = _parse_to_version(d.pop("to_version"))


        alias_event_public = cls(
            actor=actor,
            alias=alias,
            created_at=created_at,
            from_version=from_version,
            to_version=to_version,
        )


        alias_event_public.additional_properties = d
        return alias_event_public

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
