"""The data profile and each `auto` decision it drives; explicit fields always win."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from service.training.trainer import train
from service.zoo.auto import resolve_spec
from service.zoo.datasets_builtin import load_digits_unit, make_pca3d
from service.zoo.preprocess import SCALE_FLOOR_OF_MEDIAN, fit_shift_scale
from service.zoo.profile import DataProfile, profile_data
from service.zoo.spec import ModelSpec


def _spec(**fields: object) -> ModelSpec:
    body: dict[str, object] = {"architecture": {"code_size": 2}}
    for key, value in fields.items():
        section, _, name = key.partition("__")
        if name:
            body.setdefault(section, {})[name] = value  # type: ignore[index]
        else:
            body[section] = value
    return ModelSpec.model_validate(body)


def _tabular(n_rows: int = 2000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n_rows, 6)) * [1, 10, 100, 0.1, 5, 50] + 20).astype(np.float32)


# ---------------------------------------------------------------- the profile


def test_profile_of_unit_range_images() -> None:
    X, _ = load_digits_unit()
    profile = profile_data(X, (8, 8, 1))
    assert profile.image and profile.unit_range and profile.shared_bounded_range
    assert (profile.n_rows, profile.n_features) == (1797, 64)
    assert profile.constant_fraction > 0  # digits has pixels that are always 0


def test_profile_of_byte_pixels_and_of_tabular_data() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, size=(50, 12)).astype(np.float32)
    assert profile_data(pixels).shared_bounded_range and profile_data(pixels).integer_valued
    tabular = profile_data(_tabular())
    assert not tabular.shared_bounded_range and not tabular.integer_valued
    assert tabular.binary_fraction == 0.0 and tabular.heavy_tailed_fraction == 0.0


def test_profile_counts_binary_constant_and_heavy_tailed_columns() -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            rng.integers(0, 2, 1000),  # binary
            np.full(1000, 3.0),  # constant (and so binary too)
            rng.standard_cauchy(1000),  # heavy tails
            rng.normal(size=1000),
        ]
    ).astype(np.float32)
    profile = profile_data(X)
    assert profile.binary_fraction == 0.5
    assert profile.constant_fraction == 0.25
    assert profile.heavy_tailed_fraction == 0.25


# ---------------------------------------------------------------- each decision


def test_auto_preprocessing_follows_the_data_and_the_kind() -> None:
    images = profile_data(load_digits_unit()[0], (8, 8, 1))
    tabular = profile_data(_tabular())
    assert resolve_spec(_spec(), images)[0].preprocessing == "global_minmax"
    assert resolve_spec(_spec(), tabular)[0].preprocessing == "standardize"
    linear = _spec(architecture={"kind": "linear", "code_size": 2})
    assert resolve_spec(linear, tabular)[0].preprocessing == "none"
    bounded = profile_data(np.random.default_rng(0).random((100, 5)).astype(np.float32))
    assert resolve_spec(_spec(), bounded)[0].preprocessing == "global_minmax"


def test_auto_output_activation_and_loss() -> None:
    images = profile_data(load_digits_unit()[0], (8, 8, 1))
    dense, why = resolve_spec(_spec(), images)
    assert dense.architecture.output_activation == "sigmoid" and dense.training.loss == "mse"
    assert "training.loss" in why and "architecture.output_activation" in why
    vae = resolve_spec(_spec(architecture={"kind": "vae", "code_size": 2}), images)[0]
    assert vae.training.loss == "bce"
    tabular_vae = resolve_spec(
        _spec(architecture={"kind": "vae", "code_size": 2}), profile_data(_tabular())
    )[0]
    assert tabular_vae.architecture.output_activation == "linear"
    assert tabular_vae.training.loss == "mse"


def test_small_data_gets_a_smaller_network_and_weight_decay() -> None:
    small, why = resolve_spec(_spec(), profile_data(_tabular(300)))
    large = resolve_spec(_spec(), profile_data(_tabular(5000)))[0]
    assert isinstance(small.architecture.hidden_sizes, list)
    assert isinstance(large.architecture.hidden_sizes, list)
    assert len(small.architecture.hidden_sizes) < len(large.architecture.hidden_sizes)
    assert sum(small.architecture.hidden_sizes) < sum(large.architecture.hidden_sizes)
    assert small.regularization.weight_decay > large.regularization.weight_decay == 0.0
    assert "300 rows" in why["architecture.hidden_sizes"]


def test_auto_noise_and_batch_size() -> None:
    profile = profile_data(_tabular())
    dense = resolve_spec(_spec(), profile)[0]
    assert dense.regularization.denoising is not None
    assert dense.regularization.denoising != "auto"
    assert dense.regularization.denoising.gaussian_std == pytest.approx(0.1)
    # with a linear path the layers learn a correction finer than that noise
    path = _spec(architecture={"code_size": 2, "linear_path": True})
    with_path, why = resolve_spec(path, profile)
    assert with_path.regularization.denoising is None
    assert "linear path" in why["regularization.denoising"]
    for kind in ("linear", "vae"):
        spec = resolve_spec(_spec(architecture={"kind": kind, "code_size": 2}), profile)[0]
        assert spec.regularization.denoising is None, kind
    assert dense.training.batch_size == 32
    assert resolve_spec(_spec(), profile_data(_tabular(20_000)))[0].training.batch_size == 256


def test_every_explicit_field_wins_over_auto() -> None:
    profile = profile_data(load_digits_unit()[0], (8, 8, 1))
    explicit = _spec(
        architecture={
            "code_size": 2,
            "hidden_sizes": [7],
            "output_activation": "linear",
            "linear_path": False,
        },
        regularization={"weight_decay": 0.3, "denoising": None},
        training={"loss": "mse", "batch_size": 5, "early_stopping_patience": 4},
        preprocessing="standardize",
    )
    resolved, why = resolve_spec(explicit, profile)
    assert resolved == explicit
    assert why == {}


def test_a_constant_column_does_not_fail_auto_and_the_choice_is_recorded() -> None:
    X = np.column_stack([np.full(200, 5.0), np.random.default_rng(0).normal(size=(200, 3))])
    result = train(spec=_spec(training={"epochs": 2}), X=X.astype(np.float32), image_shape=None)
    spec = ModelSpec.model_validate(result.config["spec"])
    assert spec.preprocessing == "standardize" and spec.training.loss == "mse"
    assert "preprocessing" in result.metrics["auto_decisions"]


# ---------------------------------------------------------------- near-constant features


def test_no_per_feature_scale_is_near_zero() -> None:
    X = _tabular(500)
    X[:, 0] = 0.0
    X[0, 0] = 0.01  # one row touches it: std ~ 0.0004
    for kind in ("standardize", "minmax"):
        _, scale = fit_shift_scale(kind, X)
        others = np.median(scale[1:])
        assert scale[0] >= SCALE_FLOOR_OF_MEDIAN * min(others, np.median(scale)) - 1e-9, kind


def test_a_small_move_of_a_border_pixel_moves_the_output_less() -> None:
    X, _ = load_digits_unit()
    result = train(spec=_spec(training={"epochs": 5}), X=X, image_shape=(8, 8, 1))
    border = [j for j in range(64) if 0 < X[:, j].std() < 0.01]  # nearly constant pixels
    assert border, "digits has border pixels that a few rows touch"
    rows = torch.from_numpy(X[:50])
    moved = rows.clone()
    moved[:, border] += 0.2
    with torch.no_grad():
        before, after = result.model.reconstruct(rows), result.model.reconstruct(moved)
    output_move = (after - before).norm(dim=1)
    input_move = (moved - rows).norm(dim=1)
    assert bool((output_move <= input_move).all()), float((output_move / input_move).max())


def test_data_profile_round_trips_as_json() -> None:
    profile = profile_data(make_pca3d())
    assert DataProfile.model_validate(profile.model_dump()) == profile
