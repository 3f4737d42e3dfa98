from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.choice_dimension import ChoiceDimension
  from ..models.float_dimension import FloatDimension
  from ..models.int_dimension import IntDimension





T = TypeVar("T", bound="SearchSpace")



@_attrs_define
class SearchSpace:
    """ Dotted spec paths to a dimension: choices, an int or a float range (`log` for a log scale).

     """

    additional_properties: dict[str, ChoiceDimension | FloatDimension | IntDimension] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.choice_dimension import ChoiceDimension # noqa: PLC0415
        from ..models.float_dimension import FloatDimension # noqa: PLC0415
        from ..models.int_dimension import IntDimension # noqa: PLC0415
        
        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            
            if isinstance(prop, ChoiceDimension):
                field_dict[prop_name] = prop.to_dict()
            elif isinstance(prop, IntDimension):
                field_dict[prop_name] = prop.to_dict()
            else:
                field_dict[prop_name] = prop.to_dict()



        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.choice_dimension import ChoiceDimension # noqa: PLC0415
        from ..models.float_dimension import FloatDimension # noqa: PLC0415
        from ..models.int_dimension import IntDimension # noqa: PLC0415
        d = dict(src_dict)
        search_space = cls(
        )


        additional_properties = {}
        for prop_name, prop_dict in d.items():
            def _parse_additional_property(data: object) -> ChoiceDimension | FloatDimension | IntDimension:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    additional_property_type_0 = ChoiceDimension.from_dict(data)



                    return additional_property_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    additional_property_type_1 = IntDimension.from_dict(data)



                    return additional_property_type_1
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                additional_property_type_2 = FloatDimension.from_dict(data)



                return additional_property_type_2

            additional_property = _parse_additional_property(prop_dict)

            additional_properties[prop_name] = additional_property

        search_space.additional_properties = additional_properties
        return search_space

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> ChoiceDimension | FloatDimension | IntDimension:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: ChoiceDimension | FloatDimension | IntDimension) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
