"""From a sweep request to trial specs: dotted paths, the grid's combinations, the space's
corners, each checked against the job spec model before any job exists.

A refusal is a 422 that names the request field (`grid.architecture.code_size`,
`random.space.training.learning_rate`, `base.architecture.kind`) and the value.
"""

from __future__ import annotations

import copy
import itertools
import math
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from service.errors import Unprocessable, error_loc, error_message
from service.sweeps.schemas import ChoiceDimension, FloatDimension, IntDimension, SweepCreate
from service.zoo.spec import ARCHITECTURES, ModelSpec, SpecError

Params = dict[str, Any]
SpecCheck = Callable[[ModelSpec], None]  # raises Unprocessable naming the spec's field


Keys = tuple[str, ...]  # where in the request: JSON keys, a dotted spec path being one


def refusal(keys: Keys, message: str, *, code: str | None = None) -> Unprocessable:
    """A 422 on the field at `keys`, whose JSON pointer keeps a dotted path one key
    (`/grid/architecture.code_size`, as the request spells it)."""
    parts = [k for key in keys[:1] for k in key.split(".")] + list(keys[1:])
    exc = Unprocessable(".".join(parts), message, code=code)
    pointer = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)
    exc.extra["errors"][0]["pointer"] = pointer
    return exc


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The Pydantic models a field's annotation may hold (through unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def is_spec_path(path: str) -> bool:
    """Whether `path` names a field of a job's spec (`architecture.code_size`)."""
    models: list[type[BaseModel]] = [ModelSpec]
    parts = path.split(".")
    for i, part in enumerate(parts):
        owner = next((m for m in models if part in m.model_fields), None)
        if owner is None:
            return False
        models = _models_in(owner.model_fields[part].annotation)
        if not models and i < len(parts) - 1:
            return False
    return True


def merge(base: dict[str, Any], params: Params) -> dict[str, Any]:
    """`base` with each dotted path set (a non-object on the way, e.g. "auto", is replaced)."""
    merged = copy.deepcopy(base)
    for path, value in params.items():
        node = merged
        *parents, leaf = path.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[leaf] = value
    return merged


def _describe(params: Params) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items()) or "the base alone"


def spec_of(body: SweepCreate, params: Params, field_of: Callable[[str], Keys]) -> ModelSpec:
    """The trial's spec; a refusal names the request field that set the offending value
    (`field_of` maps a spec path to it) and the combination."""
    merged = _fit_to_kind(merge(body.base.model_dump(), params), params)
    try:
        return ModelSpec.model_validate(merged)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = error_loc(error)
        spec_path = ".".join(str(p) for p in loc)
        value = params[spec_path] if spec_path in params else error.get("input")
        shown = "missing" if error["type"] == "missing" else f"{value!r} is refused"
        raise refusal(
            field_of(spec_path), f"{shown}: {error_message(error)} (trial {_describe(params)})"
        ) from exc


def _fit_to_kind(merged: dict[str, Any], params: Params) -> dict[str, Any]:
    """A base is shared by every kind a search tries: the base's architecture fields that a
    trial's kind has not (hidden_sizes on a linear trial) are left out of that trial. A
    field the search itself sets is kept, and refused if its kind has not got it."""
    arch = merged.get("architecture")
    kind = arch.get("kind", "dense") if isinstance(arch, dict) else None
    model = ARCHITECTURES.get(kind) if isinstance(kind, str) else None
    if isinstance(arch, dict) and model is not None:
        searched = {p.split(".", 1)[1] for p in params if p.startswith("architecture.")}
        for key in [k for k in arch if k not in model.model_fields and k not in searched]:
            del arch[key]
    return merged


def check_trial(
    body: SweepCreate, params: Params, field_of: Callable[[str], Keys], check: SpecCheck
) -> ModelSpec:
    """spec_of, then the checks a job's spec meets against its dataset (`check`)."""
    spec = spec_of(body, params, field_of)
    try:
        check(spec)
    except SpecError as exc:
        raise _refusal(exc.loc, exc.message, params, field_of) from exc
    except Unprocessable as exc:
        raise _refusal((exc.field,), exc.detail.split(": ", 1)[-1], params, field_of) from exc
    return spec


