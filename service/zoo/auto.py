"""`auto` spec fields, decided from the dataset's profile.

`resolve_spec` turns every `auto` into a value and says why; the version stores the
resolved spec, so what a model was trained with is always on record. An explicit field
always wins.
"""

from __future__ import annotations

from typing import Any

from service.zoo.profile import DataProfile
from service.zoo.spec import (
    Auto,
    DenseArchitecture,
    ModelSpec,
    linear_path_refusal,
    resolved_output_activation,
)

_SMALL_ROWS = 1000  # fewer rows than this: a smaller network and more weight decay
_LARGE_ROWS = 10_000  # from this many rows on, larger batches
_NOISE_STD = 0.1  # input noise of the auto regularizer, in preprocessed units


def _preprocessing(spec: ModelSpec, profile: DataProfile) -> tuple[str, str]:
    if spec.architecture.kind == "linear":
        return "none", "kind linear is PCA in the data's own units (centring is its bias)"
    if profile.image:
        return "global_minmax", "an image: one scale for every pixel, into [0, 1]"
    if profile.shared_bounded_range:
        return "global_minmax", (
            f"every feature in one bounded range [{profile.min:.4g}, {profile.max:.4g}]: "
            "one scale for all, into [0, 1]"
        )
    return "standardize", "features on different scales: each to mean 0, unit variance"


def _hidden_sizes(spec: ModelSpec, profile: DataProfile) -> tuple[list[int], str]:
    n_features, n_rows = profile.n_features, profile.n_rows
    code = spec.architecture.code_size
    if n_rows < _SMALL_ROWS:
        width = max(2 * code, min(4 * n_features, 64))
        return [width], f"{n_rows} rows: one hidden layer, small enough not to overfit"
    first = int(min(512, max(4 * code, 4 * n_features)))
    second = int(max(2 * code, first // 2))
    return [first, second], f"{n_features} features, {n_rows} rows"


def _weight_decay(profile: DataProfile) -> tuple[float, str]:
    if profile.n_rows < _SMALL_ROWS:
        return 0.05, f"{profile.n_rows} rows: decoupled weight decay against overfitting"
    return 0.0, f"{profile.n_rows} rows: input noise and early stopping are enough"


def _denoising(spec: ModelSpec, arch: dict[str, Any]) -> tuple[dict[str, float] | None, str]:
    kind = spec.architecture.kind
    if arch.get("linear_path") is True:
        return None, (
            "a linear path: the layers learn a small correction to PCA in the data's units, "
            f"finer than input noise of std {_NOISE_STD}"
        )
    if kind in ("dense", "conv"):
        return {"gaussian_std": _NOISE_STD, "dropout": 0.0}, (
            f"gaussian noise of std {_NOISE_STD} on the inputs in training: a regularizer "
            "(the network learns the data's manifold, not each training row)"
        )
    return None, f"kind {kind}: no input noise"


def _output_auto(spec: ModelSpec) -> bool:
    arch = spec.architecture
    return isinstance(arch, DenseArchitecture) and arch.output_activation == "auto"


def _linear_path(spec: ModelSpec, arch: dict[str, Any]) -> tuple[bool, str]:
    refusal = linear_path_refusal(spec, auto_output=_output_auto(spec))
    if refusal is not None:
        return False, f"off: {refusal}"
    output = " (and a clip output)" if arch["output_activation"] == "sigmoid" else ""
    return False, (
        f"off; trained again with one{output} if this model's validation error in the "
        "data's units is above PCA's"
    )


def with_linear_path(
    spec: ModelSpec, profile: DataProfile
) -> tuple[ModelSpec, dict[str, str]] | None:
    """The second training of an auto linear path (see training.trainer.train): the spec
    resolved with the path on (an output left to auto: clip where it meant sigmoid), or
    None where the path is explicit or cannot be."""
    arch = spec.architecture
    if not isinstance(arch, DenseArchitecture) or not isinstance(arch.linear_path, Auto):
        return None
    first, _ = resolve_spec(spec, profile)
    bounded = resolved_output_activation(first) == "sigmoid"
    data = spec.model_dump()
    data["architecture"]["linear_path"] = True
    if _output_auto(spec):  # the sum of a path and the layers is no sigmoid's input
        data["architecture"]["output_activation"] = "clip" if bounded else "linear"
    second = ModelSpec.model_validate(data)
    resolved, decisions = resolve_spec(second, profile)
    if _output_auto(spec) and bounded:
        decisions["architecture.output_activation"] = (
            "clip: the data lie in [0, 1] after preprocessing, and a sigmoid cannot follow "
            "a linear path (PCA's reconstruction is no sigmoid's output)"
        )
    if linear_path_refusal(resolved) is not None:
        return None
    decisions["architecture.linear_path"] = (
        "on: trained without one, the model's validation error in the data's units was "
        "above PCA's; trained again on a linear path fixed at PCA's solution"
    )
    return resolved, decisions


def _batch_size(profile: DataProfile) -> tuple[int, str]:
    if profile.n_rows < _LARGE_ROWS:
        return 32, f"{profile.n_rows} rows: small batches, more steps per epoch"
    return 256, f"{profile.n_rows} rows"


def resolve_spec(spec: ModelSpec, profile: DataProfile) -> tuple[ModelSpec, dict[str, str]]:
    """(the spec with every auto decided, {dotted field: why}) for one dataset."""
    data = spec.model_dump()
    decisions: dict[str, str] = {}
    arch, reg, train = data["architecture"], data["regularization"], data["training"]
    if data["preprocessing"] == "auto":
        data["preprocessing"], decisions["preprocessing"] = _preprocessing(spec, profile)
    if arch.get("hidden_sizes") == "auto":
        arch["hidden_sizes"], decisions["architecture.hidden_sizes"] = _hidden_sizes(spec, profile)
    if reg["weight_decay"] == "auto":
        reg["weight_decay"], decisions["regularization.weight_decay"] = _weight_decay(profile)
    if train["batch_size"] == "auto":
        train["batch_size"], decisions["training.batch_size"] = _batch_size(profile)
    if train["early_stopping_patience"] == "auto":
        variational = spec.architecture.kind in ("vae", "conv_vae")
        train["early_stopping_patience"] = 30 if variational else 10
        decisions["training.early_stopping_patience"] = (
            "30: a variational model's samples keep sharpening while its loss creeps down"
            if variational
            else "10 epochs without a better validation loss"
        )
    partial = ModelSpec.model_validate(data)
    if arch.get("output_activation") == "auto":
        arch["output_activation"] = resolved_output_activation(partial)
        decisions["architecture.output_activation"] = (
            "sigmoid: the data lie in [0, 1] after preprocessing"
            if arch["output_activation"] == "sigmoid"
            else "linear: the data are not bounded to [0, 1] after preprocessing"
        )
    if arch.get("linear_path") == "auto":
        arch["linear_path"], decisions["architecture.linear_path"] = _linear_path(spec, arch)
    if reg["denoising"] == "auto":
        reg["denoising"], decisions["regularization.denoising"] = _denoising(spec, arch)
    if train["loss"] == "auto":
        bounded = arch.get("output_activation") == "sigmoid"
        variational = spec.architecture.kind in ("vae", "conv_vae")
        train["loss"] = "bce" if bounded and variational else "mse"
        decisions["training.loss"] = (
            "bce: a variational model of data in [0, 1] (the chapter's likelihood)"
            if train["loss"] == "bce"
            else "mse: squared error, in the preprocessed units (with a linear path, in the "
            "data's units)"
        )
    return ModelSpec.model_validate(data), decisions
