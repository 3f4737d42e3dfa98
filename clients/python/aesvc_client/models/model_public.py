from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.model_public_aliases import ModelPublicAliases
  from ..models.model_public_tags import ModelPublicTags





T = TypeVar("T", bound="ModelPublic")



@_attrs_define
class ModelPublic:
    """ 
        Attributes:
            aliases (ModelPublicAliases):
            created_at (datetime.datetime):
            description (str):
            latest_version (int | None):
            name (str):
            tags (ModelPublicTags):
            updated_at (datetime.datetime):
     """

    aliases: ModelPublicAliases
    created_at: datetime.datetime
    description: str
    latest_version: int | None
    name: str
    tags: ModelPublicTags
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.model_public_aliases import ModelPublicAliases # noqa: PLC0415
        from ..models.model_public_tags import ModelPublicTags # noqa: PLC0415
        aliases = self.aliases.to_dict()

        created_at = self.created_at.isoformat()

        description = self.description

        latest_version: int | None
        latest_version = self.latest_version

        name = self.name

        tags = self.tags.to_dict()

        updated_at = self.updated_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "aliases": aliases,
            "created_at": created_at,
            "description": description,
            "latest_version": latest_version,
            "name": name,
            "tags": tags,
            "updated_at": updated_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.model_public_aliases import ModelPublicAliases # noqa: PLC0415
        from ..models.model_public_tags import ModelPublicTags # noqa: PLC0415
        d = dict(src_dict)
        aliases = ModelPublicAliases.from_dict(d.pop("aliases"))




        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        description = d.pop("description")

        def _parse_latest_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        latest_version = _parse_latest_version(d.pop("latest_version"))


        name = d.pop("name")

        tags = ModelPublicTags.from_dict(d.pop("tags"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        model_public = cls(
            aliases=aliases,
            created_at=created_at,
            description=description,
            latest_version=latest_version,
            name=name,
            tags=tags,
            updated_at=updated_at,
        )


        model_public.additional_properties = d
        return model_public

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
