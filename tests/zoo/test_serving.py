"""Preprocessing, the serving model in raw units, and strict loading of stored tensors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from service.zoo.build import build_autoencoder
from service.zoo.preprocess import fit_preprocessor
from service.zoo.serving import ServingModel, load_serving_model, serving_config
from service.zoo.spec import ModelSpec

RNG = np.random.default_rng(0)
X = (RNG.normal(size=(40, 6)) * [1, 10, 100, 0.1, 1, 1] + [0, 5, -3, 1, 0, 0]).astype(np.float32)
X[:, 5] = 7.0  # a constant feature


def test_standardize_and_minmax_and_none() -> None:
    std = fit_preprocessor("standardize", X)(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(std[:, :5].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(std[:, :5].std(axis=0), 1, atol=1e-4)
    assert np.all(std[:, 5] == 0)  # constant feature: scale 1, not a division by zero
    mm = fit_preprocessor("minmax", X)(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(mm[:, :5].min(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(mm[:, :5].max(axis=0), 1, atol=1e-6)
    none = fit_preprocessor("none", X)
    assert torch.equal(none(torch.from_numpy(X)), torch.from_numpy(X))


def test_inverse_undoes_forward() -> None:
    pre = fit_preprocessor("standardize", X)
    x = torch.from_numpy(X)
    torch.testing.assert_close(pre.inverse(pre(x)), x, rtol=1e-5, atol=1e-4)
    assert pre.shift.dtype == pre.scale.dtype == torch.float32


def make_model(kind: str = "dense", tied: bool = False) -> tuple[ServingModel, dict]:
    spec = ModelSpec.stored(
        {"architecture": {"kind": kind, "code_size": 2, "hidden_sizes": [8], "tied_weights": tied}}
    )
    torch.manual_seed(0)
    ae = build_autoencoder(spec, n_features=6, image_shape=None)
    model = ServingModel(fit_preprocessor("standardize", X), ae).eval()
    return model, serving_config(spec, 6, None)


def test_serving_model_speaks_raw_units() -> None:
    model, _ = make_model()
    x = torch.from_numpy(X[:5])
    pre, ae = model.preprocessor, model.autoencoder
    torch.testing.assert_close(model.reconstruct(x), pre.inverse(ae(pre(x))))
    torch.testing.assert_close(model.decode(model.encode(x)), model.reconstruct(x))
    errors = model.row_errors(x)
    assert errors.shape == (5,)
    torch.testing.assert_close(errors, (ae(pre(x)) - pre(x)).square().mean(dim=1))


@pytest.mark.parametrize(("kind", "tied"), [("dense", False), ("dense", True), ("vae", False)])
def test_safetensors_round_trip(tmp_path: Path, kind: str, tied: bool) -> None:
    model, config = make_model(kind, tied)
    path = tmp_path / "model.safetensors"
    save_file(model.state_dict(), str(path))
    config = json.loads(json.dumps(config))  # JSON-safe
    loaded = load_serving_model(config, load_file(str(path)))
    x = torch.from_numpy(X)
    assert not loaded.training
    assert torch.equal(loaded.reconstruct(x), model.reconstruct(x))


def test_loading_refuses_wrong_tensors() -> None:
    model, config = make_model()
    good = dict(model.state_dict())
    with pytest.raises(ValueError, match="missing"):
        load_serving_model(config, {k: v for k, v in good.items() if k != "preprocessor.shift"})
    with pytest.raises(ValueError, match="extra"):
        load_serving_model(config, {**good, "surprise": torch.zeros(1)})
    name = "autoencoder.encoder.layers.0.weight"
    with pytest.raises(ValueError, match="shape"):
        load_serving_model(config, {**good, name: torch.zeros(3, 3)})
    with pytest.raises(ValueError, match="non-finite"):
        load_serving_model(config, {**good, name: torch.full_like(good[name], float("nan"))})
    with pytest.raises(ValueError, match="format_version"):
        load_serving_model({**config, "format_version": 99}, good)
    assert load_serving_model(config, good) is not None
