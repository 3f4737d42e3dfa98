"""Is a new version worse than what an alias points at, or than PCA at its code size?

`latest` always means "newest": it moves to a worse version too. So the version JSON, the
CLI's `train --follow` and the dashboard say so, from `worse_than` below. The comparison
lives in this one function so that it follows the metrics the versions record: the figures
in data units go first in QUALITY_METRICS as soon as versions carry them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from service.registry.schemas import QualityWarning

# (a version's error, the PCA baseline's error at the same code size), best first
QUALITY_METRICS = (("val_mse_data", "pca_val_mse_data"), ("val_mse", "pca_val_mse"))
# Two runs of the same spec differ by noise; "worse" is past this fraction.
WORSE_MARGIN = 0.01


def _metric(metrics: Mapping[str, Any], name: str) -> float | None:
    value = metrics.get(name)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _worse(value: float, baseline: float) -> bool:
    return value > baseline * (1 + WORSE_MARGIN)


def worse_than(
    *,
    metrics: Mapping[str, Any],
    dataset_sha256: str | None,
    aliased: Mapping[str, tuple[int, Mapping[str, Any], str | None]],
) -> list[QualityWarning]:
    """What this version is worse than: PCA, and each alias's version (alias -> (version,
    metrics, dataset sha256)) trained on the same data and measured the same way."""
    found = [(e, p) for e, p in QUALITY_METRICS if _metric(metrics, e) is not None]
    if not found:
        return []
    error_name, pca_name = found[0]
    value = _metric(metrics, error_name)
    assert value is not None
    warnings = []
    pca = _metric(metrics, pca_name)
    if pca is not None and _worse(value, pca):
        warnings.append(
            QualityWarning(
                against="pca",
                metric=error_name,
                value=value,
                baseline_value=pca,
                message=f"{error_name} {value:.4g} is worse than PCA's {pca:.4g} at the same "
                "code size",
            )
        )
    for alias, (version, other, other_dataset) in sorted(aliased.items()):
        other_value = _metric(other, error_name)
        if other_value is None or other_dataset != dataset_sha256:
            continue  # measured another way, or on other data: not comparable
        if _worse(value, other_value):
            warnings.append(
                QualityWarning(
                    against=f"alias:{alias}",
                    alias=alias,
                    version=version,
                    metric=error_name,
                    value=value,
                    baseline_value=other_value,
                    message=f"{error_name} {value:.4g} is worse than version {version}'s "
                    f"{other_value:.4g} (alias {alias!r})",
                )
            )
    return warnings
