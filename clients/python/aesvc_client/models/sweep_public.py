from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.sweep_public_metric import SweepPublicMetric
from ..models.sweep_public_search import SweepPublicSearch
from ..models.sweep_status import SweepStatus
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.baseline_point import BaselinePoint
  from ..models.sweep_public_request import SweepPublicRequest
  from ..models.trial_public import TrialPublic





T = TypeVar("T", bound="SweepPublic")



@_attrs_define
class SweepPublic:
    """ 
        Attributes:
            best (None | TrialPublic):
            created_at (datetime.datetime):
            dataset_id (None | str):
            error (None | str):
            finished_at (datetime.datetime | None):
            higher_is_better (bool):
            id (str):
            max_parallel (int):
            metric (SweepPublicMetric):
            model (str):
            n_trials (int):
            pca_baseline (list[BaselinePoint]):
            promote (None | str):
            promoted_version (int | None):
            recommended (None | TrialPublic): The smallest code size whose metric is within `tolerance` of the best.
            request (SweepPublicRequest):
            search (SweepPublicSearch):
            status (SweepStatus): running -> succeeded (a trial succeeded) | failed (every trial failed) | cancelled.
            tolerance (float):
            trials (list[TrialPublic]):
     """

    best: None | TrialPublic
    created_at: datetime.datetime
    dataset_id: None | str
    error: None | str
    finished_at: datetime.datetime | None
    higher_is_better: bool
    id: str
    max_parallel: int
    metric: SweepPublicMetric
    model: str
    n_trials: int
    pca_baseline: list[BaselinePoint]
    promote: None | str
    promoted_version: int | None
    recommended: None | TrialPublic
    request: SweepPublicRequest
    search: SweepPublicSearch
    status: SweepStatus
    tolerance: float
    trials: list[TrialPublic]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.baseline_point import BaselinePoint # noqa: PLC0415
        from ..models.sweep_public_request import SweepPublicRequest # noqa: PLC0415
        from ..models.trial_public import TrialPublic # noqa: PLC0415
        best: dict[str, Any] | None
        if isinstance(self.best, TrialPublic):
            best = self.best.to_dict()
        else:
            best = self.best

        created_at = self.created_at.isoformat()

        dataset_id: None | str
        dataset_id = self.dataset_id

        error: None | str
        error = self.error

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        higher_is_better = self.higher_is_better

        id = self.id

        max_parallel = self.max_parallel

        metric = self.metric.value

        model = self.model

        n_trials = self.n_trials

        pca_baseline = []
        for pca_baseline_item_data in self.pca_baseline:
            pca_baseline_item = pca_baseline_item_data.to_dict()
            pca_baseline.append(pca_baseline_item)



        promote: None | str
        promote = self.promote

        promoted_version: int | None
        promoted_version = self.promoted_version

        recommended: dict[str, Any] | None
        if isinstance(self.recommended, TrialPublic):
            recommended = self.recommended.to_dict()
        else:
            recommended = self.recommended

        request = self.request.to_dict()

        search = self.search.value

        status = self.status.value

        tolerance = self.tolerance

        trials = []
        for trials_item_data in self.trials:
            trials_item = trials_item_data.to_dict()
            trials.append(trials_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "best": best,
            "created_at": created_at,
            "dataset_id": dataset_id,
            "error": error,
            "finished_at": finished_at,
            "higher_is_better": higher_is_better,
            "id": id,
            "max_parallel": max_parallel,
            "metric": metric,
            "model": model,
            "n_trials": n_trials,
            "pca_baseline": pca_baseline,
            "promote": promote,
            "promoted_version": promoted_version,
            "recommended": recommended,
            "request": request,
            "search": search,
            "status": status,
            "tolerance": tolerance,
            "trials": trials,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.baseline_point import BaselinePoint # noqa: PLC0415
        from ..models.sweep_public_request import SweepPublicRequest # noqa: PLC0415
        from ..models.trial_public import TrialPublic # noqa: PLC0415
        d = dict(src_dict)
        def _parse_best(data: object) -> None | TrialPublic:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                best_type_0 = TrialPublic.from_dict(data)



                return best_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TrialPublic, data)

        best = _parse_best(d.pop("best"))


        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_dataset_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        dataset_id = _parse_dataset_id(d.pop("dataset_id"))


        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))


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


        higher_is_better = d.pop("higher_is_better")

        id = d.pop("id")

        max_parallel = d.pop("max_parallel")

        metric = SweepPublicMetric(d.pop("metric"))




        model = d.pop("model")

        n_trials = d.pop("n_trials")

        pca_baseline = []
        _pca_baseline = d.pop("pca_baseline")
        for pca_baseline_item_data in (_pca_baseline):
            pca_baseline_item = BaselinePoint.from_dict(pca_baseline_item_data)



            pca_baseline.append(pca_baseline_item)


        def _parse_promote(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        promote = _parse_promote(d.pop("promote"))


        def _parse_promoted_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        promoted_version = _parse_promoted_version(d.pop("promoted_version"))


        def _parse_recommended(data: object) -> None | TrialPublic:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                recommended_type_0 = TrialPublic.from_dict(data)



                return recommended_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TrialPublic, data)

        recommended = _parse_recommended(d.pop("recommended"))


        request = SweepPublicRequest.from_dict(d.pop("request"))




        search = SweepPublicSearch(d.pop("search"))




        status = SweepStatus(d.pop("status"))




        tolerance = d.pop("tolerance")

        trials = []
        _trials = d.pop("trials")
        for trials_item_data in (_trials):
            trials_item = TrialPublic.from_dict(trials_item_data)



            trials.append(trials_item)


        sweep_public = cls(
            best=best,
            created_at=created_at,
            dataset_id=dataset_id,
            error=error,
            finished_at=finished_at,
            higher_is_better=higher_is_better,
            id=id,
            max_parallel=max_parallel,
            metric=metric,
            model=model,
            n_trials=n_trials,
            pca_baseline=pca_baseline,
            promote=promote,
            promoted_version=promoted_version,
            recommended=recommended,
            request=request,
            search=search,
            status=status,
            tolerance=tolerance,
            trials=trials,
        )


        sweep_public.additional_properties = d
        return sweep_public

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
