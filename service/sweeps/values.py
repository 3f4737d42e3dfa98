"""A sweep's numbers: each trial's metric, PCA's at every code size, the best and the
recommended trial.

val_mse is what the trainer already records (validation MSE in the data's units). auroc
scores the trial's validation rows (its own split) with the trained version, rows
labelled `normal_label` as normal. PCA's baseline is fitted once (one SVD, on the base
spec's training split) and read at every code size.

The rows are those train() split and held (service.training.data.fitted_rows): of a
dataset trained in memory, its whole split; of a streamed one, the validation rows and the
training sample its scan held, read by index a chunk at a time, never the whole dataset.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_safetensors
from sqlalchemy.orm import Session

from service.artifacts import ArtifactStore
from service.datasets.chunks import ChunkedRows
from service.datasets.service import load_labels, open_rows
from service.datasets.tables import Dataset
from service.registry.tables import ModelVersion
from service.training.data import fitted_rows, is_streamed
from service.zoo.pca import pca_fit
from service.zoo.serving import load_serving_model

_ROWS = 4096


class MetricUnavailable(Exception):
    """The metric cannot be computed for this trial (told as the trial's error)."""


def higher_is_better(metric: str) -> bool:
    return metric == "auroc"


def _labels_normal(store: ArtifactStore, dataset: Dataset, normal_label: Any) -> np.ndarray:
    """Which rows carry `normal_label`, a label as the dataset was uploaded with: the rows
    store codes into `label_names` (labels {1, 2} are codes 0 and 1)."""
    labels = load_labels(store=store, labels_sha256=dataset.labels_sha256)
    if labels is None:
        raise MetricUnavailable(f"dataset {dataset.name!r} has no labels")
    codes = np.asarray(labels)
    names = [str(n) for n in dataset.label_names or []]
    if not names:  # no names recorded: the stored values are the labels
        return codes.astype(str) == str(normal_label)
    if str(normal_label) not in names:
        raise MetricUnavailable(f"{normal_label!r} is not a label of {dataset.name!r}")
    return codes == names.index(str(normal_label))


def dataset_labels(store: ArtifactStore, dataset: Dataset) -> set[str]:
    """The dataset's labels as uploaded (its label names), not the codes its rows store."""
    if dataset.label_names:
        return {str(n) for n in dataset.label_names}
    labels = load_labels(store=store, labels_sha256=dataset.labels_sha256)
    return set() if labels is None else {str(v) for v in np.unique(np.asarray(labels))}


def _auroc(normal: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score  # here: it and scipy.stats slow an API start

    anomalous = ~normal
    if anomalous.all() or not anomalous.any():
        raise MetricUnavailable("the validation rows hold one class only: no AUROC")
    return float(roc_auc_score(anomalous, scores))


def _batches(rows: ChunkedRows, picked: np.ndarray) -> Iterator[np.ndarray]:
    """The picked rows (sorted indices), float32, at most _ROWS at a time. A dataset trained
    in memory is read whole, as it was trained; a streamed one a chunk at a time, each chunk
    holding picked rows read once."""
    if not is_streamed(rows):
        X = np.ascontiguousarray(rows.read_all()[picked], dtype=np.float32)
        for i in range(0, len(X), _ROWS):
            yield X[i : i + _ROWS]
        return
    starts = [c.first_row for c in rows.chunks] + [rows.n_rows]
    bounds = np.searchsorted(picked, starts)
    for lo, hi in pairwise(bounds):
        if lo < hi:
            X = rows.take(picked[lo:hi])  # one chunk's picked rows
            for i in range(0, len(X), _ROWS):
                yield X[i : i + _ROWS]


def _read(rows: ChunkedRows, train: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The training and validation rows, float64: of a streamed dataset only these rows
    (at most TRAIN_SAMPLE_BYTES and VAL_MAX_BYTES of them, as float32) are read."""
    if not is_streamed(rows):
        X = rows.read_all().astype(np.float64)
        return X[train], X[val]
    both = rows.take(np.concatenate([train, val])).astype(np.float64)
    return both[: len(train)], both[len(train) :]


def trial_value(
    session: Session,
    store: ArtifactStore,
    *,
    metric: str,
    normal_label: Any,
    version: ModelVersion,
    dataset: Dataset | None,
) -> float:
    """The sweep's metric for one trained version."""
    if metric == "val_mse":
        value = version.metrics.get("val_mse")
        if value is None:
            raise MetricUnavailable("the version recorded no val_mse")
        return float(value)
    if dataset is None:
        raise MetricUnavailable("the sweep's dataset was deleted")
    training = version.spec.get("training", {})
    rows = open_rows(session=session, store=store, dataset=dataset)
    fraction, seed = training.get("validation_fraction", 0.2), training.get("seed", 0)
    _, val = fitted_rows(rows, fraction, seed)
    normal = _labels_normal(store, dataset, normal_label)[val]
    model = load_serving_model(
        version.config, load_safetensors(store.get_bytes(version.artifact_sha256))
    ).eval()
    with torch.no_grad():
        scores = np.concatenate(
            [
                model.row_errors(torch.from_numpy(X_val)).float().numpy()
                for X_val in _batches(rows, val)
            ]
        )
    return _auroc(normal, scores)


def pca_baseline(
    session: Session,
    store: ArtifactStore,
    *,
    dataset: Dataset,
    code_sizes: Sequence[int],
    metric: str,
    normal_label: Any,
    validation_fraction: float,
    seed: int,
) -> dict[str, float]:
    """PCA's metric at each code size (one SVD), on the split the base spec's trials use
    (of a streamed dataset: fitted on the training sample, measured on the validation rows
    held): val_mse in the data's units, or the AUROC of its reconstruction error."""
    rows = open_rows(session=session, store=store, dataset=dataset)
    train, val = fitted_rows(rows, validation_fraction, seed)
    sizes = [k for k in code_sizes if 1 <= k <= rows.n_features]
    if not sizes:
        return {}
    X_train, X_val = _read(rows, train, val)
    mean, components = pca_fit(X_train, max(sizes))
    centred = X_val - mean
    normal = _labels_normal(store, dataset, normal_label)[val] if metric == "auroc" else None
    out: dict[str, float] = {}
    for k in sizes:
        top = components[:k]
        errors = ((centred - centred @ top.T @ top) ** 2).mean(axis=1)
        if normal is None:
            out[str(k)] = float(errors.mean())
        else:
            try:
                out[str(k)] = _auroc(normal, errors)
            except MetricUnavailable:
                continue
    return out


def best_of(trials: list[dict[str, Any]], metric: str) -> dict[str, Any] | None:
    scored = [t for t in trials if t.get("value") is not None]
    if not scored:
        return None
    sign = -1.0 if higher_is_better(metric) else 1.0
    return min(scored, key=lambda t: (sign * t["value"], t["number"]))


def recommended_of(
    trials: list[dict[str, Any]], metric: str, tolerance: float
) -> dict[str, Any] | None:
    """The smallest code size whose metric is within `tolerance` (a fraction) of the best;
    of its trials, the best."""
    best = best_of(trials, metric)
    if best is None:
        return None
    margin = tolerance * abs(best["value"])
    lower, upper = best["value"] - margin, best["value"] + margin
    scored = [t for t in trials if t.get("value") is not None]
    if higher_is_better(metric):
        near = [t for t in scored if t["value"] >= lower]
    else:
        near = [t for t in scored if t["value"] <= upper]
    smallest = min(t["code_size"] for t in near)
    return best_of([t for t in near if t["code_size"] == smallest], metric)