def _refusal(
    loc: tuple[Any, ...], message: str, params: Params, field_of: Callable[[str], Keys]
) -> Unprocessable:
    spec_path = ".".join(str(p) for p in loc)
    value = params.get(spec_path)
    shown = f"{value!r} is refused: " if spec_path in params else ""
    return refusal(field_of(spec_path), f"{shown}{message} (trial {_describe(params)})")


def field_for(prefix: str, searched: set[str]) -> Callable[[str], Keys]:
    """The request field that set a spec path: the search's (`grid.<path>`) where the
    search sets it or a path under it, else the base's (`base.<path>`)."""

    def field_of(spec_path: str) -> Keys:
        for path in searched:
            if spec_path == path or spec_path.startswith(path + "."):
                rest = spec_path[len(path) + 1 :]
                return (prefix, path, *([rest] if rest else []))
        return ("base", *spec_path.split("."))

    return field_of


# What decides a trial's validation rows: the trials and their PCA baseline are compared on
# one split, the base's (a trial on other rows would be scored against other rows' PCA).
SPLIT_PATHS = ("training.seed", "training.validation_fraction")


def check_paths(prefix: str, paths: list[str]) -> None:
    for path in paths:
        if not is_spec_path(path):
            raise refusal(
                (prefix, path),
                f"{path!r} is not a field of a job's spec (architecture.*, regularization.*, "
                "training.*, preprocessing)",
                code="unknown_spec_path",
            )
        if path in SPLIT_PATHS:
            raise refusal(
                (prefix, path),
                f"{path!r} decides the validation rows, which every trial and the PCA "
                "baseline share: set it in base, not per trial",
            )


def grid_combinations(body: SweepCreate, max_trials: int) -> list[Params]:
    """Every combination of the grid, in the grid's order (the last path varies fastest)."""
    grid = body.grid or {}
    if not grid:
        raise Unprocessable("grid", "{} is empty: name at least one spec path and its values")
    check_paths("grid", list(grid))
    for path, values in grid.items():
        if not values:
            raise refusal(("grid", path), "[] is empty: give at least one value")
    total = math.prod(len(v) for v in grid.values())
    if total > max_trials:
        raise Unprocessable(
            "grid",
            f"{total} combinations is more than AESVC_MAX_SWEEP_TRIALS ({max_trials})",
            code="too_many_trials",
        )
    paths = list(grid)
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*grid.values())]


def check_space(prefix: str, body: SweepCreate, max_trials: int, check: SpecCheck) -> None:
    """A search's space and n_trials; every choice and both ends of every range are tried
    on the spec (the other dimensions at their first value), so a spec refusal shows now."""
    search = body.random or body.tpe
    assert search is not None
    if search.n_trials <= 0 or search.n_trials > max_trials:
        raise Unprocessable(
            f"{prefix}.n_trials",
            f"{search.n_trials} is out of range: 1 to AESVC_MAX_SWEEP_TRIALS ({max_trials})",
            code="too_many_trials" if search.n_trials > 0 else None,
        )
    if not search.space:
        raise Unprocessable(f"{prefix}.space", "{} is empty: name at least one spec path")
    check_paths(f"{prefix}.space", list(search.space))
    for path, dim in search.space.items():
        if isinstance(dim, IntDimension | FloatDimension):
            if dim.low > dim.high:
                raise refusal(
                    (f"{prefix}.space", path, "low"), f"{dim.low!r} is above high ({dim.high!r})"
                )
            if dim.log and dim.low <= 0:
                raise refusal(
                    (f"{prefix}.space", path, "low"), f"{dim.low!r}: a log scale needs low > 0"
                )
    field_of = field_for(f"{prefix}.space", set(search.space))
    first = {path: corners(dim)[0] for path, dim in search.space.items()}
    for path, dim in search.space.items():
        for value in corners(dim):
            check_trial(body, {**first, path: value}, field_of, check)


def corners(dim: ChoiceDimension | IntDimension | FloatDimension) -> list[Any]:
    """The values a space is tried with: every choice, a range's ends, and for a float
    range a value strictly inside (a fraction, which an integer field refuses)."""
    if isinstance(dim, ChoiceDimension):
        return list(dim.choices)
    if isinstance(dim, FloatDimension) and dim.low < dim.high:  # a fraction between whole ends
        return [dim.low, dim.high, dim.low + (dim.high - dim.low) * 0.3819660112501051]
    return [dim.low, dim.high]


def iter_code_sizes(specs: Iterator[ModelSpec]) -> list[int]:
    return sorted({spec.architecture.code_size for spec in specs})
