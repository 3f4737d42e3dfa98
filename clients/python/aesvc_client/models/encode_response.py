from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="EncodeResponse")



@_attrs_define
class EncodeResponse:
    """ 
        Attributes:
            codings (list[list[float]]): (n, code_size); a VAE: the mean, or a draw with sample.
            model (str): The model name.
            version (int): The version that answered ({ref} resolved).
            log_var (list[list[float]] | None | Unset): VAE only: (n, code_size).
     """

    codings: list[list[float]]
    model: str
    version: int
    log_var: list[list[float]] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        codings = []
        for codings_item_data in self.codings:
            codings_item = codings_item_data


            codings.append(codings_item)



        model = self.model

        version = self.version

        log_var: list[list[float]] | None | Unset
        if isinstance(self.log_var, Unset):
            log_var = UNSET
        elif isinstance(self.log_var, list):
            log_var = []
            for log_var_type_0_item_data in self.log_var:
                log_var_type_0_item = log_var_type_0_item_data


                log_var.append(log_var_type_0_item)


        else:
            log_var = self.log_var


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "codings": codings,
            "model": model,
            "version": version,
        })
        if log_var is not UNSET:
            field_dict["log_var"] = log_var

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        codings = []
        _codings = d.pop("codings")
        for codings_item_data in (_codings):
            codings_item = cast(list[float], codings_item_data)

            codings.append(codings_item)


        model = d.pop("model")

        version = d.pop("version")

        def _parse_log_var(data: object) -> list[list[float]] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                log_var_type_0 = []
                _log_var_type_0 = data
                for log_var_type_0_item_data in (_log_var_type_0):
                    log_var_type_0_item = cast(list[float], log_var_type_0_item_data)

                    log_var_type_0.append(log_var_type_0_item)

                return log_var_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[list[float]] | None | Unset, data)

        log_var = _parse_log_var(d.pop("log_var", UNSET))


        encode_response = cls(
            codings=codings,
            model=model,
            version=version,
            log_var=log_var,
        )


        encode_response.additional_properties = d
        return encode_response

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
