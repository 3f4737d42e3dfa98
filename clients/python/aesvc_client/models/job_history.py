from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.job_history_epochs_item import JobHistoryEpochsItem





T = TypeVar("T", bound="JobHistory")



@_attrs_define
class JobHistory:
    """ 
        Attributes:
            count (int):
            epochs (list[JobHistoryEpochsItem]):
            job_id (str):
            next_page_token (None | str): Send as page_token for the next page; null on the last page
     """

    count: int
    epochs: list[JobHistoryEpochsItem]
    job_id: str
    next_page_token: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.job_history_epochs_item import JobHistoryEpochsItem # noqa: PLC0415
        count = self.count

        epochs = []
        for epochs_item_data in self.epochs:
            epochs_item = epochs_item_data.to_dict()
            epochs.append(epochs_item)



        job_id = self.job_id

        next_page_token: None | str
        next_page_token = self.next_page_token


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "count": count,
            "epochs": epochs,
            "job_id": job_id,
            "next_page_token": next_page_token,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_history_epochs_item import JobHistoryEpochsItem # noqa: PLC0415
        d = dict(src_dict)
        count = d.pop("count")

        epochs = []
        _epochs = d.pop("epochs")
        for epochs_item_data in (_epochs):
            epochs_item = JobHistoryEpochsItem.from_dict(epochs_item_data)



            epochs.append(epochs_item)


        job_id = d.pop("job_id")

        def _parse_next_page_token(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        next_page_token = _parse_next_page_token(d.pop("next_page_token"))


        job_history = cls(
            count=count,
            epochs=epochs,
            job_id=job_id,
            next_page_token=next_page_token,
        )


        job_history.additional_properties = d
        return job_history

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
