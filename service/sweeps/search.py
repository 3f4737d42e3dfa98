"""Random and TPE search by Optuna's ask and tell, with the sweep row as its storage.

Each ask builds a study in memory from the trials the sweep row holds (their parameters
and values: `tell` is `add_trial` of a finished trial), then asks it once. Nothing of
Optuna's lives outside the service's own tables: the study is as durable as the sweep
row, needs no schema of its own beside the service's migrations (SQLite and PostgreSQL
alike), and the sampler is seeded per trial from (seed, trial number), so a random search
draws the same trials from the same seed whatever restarted in between.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.study import StudyDirection
from optuna.trial import TrialState, create_trial

from service.sweeps.schemas import ChoiceDimension, IntDimension, Search

optuna.logging.set_verbosity(optuna.logging.WARNING)


def distributions(search: Search) -> dict[str, BaseDistribution]:
    out: dict[str, BaseDistribution] = {}
    for path, dim in search.space.items():
        if isinstance(dim, ChoiceDimension):
            out[path] = CategoricalDistribution(dim.choices)
        elif isinstance(dim, IntDimension):
            out[path] = IntDistribution(dim.low, dim.high, log=dim.log)
        else:
            out[path] = FloatDistribution(dim.low, dim.high, log=dim.log)
    return out


def trial_seed(seed: int, number: int) -> int:
    """One sampler seed per trial: reproducible, and different for every trial."""
    return (seed * 1_000_003 + number * 7_919 + 17) % 2**32


def ask(
    kind: str, search: Search, trials: list[dict[str, Any]], *, higher_is_better: bool
) -> dict[str, Any]:
    """The parameters of the next trial, told every finished trial so far."""
    dists = distributions(search)
    number = len(trials)
    seed = trial_seed(search.seed, number)
    sampler: optuna.samplers.BaseSampler
    if kind == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, search.n_trials))
    else:
        sampler = optuna.samplers.RandomSampler(seed=seed)
    direction = StudyDirection.MAXIMIZE if higher_is_better else StudyDirection.MINIMIZE
    study = optuna.create_study(direction=direction, sampler=sampler)
    for trial in trials:
        params = trial.get("params") or {}
        if set(params) != set(dists):
            continue
        if trial.get("value") is not None:
            study.add_trial(
                create_trial(params=params, distributions=dists, value=float(trial["value"]))
            )
        elif trial.get("error") is not None:
            study.add_trial(create_trial(params=params, distributions=dists, state=TrialState.FAIL))
    return dict(study.ask(dists).params)
