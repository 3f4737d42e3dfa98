from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.sweep_status import SweepStatus
from ..models.sweep_summary_metric import SweepSummaryMetric
from ..models.sweep_summary_search import SweepSummarySearch
from typing import cast
import datetime






T = TypeVar("T", bound="SweepSummary")



@_attrs_define
class SweepSummary:
    """ A sweep in a list: its state and counts, without its trials.

        Attributes:
            created_at (datetime.datetime):
            finished_at (datetime.datetime | None):
            id (str):
            metric (SweepSummaryMetric):
            model (str):
            n_trials (int):
            search (SweepSummarySearch):
            status (SweepStatus): running -> succeeded (a trial succeeded) | failed (every trial failed) | cancelled.
            trials_done (int):
     """

    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    id: str
    metric: SweepSummaryMetric
    model: str
    n_trials: int
    search: SweepSummarySearch
    status: SweepStatus
    trials_done: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        id = self.id

        metric = self.metric.value

        model = self.model

        n_trials = self.n_trials

        search = self.search.value

        status = self.status.value

        trials_done = self.trials_done


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "finished_at": finished_at,
            "id": id,
            "metric": metric,
            "model": model,
            "n_trials": n_trials,
            "search": search,
            "status": status,
            "trials_done": trials_done,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)



                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))


        id = d.pop("id")

        metric = SweepSummaryMetric(d.pop("metric"))




        model = d.pop("model")

        n_trials = d.pop("n_trials")

        search = SweepSummarySearch(d.pop("search"))




        status = SweepStatus(d.pop("status"))




        trials_done = d.pop("trials_done")

        sweep_summary = cls(
            created_at=created_at,
            finished_at=finished_at,
            id=id,
            metric=metric,
            model=model,
            n_trials=n_trials,
            search=search,
            status=status,
            trials_done=trials_done,
        )


        sweep_summary.additional_properties = d
        return sweep_summary

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
