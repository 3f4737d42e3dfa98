from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.sweep_create_metric import SweepCreateMetric
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.search import Search
  from ..models.sweep_base import SweepBase
  from ..models.sweep_create_grid_type_0 import SweepCreateGridType0





T = TypeVar("T", bound="SweepCreate")



@_attrs_define
class SweepCreate:
    """ A sweep: train every combination of a grid, or the trials of a search, and say
    which is best and which code size is enough.

        Attributes:
            dataset (str): Dataset id or name.
            model (str): Model the trials add versions to.
            base (SweepBase | Unset): What every trial shares: a job's spec, without what the search sets (each part
                takes a job's fields and defaults; the grid or the space fills in the rest).
            grid (None | SweepCreateGridType0 | Unset): Dotted spec paths to lists of values: one trial per combination.
            max_parallel (int | Unset): The most trials queued or running at once. Default: 4.
            metric (SweepCreateMetric | Unset): val_mse: validation MSE in the data's units, lower is better. auroc: area
                under the ROC curve of the anomaly score on the validation rows, rows labelled normal_label as normal (needs a
                labelled dataset), higher is better. Default: SweepCreateMetric.VAL_MSE.
            normal_label (int | None | str | Unset): metric auroc: the label of the normal rows.
            priority (int | Unset): The trials' job priority. Default: 0.
            promote (None | str | Unset): An alias to point at the best trial's version when the sweep ends.
            random (None | Search | Unset):
            tolerance (float | Unset): `recommended` is the smallest code size whose metric is within this fraction of the
                best. Default: 0.1.
            tpe (None | Search | Unset):
     """

    dataset: str
    model: str
    base: SweepBase | Unset = UNSET
    grid: None | SweepCreateGridType0 | Unset = UNSET
    max_parallel: int | Unset = 4
    metric: SweepCreateMetric | Unset = SweepCreateMetric.VAL_MSE
    normal_label: int | None | str | Unset = UNSET
    priority: int | Unset = 0
    promote: None | str | Unset = UNSET
    random: None | Search | Unset = UNSET
    tolerance: float | Unset = 0.1
    tpe: None | Search | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.search import Search # noqa: PLC0415
        from ..models.sweep_base import SweepBase # noqa: PLC0415
        from ..models.sweep_create_grid_type_0 import SweepCreateGridType0 # noqa: PLC0415
        dataset = self.dataset

        model = self.model

        base: dict[str, Any] | Unset = UNSET
        if not isinstance(self.base, Unset):
            base = self.base.to_dict()

        grid: dict[str, Any] | None | Unset
        if isinstance(self.grid, Unset):
            grid = UNSET
        elif isinstance(self.grid, SweepCreateGridType0):
            grid = self.grid.to_dict()
        else:
            grid = self.grid

        max_parallel = self.max_parallel

        metric: str | Unset = UNSET
        if not isinstance(self.metric, Unset):
            metric = self.metric.value


        normal_label: int | None | str | Unset
        if isinstance(self.normal_label, Unset):
            normal_label = UNSET
        else:
            normal_label = self.normal_label

        priority = self.priority

        promote: None | str | Unset
        if isinstance(self.promote, Unset):
            promote = UNSET
        else:
            promote = self.promote

        random: dict[str, Any] | None | Unset
        if isinstance(self.random, Unset):
            random = UNSET
        elif isinstance(self.random, Search):
            random = self.random.to_dict()
        else:
            random = self.random

        tolerance = self.tolerance

        tpe: dict[str, Any] | None | Unset
        if isinstance(self.tpe, Unset):
            tpe = UNSET
        elif isinstance(self.tpe, Search):
            tpe = self.tpe.to_dict()
        else:
            tpe = self.tpe


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "dataset": dataset,
            "model": model,
        })
        if base is not UNSET:
            field_dict["base"] = base
        if grid is not UNSET:
            field_dict["grid"] = grid
        if max_parallel is not UNSET:
            field_dict["max_parallel"] = max_parallel
        if metric is not UNSET:
            field_dict["metric"] = metric
        if normal_label is not UNSET:
            field_dict["normal_label"] = normal_label
        if priority is not UNSET:
            field_dict["priority"] = priority
        if promote is not UNSET:
            field_dict["promote"] = promote
        if random is not UNSET:
            field_dict["random"] = random
        if tolerance is not UNSET:
            field_dict["tolerance"] = tolerance
        if tpe is not UNSET:
            field_dict["tpe"] = tpe

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.search import Search # noqa: PLC0415
        from ..models.sweep_base import SweepBase # noqa: PLC0415
        from ..models.sweep_create_grid_type_0 import SweepCreateGridType0 # noqa: PLC0415
        d = dict(src_dict)
        dataset = d.pop("dataset")

        model = d.pop("model")

        _base = d.pop("base", UNSET)
        base: SweepBase | Unset
        if isinstance(_base,  Unset):
            base = UNSET
        else:
            base = SweepBase.from_dict(_base)




        def _parse_grid(data: object) -> None | SweepCreateGridType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                grid_type_0 = SweepCreateGridType0.from_dict(data)



                return grid_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SweepCreateGridType0 | Unset, data)

        grid = _parse_grid(d.pop("grid", UNSET))


        max_parallel = d.pop("max_parallel", UNSET)

        _metric = d.pop("metric", UNSET)
        metric: SweepCreateMetric | Unset
        if isinstance(_metric,  Unset):
            metric = UNSET
        else:
            metric = SweepCreateMetric(_metric)




        def _parse_normal_label(data: object) -> int | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | str | Unset, data)

        normal_label = _parse_normal_label(d.pop("normal_label", UNSET))


        priority = d.pop("priority", UNSET)

        def _parse_promote(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        promote = _parse_promote(d.pop("promote", UNSET))


        def _parse_random(data: object) -> None | Search | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                random_type_0 = Search.from_dict(data)



                return random_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Search | Unset, data)

        random = _parse_random(d.pop("random", UNSET))


        tolerance = d.pop("tolerance", UNSET)

        def _parse_tpe(data: object) -> None | Search | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tpe_type_0 = Search.from_dict(data)



                return tpe_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Search | Unset, data)

        tpe = _parse_tpe(d.pop("tpe", UNSET))


        sweep_create = cls(
            dataset=dataset,
            model=model,
            base=base,
            grid=grid,
            max_parallel=max_parallel,
            metric=metric,
            normal_label=normal_label,
            priority=priority,
            promote=promote,
            random=random,
            tolerance=tolerance,
            tpe=tpe,
        )

        return sweep_create

