"""Specs that cannot work are refused before any training (and by train() itself)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from service.training.trainer import train
from service.zoo.spec import ModelSpec, SpecError, check_against_dataset, check_spec


def spec(architecture: dict[str, Any], **rest: Any) -> ModelSpec:
    return ModelSpec.model_validate({"architecture": {"code_size": 2, **architecture}, **rest})


@pytest.mark.parametrize(
    ("bad", "loc"),
    [
        (
            spec({"kind": "linear"}, regularization={"sparsity": {"kind": "kl"}}),
            ("regularization", "sparsity", "kind"),
        ),
        (spec({"kind": "vae"}, training={"strategy": "layerwise"}), ("training", "strategy")),
        (  # an L1 penalty a VAE's loss never added
            spec({"kind": "vae"}, regularization={"sparsity": {"kind": "l1"}}),
            ("regularization", "sparsity", "kind"),
        ),
        (spec({"kind": "vae", "hidden_sizes": []}), ("architecture", "hidden_sizes")),
    ],
)
def test_check_spec_refuses(bad: ModelSpec, loc: tuple[str, ...]) -> None:
    with pytest.raises(SpecError) as error:
        check_spec(bad)
    assert error.value.loc == loc
    with pytest.raises(SpecError):
        train(spec=bad, X=np.zeros((10, 4), np.float32), image_shape=None)


@pytest.mark.parametrize(
    ("architecture", "field"),
    [
        ({"kind": "conv", "tied_weights": True}, "tied_weights"),
        ({"kind": "vae", "tied_weights": False}, "tied_weights"),
        ({"kind": "linear", "output_activation": "sigmoid"}, "output_activation"),
        ({"kind": "linear", "hidden_sizes": [8]}, "hidden_sizes"),
        ({"kind": "dense", "conv_channels": [8]}, "conv_channels"),
        ({"kind": "conv_vae", "hidden_sizes": "auto"}, "hidden_sizes"),
    ],
)
def test_a_field_its_kind_has_not_is_refused(architecture: dict[str, Any], field: str) -> None:
    """The architecture is a oneOf by kind: each kind takes only its own fields."""
    with pytest.raises(ValidationError) as error:
        spec(architecture)
    (problem,) = error.value.errors()
    assert problem["type"] == "extra_forbidden"
    assert problem["loc"] == ("architecture", architecture["kind"], field)


def test_a_0x_stored_spec_with_every_kinds_fields_still_reads() -> None:
    """0.x stored all of a spec's fields whatever its kind: read back, the foreign ones go."""
    stored = {
        "architecture": {
            "kind": "linear",
            "code_size": 2,
            "hidden_sizes": [64],
            "conv_channels": [32, 64],
            "activation": "elu",
            "output_activation": "linear",
            "tied_weights": False,
        }
    }
    read = ModelSpec.stored(stored)
    assert read.architecture.model_dump() == {"kind": "linear", "code_size": 2}
    with pytest.raises(ValidationError):
        ModelSpec.model_validate(stored)  # from a client, the same body is refused
    assert spec({}).architecture.kind == "dense"  # kind defaults to dense


def test_conv_without_image_shape_is_refused() -> None:
    with pytest.raises(SpecError, match="image_shape"):
        check_against_dataset(
            spec({"kind": "conv"}),
            n_features=64,
            image_shape=None,
            preprocessed_min=0,
            preprocessed_max=1,
        )
    with pytest.raises(SpecError, match="image_shape"):
        train(spec=spec({"kind": "conv"}), X=np.zeros((10, 64), np.float32), image_shape=None)


def test_bce_on_data_outside_unit_range_is_refused() -> None:
    bce = spec({}, training={"loss": "bce"})
    with pytest.raises(SpecError, match="bce"):
        check_against_dataset(
            bce, n_features=4, image_shape=None, preprocessed_min=-2, preprocessed_max=2
        )
    X = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    with pytest.raises(SpecError, match="bce"):
        train(spec=bce, X=X, image_shape=None)  # standardized data leave [0, 1]
    with pytest.raises(SpecError, match="bce needs a sigmoid output"):
        check_against_dataset(  # in range, but the output stays linear: no gradient past (0, 1)
            bce, n_features=4, image_shape=None, preprocessed_min=0, preprocessed_max=1
        )
    for sigmoid in (
        spec({}, training={"loss": "bce"}, preprocessing="minmax"),  # auto: sigmoid
        spec({"output_activation": "sigmoid"}, training={"loss": "bce"}),
    ):
        check_against_dataset(
            sigmoid, n_features=4, image_shape=None, preprocessed_min=0, preprocessed_max=1
        )
    linear = spec({"kind": "linear"}, training={"loss": "bce"}, preprocessing="minmax")
    with pytest.raises(SpecError, match="bce needs a sigmoid output"):
        check_against_dataset(
            linear, n_features=4, image_shape=None, preprocessed_min=0, preprocessed_max=1
        )
