"""Validate inputs against the model, then run one operation under inference mode."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from sqlalchemy.orm import Session

from service.errors import Unprocessable
from service.inference.cache import LoadedModel, ModelCache
from service.registry.service import resolve_version


def load_version(*, session: Session, cache: ModelCache, name: str, ref: str) -> LoadedModel:
    mv = resolve_version(session=session, name=name, ref=ref)
    return cache.get(
        name=name,
        version=mv.version,
        sha256=mv.artifact_sha256,
        config=mv.config,
        metrics=mv.metrics,
    )


def to_matrix(rows: Any, *, n_columns: int, field: str, max_rows: int) -> np.ndarray:
    """(n, n_columns) float32 with finite values, or a 422 that says what was expected."""
    expected = f"expected shape (n, {n_columns}) with 1 <= n <= {max_rows}"
    if isinstance(rows, np.ndarray):
        array = rows
    else:
        if not rows:
            raise Unprocessable(field, f"is empty; {expected}")
        widths = {len(row) for row in rows}
        if len(widths) != 1:
            raise Unprocessable(field, f"rows have different lengths {sorted(widths)}; {expected}")
        array = np.asarray(rows, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != n_columns or array.shape[0] == 0:
        raise Unprocessable(field, f"got shape {tuple(array.shape)}; {expected}")
    if array.shape[0] > max_rows:
        raise Unprocessable(field, f"{array.shape[0]} rows is over the limit; {expected}")
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise Unprocessable(
            field,
            f"{int(bad.sum())} NaN or infinite values; the first in row {row}; "
            f"{expected} and finite values",
        )
    return np.ascontiguousarray(array, dtype=np.float32)


def _rows(t: torch.Tensor) -> list[list[float]]:
    rows: list[list[float]] = t.detach().cpu().numpy().tolist()
    return rows


def encode(
    loaded: LoadedModel, x: np.ndarray, *, sample: bool, seed: int | None = None
) -> dict[str, Any]:
    if sample and not loaded.variational:
        raise Unprocessable("sample", "only a variational model can sample codings")
    with torch.inference_mode():
        xt = torch.from_numpy(x)
        if not loaded.variational:
            return {"codings": _rows(loaded.model.encode(xt))}
        mean, log_var = loaded.model.encode_stats(xt)  # (B, code_size) each
        codings = mean
        if sample:
            generator = torch.Generator().manual_seed(seed if seed is not None else 0)
            noise = torch.randn(mean.shape, generator=generator)
            codings = mean + noise * torch.exp(0.5 * log_var)
        return {"codings": _rows(codings), "log_var": _rows(log_var)}


def reconstruct(loaded: LoadedModel, x: np.ndarray) -> dict[str, Any]:
    with torch.inference_mode():
        xt = torch.from_numpy(x)
        recon = loaded.model.reconstruct(xt)
        errors = loaded.model.row_errors(xt)
    return {
        "reconstructions": _rows(recon),
        "errors": [float(e) if math.isfinite(e) else None for e in errors.tolist()],
    }
