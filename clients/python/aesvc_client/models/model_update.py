from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.model_update_tags_type_0 import ModelUpdateTagsType0





T = TypeVar("T", bound="ModelUpdate")



@_attrs_define
class ModelUpdate:
    """ PATCH body: description replaces; tags merge (RFC 7396: a null value removes the tag).

        Attributes:
            description (None | str | Unset):
            tags (ModelUpdateTagsType0 | None | Unset):
     """

    description: None | str | Unset = UNSET
    tags: ModelUpdateTagsType0 | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.model_update_tags_type_0 import ModelUpdateTagsType0 # noqa: PLC0415
        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        tags: dict[str, Any] | None | Unset
        if isinstance(self.tags, Unset):
            tags = UNSET
        elif isinstance(self.tags, ModelUpdateTagsType0):
            tags = self.tags.to_dict()
        else:
            tags = self.tags


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if description is not UNSET:
            field_dict["description"] = description
        if tags is not UNSET:
            field_dict["tags"] = tags

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.model_update_tags_type_0 import ModelUpdateTagsType0 # noqa: PLC0415
        d = dict(src_dict)
        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))


        def _parse_tags(data: object) -> ModelUpdateTagsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tags_type_0 = ModelUpdateTagsType0.from_dict(data)



                return tags_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ModelUpdateTagsType0 | None | Unset, data)

        tags = _parse_tags(d.pop("tags", UNSET))


        model_update = cls(
            description=description,
            tags=tags,
        )

        return model_update

