from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.version_plots_plots import VersionPlotsPlots





T = TypeVar("T", bound="VersionPlots")



@_attrs_define
class VersionPlots:
    """ 
        Attributes:
            model (str):
            plots (VersionPlotsPlots):
            version (int):
     """

    model: str
    plots: VersionPlotsPlots
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.version_plots_plots import VersionPlotsPlots # noqa: PLC0415
        model = self.model

        plots = self.plots.to_dict()

        version = self.version


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "model": model,
            "plots": plots,
            "version": version,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.version_plots_plots import VersionPlotsPlots # noqa: PLC0415
        d = dict(src_dict)
        model = d.pop("model")

        plots = VersionPlotsPlots.from_dict(d.pop("plots"))




        version = d.pop("version")

        version_plots = cls(
            model=model,
            plots=plots,
            version=version,
        )


        version_plots.additional_properties = d
        return version_plots

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
