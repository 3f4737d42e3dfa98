from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.readiness_status import ReadinessStatus
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.readiness_checks import ReadinessChecks





T = TypeVar("T", bound="Readiness")



@_attrs_define
class Readiness:
    """ 
        Attributes:
            checks (ReadinessChecks): database, migrations, workers, models
            status (ReadinessStatus):
            failing (list[str] | None | Unset):
     """

    checks: ReadinessChecks
    status: ReadinessStatus
    failing: list[str] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.readiness_checks import ReadinessChecks # noqa: PLC0415
        checks = self.checks.to_dict()

        status = self.status.value

        failing: list[str] | None | Unset
        if isinstance(self.failing, Unset):
            failing = UNSET
        elif isinstance(self.failing, list):
            failing = self.failing


        else:
            failing = self.failing


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "checks": checks,
            "status": status,
        })
        if failing is not UNSET:
            field_dict["failing"] = failing

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.readiness_checks import ReadinessChecks # noqa: PLC0415
        d = dict(src_dict)
        checks = ReadinessChecks.from_dict(d.pop("checks"))




        status = ReadinessStatus(d.pop("status"))




        def _parse_failing(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                failing_type_0 = cast(list[str], data)

                return failing_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        failing = _parse_failing(d.pop("failing", UNSET))


        readiness = cls(
            checks=checks,
            status=status,
            failing=failing,
        )


        readiness.additional_properties = d
        return readiness

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
