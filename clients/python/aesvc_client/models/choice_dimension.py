from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
from typing import Literal, cast






T = TypeVar("T", bound="ChoiceDimension")



@_attrs_define
class ChoiceDimension:
    """ 
        Attributes:
            choices (list[bool | float | int | None | str]):
            type_ (Literal['choice']):
     """

    choices: list[bool | float | int | None | str]
    type_: Literal['choice']





    def to_dict(self) -> dict[str, Any]:
        choices = []
        for choices_item_data in self.choices:
            choices_item: bool | float | int | None | str
            choices_item = choices_item_data
            choices.append(choices_item)



        type_ = self.type_


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "choices": choices,
            "type": type_,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        choices = []
        _choices = d.pop("choices")
        for choices_item_data in (_choices):
            def _parse_choices_item(data: object) -> bool | float | int | None | str:
                if data is None:
                    return data
                return cast(bool | float | int | None | str, data)

            choices_item = _parse_choices_item(choices_item_data)

            choices.append(choices_item)


        type_ = cast(Literal['choice'] , d.pop("type"))
        if type_ != 'choice':
            raise ValueError(f"type must match const 'choice', got '{type_}'")

        choice_dimension = cls(
            choices=choices,
            type_=type_,
        )

        return choice_dimension

