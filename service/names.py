"""Names that more than one domain checks: a model's name is given to a training job and
to an import, and both must refuse the same names."""

from __future__ import annotations

MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
# Names the Open Inference Protocol's routes give a meaning: /v2/models/stats is the
# statistics of every model, and `<name>.decoder` is a model's decoder.
RESERVED_MODEL_NAMES = frozenset({"stats"})
RESERVED_MODEL_SUFFIXES = (".decoder",)


def model_name_problem(name: str) -> str | None:
    """Why `name` cannot name a model (beyond MODEL_NAME_PATTERN), or None."""
    if name.lower() in RESERVED_MODEL_NAMES:
        return f"{name!r} is reserved: /v2/models/{name} is a route of its own"
    if name.lower().endswith(RESERVED_MODEL_SUFFIXES):
        return f"{name!r} ends with '.decoder', which /v2 reads as another model's decoder"
    return None
