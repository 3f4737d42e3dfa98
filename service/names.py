"""Names that more than one domain checks: a model's name is given to a training job and
to an import, and both must refuse the same names."""

from __future__ import annotations

MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
