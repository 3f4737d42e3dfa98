from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.oip_repository_model_load_repository_model_request_parameters import OipRepositoryModelLoadRepositoryModelRequestParameters





T = TypeVar("T", bound="OipRepositoryModelLoadRepositoryModelRequest")



@_attrs_define
class OipRepositoryModelLoadRepositoryModelRequest:
    """ 
        Attributes:
            parameters (OipRepositoryModelLoadRepositoryModelRequestParameters | Unset):
     """

    parameters: OipRepositoryModelLoadRepositoryModelRequestParameters | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.oip_repository_model_load_repository_model_request_parameters import OipRepositoryModelLoadRepositoryModelRequestParameters # noqa: PLC0415
        parameters: dict[str, Any] | Unset = UNSET
        if not isinstance(self.parameters, Unset):
            parameters = self.parameters.to_dict()


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if parameters is not UNSET:
            field_dict["parameters"] = parameters

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.oip_repository_model_load_repository_model_request_parameters import OipRepositoryModelLoadRepositoryModelRequestParameters # noqa: PLC0415
        d = dict(src_dict)
        _parameters = d.pop("parameters", UNSET)
        parameters: OipRepositoryModelLoadRepositoryModelRequestParameters | Unset
        if isinstance(_parameters,  Unset):
            parameters = UNSET
        else:
            parameters = OipRepositoryModelLoadRepositoryModelRequestParameters.from_dict(_parameters)




        oip_repository_model_load_repository_model_request = cls(
            parameters=parameters,
        )

        return oip_repository_model_load_repository_model_request

