from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.search_space import SearchSpace





T = TypeVar("T", bound="Search")



@_attrs_define
class Search:
    """ A random or TPE search (Optuna, by ask and tell): each trial samples `space`.

        Attributes:
            n_trials (int): How many trials to run (1 to AESVC_MAX_SWEEP_TRIALS).
            space (SearchSpace): Dotted spec paths to a dimension: choices, an int or a float range (`log` for a log scale).
            seed (int | Unset): The sampler's seed: the same seed, the same trials. Default: 0.
     """

    n_trials: int
    space: SearchSpace
    seed: int | Unset = 0





    def to_dict(self) -> dict[str, Any]:
        from ..models.search_space import SearchSpace # noqa: PLC0415
        n_trials = self.n_trials

        space = self.space.to_dict()

        seed = self.seed


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "n_trials": n_trials,
            "space": space,
        })
        if seed is not UNSET:
            field_dict["seed"] = seed

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.search_space import SearchSpace # noqa: PLC0415
        d = dict(src_dict)
        n_trials = d.pop("n_trials")

        space = SearchSpace.from_dict(d.pop("space"))




        seed = d.pop("seed", UNSET)

        search = cls(
            n_trials=n_trials,
            space=space,
            seed=seed,
        )

        return search

