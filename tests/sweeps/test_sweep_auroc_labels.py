"""A sweep's AUROC names the normal rows by `normal_label`, a label of the dataset as
uploaded (docs/sweeps.md); the rows store codes into the sorted label names, and the sweep
compared the codes: with labels {1, 2} and normal_label 1, the rows labelled 2 were taken as
the normal ones (AUROC 0.0 where it is 1.0)."""

from __future__ import annotations

import numpy as np
import torch
from fastapi.testclient import TestClient
from sklearn.metrics import roc_auc_score

from service.config import Settings
from service.training.data import split_rows
from service.zoo.pca import pca_fit
from tests.factories import npz_bytes, run_worker
from tests.sweeps.test_sweeps_streamed import trial_model

FRACTION, SEED = 0.25, 3


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n_normal, n_anom = 160, 40
    normal = rng.normal(size=(n_normal, 6))
    normal[:, 3] = normal[:, 0] + 0.05 * rng.normal(size=n_normal)
    anom = rng.normal(size=(n_anom, 6)) * 4 + 6
    X = np.concatenate([normal, anom]).astype(np.float32)
    y = np.array([1] * n_normal + [2] * n_anom, dtype=np.int64)  # label 1: the normal rows
    order = rng.permutation(len(X))
    return X[order], y[order]


def test_auroc_takes_normal_label_as_the_datasets_label(
    client: TestClient, settings: Settings
) -> None:
    X, y = _data()
    r = client.post(
        "/v1/datasets",
        files={"file": ("lab.npz", npz_bytes(X=X, y=y))},
        data={"name": "lab"},
    )
    assert r.status_code == 201, r.text
    base = {
        "architecture": {"hidden_sizes": [8]},
        "training": {"epochs": 3, "validation_fraction": FRACTION, "seed": SEED},
        "preprocessing": "standardize",
    }
    body = {
        "model": "sl",
        "dataset": "lab",
        "base": base,
        "grid": {"architecture.code_size": [2]},
        "metric": "auroc",
        "normal_label": 1,
    }
    r = client.post("/v1/sweeps", json=body)
    assert r.status_code == 202, r.text
    sweep_id = r.json()["id"]
    assert run_worker(settings, max_jobs=1) == 1
    done = client.get(f"/v1/sweeps/{sweep_id}").json()
    assert done["status"] == "succeeded", done
    train, val = split_rows(len(X), FRACTION, SEED)
    anomalous = y[val] != 1  # normal_label 1: rows labelled 1 are the normal ones
    (trial,) = done["trials"]
    model, _ = trial_model(client, trial["model_version"], name="sl")
    with torch.no_grad():
        scores = model.row_errors(torch.from_numpy(X[val])).numpy()
    expected = roc_auc_score(anomalous, scores)
    mean, comps = pca_fit(X[train].astype(np.float64), 2)
    c = X[val].astype(np.float64) - mean
    pca_expected = roc_auc_score(anomalous, ((c - c @ comps.T @ comps) ** 2).mean(axis=1))
    print("trial", trial["value"], "expected", expected)
    print("pca", done["pca_baseline"], "expected", pca_expected)
    assert trial["value"] is not None, trial
    assert abs(trial["value"] - expected) < 1e-6
    assert abs(done["pca_baseline"][0]["value"] - pca_expected) < 1e-6
