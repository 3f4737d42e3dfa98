from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.infer_output_datatype import InferOutputDatatype
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.infer_output_parameters_type_0 import InferOutputParametersType0





T = TypeVar("T", bound="InferOutput")



@_attrs_define
class InferOutput:
    """ 
        Attributes:
            datatype (InferOutputDatatype):
            name (str):
            shape (list[int]):
            data (list[float] | None | Unset):
            parameters (InferOutputParametersType0 | None | Unset):
     """

    datatype: InferOutputDatatype
    name: str
    shape: list[int]
    data: list[float] | None | Unset = UNSET
    parameters: InferOutputParametersType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.infer_output_parameters_type_0 import InferOutputParametersType0 # noqa: PLC0415
        datatype = self.datatype.value

        name = self.name

        shape = self.shape



        data: list[float] | None | Unset
        if isinstance(self.data, Unset):
            data = UNSET
        elif isinstance(self.data, list):
            data = self.data


        else:
            data = self.data

        parameters: dict[str, Any] | None | Unset
        if isinstance(self.parameters, Unset):
            parameters = UNSET
        elif isinstance(self.parameters, InferOutputParametersType0):
            parameters = self.parameters.to_dict()
        else:
            parameters = self.parameters


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "datatype": datatype,
            "name": name,
            "shape": shape,
        })
        if data is not UNSET:
            field_dict["data"] = data
        if parameters is not UNSET:
            field_dict["parameters"] = parameters

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.infer_output_parameters_type_0 import InferOutputParametersType0 # noqa: PLC0415
        d = dict(src_dict)
        datatype = InferOutputDatatype(d.pop("datatype"))




        name = d.pop("name")

        shape = cast(list[int], d.pop("shape"))


        def _parse_data(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                data_type_0 = cast(list[float], data)

                return data_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        data = _parse_data(d.pop("data", UNSET))


        def _parse_parameters(data: object) -> InferOutputParametersType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                parameters_type_0 = InferOutputParametersType0.from_dict(data)



                return parameters_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(InferOutputParametersType0 | None | Unset, data)

        parameters = _parse_parameters(d.pop("parameters", UNSET))


        infer_output = cls(
            datatype=datatype,
            name=name,
            shape=shape,
            data=data,
            parameters=parameters,
        )


        infer_output.additional_properties = d
        return infer_output

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
