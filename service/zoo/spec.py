"""The model spec: every hyperparameter of an autoencoder, stored with its version.

Pure Pydantic (no FastAPI, no SQL, no torch) so that the API validates it at submission,
the OpenAPI schema documents it, and the trainer reads it. Checks that need only the spec
live in model validators; checks that need the dataset live in `check_against_dataset`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

Kind = Literal["linear", "dense", "conv", "vae", "conv_vae"]
Activation = Literal["elu", "relu", "selu", "tanh", "sigmoid", "linear"]
OutputActivation = Literal["sigmoid", "clip", "linear", "auto"]
Preprocessing = Literal["auto", "standardize", "minmax", "global_minmax", "none"]
Loss = Literal["auto", "mse", "bce"]


class Auto(StrEnum):
    """A field decided from the dataset's profile (zoo.auto). An enum rather than a bare
    Literal: generated clients parse a one-member enum in a union, not a lone const."""

    AUTO = "auto"


LayerSize = Annotated[int, Field(ge=1, le=65536)]
Channels = Annotated[int, Field(ge=1, le=1024)]


class SpecError(ValueError):
    """A spec that contradicts itself or its dataset; `loc` names the field."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


class _Spec(BaseModel):
    # NaN and infinity are refused everywhere: a float without an upper bound
    # (gradient_clip_norm) would otherwise take Infinity, which JSON cannot store or send.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _code_size() -> Any:
    return Field(ge=1, le=4096, description="Size of the coding layer.")


def _hidden_sizes() -> Any:
    return Field(
        default=Auto.AUTO,
        description="Dense layers between input and coding. auto: sized from the dataset's "
        "features and rows (see the version's spec).",
    )


def _conv_channels() -> Any:
    return Field(
        default_factory=lambda: [32, 64],
        min_length=1,
        max_length=4,
        description="Channels of the conv encoder's stride-2 layers.",
    )


def _output_activation() -> Any:
    return Field(
        default="auto",
        description="auto: sigmoid when the preprocessed data lie in [0, 1] (minmax, "
        "global_minmax), else linear. clip: linear inside [0, 1], clipped outside (what a "
        "second training on a linear path gets where auto meant sigmoid).",
    )


HiddenSizes = Annotated[list[LayerSize], Field(max_length=8)] | Auto


class LinearArchitecture(_Spec):
    """PCA's subspace, learned: one linear layer each way, no activation anywhere."""

    kind: Literal["linear"]
    code_size: int = _code_size()


class DenseArchitecture(_Spec):
    """Stacked dense layers; the default kind."""

    kind: Literal["dense"]
    code_size: int = _code_size()
    hidden_sizes: HiddenSizes = _hidden_sizes()
    activation: Activation = "elu"
    output_activation: OutputActivation = _output_activation()
    tied_weights: bool = Field(
        default=False, description="Decoder reuses the transposed encoder weights."
    )
    linear_path: bool | Auto = Field(
        default=Auto.AUTO,
        description="A linear encoder and decoder beside the layers, fixed at PCA's "
        "solution in the data's units, the layers' outputs added to theirs; its loss is in "
        "the data's units. auto: off, and for linear codings, untied weights, end-to-end "
        "training and an output that is linear or auto (then linear), trained again with "
        "one where the first model's validation error in the data's units is above PCA's.",
    )


class VaeArchitecture(_Spec):
    """A variational autoencoder: dense layers under a Gaussian coding (mean, log-variance)."""

    kind: Literal["vae"]
    code_size: int = _code_size()
    hidden_sizes: HiddenSizes = _hidden_sizes()
    activation: Activation = "elu"
    output_activation: OutputActivation = _output_activation()


class ConvArchitecture(_Spec):
    """Stride-2 convolutions on image rows (the dataset needs an image_shape)."""

    kind: Literal["conv"]
    code_size: int = _code_size()
    conv_channels: list[Channels] = _conv_channels()
    activation: Activation = "elu"
    output_activation: OutputActivation = _output_activation()


class ConvVaeArchitecture(_Spec):
    """A convolutional encoder under a Gaussian coding, a transposed-convolution decoder."""

    kind: Literal["conv_vae"]
    code_size: int = _code_size()
    conv_channels: list[Channels] = _conv_channels()
    activation: Activation = "elu"
    output_activation: OutputActivation = _output_activation()


ARCHITECTURES: dict[str, type[_Spec]] = {
    "linear": LinearArchitecture,
    "dense": DenseArchitecture,
    "vae": VaeArchitecture,
    "conv": ConvArchitecture,
    "conv_vae": ConvVaeArchitecture,
}


def _architecture_input(value: Any, info: ValidationInfo) -> Any:
    """`kind` defaults to dense. A spec stored by 0.x carries every kind's fields: read
    back (validation context `stored`), the ones its kind has not are dropped."""
    if not isinstance(value, dict):
        return value
    if "kind" not in value:
        value = {**value, "kind": "dense"}
    model = ARCHITECTURES.get(value["kind"]) if isinstance(value["kind"], str) else None
    if model is not None and info.context and info.context.get("stored"):
        value = {
            k: v
            for k, v in value.items()
            if k in model.model_fields or _REFUSED_BY_0X.get(k, _NOTHING) == v
        }
        if model is DenseArchitecture and "linear_path" not in value:
            value["linear_path"] = False  # stored before the field: built without one
    return value


# what 0.x refused too, so no stored spec holds it: kept, to be refused again
_REFUSED_BY_0X: dict[str, Any] = {"tied_weights": True, "output_activation": "sigmoid"}
_NOTHING = object()


Architecture = Annotated[
    LinearArchitecture
    | DenseArchitecture
    | VaeArchitecture
    | ConvArchitecture
    | ConvVaeArchitecture,
    Field(discriminator="kind"),
    BeforeValidator(_architecture_input),
]
LayeredArchitecture = DenseArchitecture | VaeArchitecture
ConvolutionalArchitecture = ConvArchitecture | ConvVaeArchitecture


class Denoising(_Spec):
    gaussian_std: float = Field(default=0.0, ge=0.0, le=10.0, description="Std of added noise.")
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="Input dropout rate.")


class Sparsity(_Spec):
    kind: Literal["kl", "l1"] = "kl"
    target: float = Field(
        default=0.1, gt=0.0, lt=1.0, description="Target mean activation (kl only)."
    )
    weight: float = Field(default=0.1, ge=0.0, le=1000.0)


class Regularization(_Spec):
    denoising: Denoising | Auto | None = Field(
        default=Auto.AUTO,
        description="Noise added to the inputs in training, in the units the network sees "
        "(after preprocessing). auto: gaussian_std 0.1 for dense and conv kinds (a "
        "regularizer), none for linear and variational kinds.",
    )
    sparsity: Sparsity | None = None
    weight_decay: Annotated[float, Field(ge=0.0, le=1.0)] | Auto = Field(
        default=Auto.AUTO,
        description="L2 penalty on the weights. auto: more for small datasets (see the "
        "version's spec).",
    )
    kl_weight: float = Field(
        default=1.0, ge=0.0, le=1000.0, description="Weight of the VAE latent loss (beta)."
    )


class Training(_Spec):
    epochs: int = Field(default=100, ge=1, le=10000)
    batch_size: Annotated[int, Field(ge=1, le=65536)] | Auto = Field(
        default=Auto.AUTO, description="auto: 32 below 10,000 rows, else 256."
    )
    learning_rate: float = Field(default=3e-3, gt=0.0, le=10.0)
    lr_schedule: Literal["constant", "cosine", "plateau"] = "cosine"
    optimizer: Literal["adam", "adamw", "sgd"] = "adamw"
    loss: Loss = Field(
        default="auto",
        description="auto: bce for a variational model of data in [0, 1] after "
        "preprocessing, else mse.",
    )
    validation_fraction: float = Field(default=0.2, gt=0.0, lt=0.9)
    early_stopping_patience: Annotated[int, Field(ge=1, le=10000)] | Auto | None = Field(
        default=Auto.AUTO,
        description="Epochs without a better validation loss before training stops (null: "
        "never). auto: 30 for variational kinds (their samples keep sharpening while the "
        "loss creeps down), else 10.",
    )
    gradient_clip_norm: float | None = Field(default=5.0, gt=0.0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    strategy: Literal["end_to_end", "layerwise"] = "end_to_end"
    max_attempts: int = Field(default=3, ge=1, le=20)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    gpus: int | None = Field(
        default=None,
        ge=0,
        le=8,
        description="GPUs a Ray job asks for; default 1 where the cluster has GPUs, else 0.",
    )
    bf16_autocast: bool = Field(default=False, description="CUDA only: bf16 autocast.")
    contamination: float = Field(
        default=0.05,
        gt=0.0,
        lt=0.5,
        description=(
            "Share of outliers expected among the training rows: the anomaly threshold "
            "leaves this share of the rows the model was fitted on above it, and the "
            "score's coding statistics may leave out that share of outlying rows (at "
            "least 10 %)."
        ),
    )


class ModelSpec(_Spec):
    """Everything needed to rebuild and retrain a model, apart from its data."""

    architecture: Architecture
    regularization: Regularization = Field(default_factory=Regularization)
    training: Training = Field(default_factory=Training)
    preprocessing: Preprocessing = Field(
        default="auto",
        description="auto: none for kind linear (PCA in the data's units); global_minmax "
        "for images and data that share one bounded range; standardize otherwise.",
    )

    @classmethod
    def stored(cls, data: Any) -> ModelSpec:
        """A spec as the database or a model file keeps it (0.x kept every kind's fields)."""
        return cls.model_validate(data, context={"stored": True})


def check_spec(spec: ModelSpec) -> None:
    """Refuse a spec that contradicts itself (raised as SpecError, shown as 422)."""
    arch, reg, train = spec.architecture, spec.regularization, spec.training
    variational = arch.kind in ("vae", "conv_vae")
    if train.strategy == "layerwise" and arch.kind != "dense":
        raise SpecError(
            ("training", "strategy"),
            f"layerwise training needs kind 'dense', not '{arch.kind}'",
        )
    if train.strategy == "layerwise" and _hidden_sizes_field(spec) == []:
        raise SpecError(
            ("training", "strategy"), "layerwise training needs at least one hidden layer"
        )
    if reg.sparsity is not None and reg.sparsity.kind == "kl" and arch.kind == "linear":
        raise SpecError(
            ("regularization", "sparsity", "kind"),
            "a KL sparsity penalty needs codings in (0, 1); kind 'linear' has no "
            "activation to make sigmoid: use kind 'dense' or sparsity kind 'l1'",
        )
    if reg.sparsity is not None and variational:  # its latent loss already shapes the codings
        raise SpecError(
            ("regularization", "sparsity", "kind"),
            f"a {reg.sparsity.kind} sparsity penalty does not apply to a variational coding "
            "layer (its kl_weight regularizes the codings)",
        )
    if arch.kind == "vae" and _hidden_sizes_field(spec) == []:
        raise SpecError(
            ("architecture", "hidden_sizes"),
            "kind 'vae' needs at least one hidden layer under its mean and log-variance heads",
        )
    if isinstance(arch, DenseArchitecture) and arch.linear_path is True:
        why = linear_path_refusal(spec)
        if why is not None:
            raise SpecError(("architecture", "linear_path"), f"a linear path cannot go with {why}")
    if train.bf16_autocast and train.device == "cpu":
        raise SpecError(("training", "bf16_autocast"), "bf16 autocast needs device cuda")


def linear_path_refusal(spec: ModelSpec, *, auto_output: bool = False) -> str | None:
    """Why a spec cannot have a linear path beside its layers (None: it can): both ends
    of the sum must be unbounded. auto_output: the output is left to auto, which a path
    makes linear or clip (zoo.auto.with_linear_path), so no output refuses it."""
    arch = spec.architecture
    if not isinstance(arch, DenseArchitecture):
        return f"kind '{arch.kind}' (only dense layers take one)"
    if arch.tied_weights:
        return "tied weights (the decoder has no layers of its own)"
    if spec.regularization.sparsity is not None:
        return "a sparsity penalty (it would act on PCA's codings)"
    if spec.training.strategy == "layerwise":
        return "layerwise training (the linear path belongs to no layer)"
    if spec.training.loss == "bce":
        return "a bce loss (it needs a sigmoid output)"
    sigmoid = arch.output_activation == "sigmoid" or (
        spec.preprocessing != "auto" and resolved_output_activation(spec) == "sigmoid"
    )
    if sigmoid and not auto_output:
        return "a sigmoid output (PCA's reconstruction is not one): use 'clip' or 'linear'"
    return None


def linear_path_of(spec: ModelSpec) -> bool:
    """Whether the network has a linear path; an unresolved auto (a spec not trained from a
    dataset, which decides it in zoo.auto) builds none."""
    arch = spec.architecture
    return isinstance(arch, DenseArchitecture) and arch.linear_path is True


def check_against_dataset(
    spec: ModelSpec,
    *,
    n_features: int,
    image_shape: tuple[int, ...] | None,
    preprocessed_min: float,
    preprocessed_max: float,
) -> None:
    """Refuse a spec that cannot work on this dataset (raised as SpecError, shown as 422)."""
    arch = spec.architecture
    if arch.code_size >= n_features:
        raise SpecError(
            ("architecture", "code_size"),
            f"must be smaller than the dataset's {n_features} features (an undercomplete "
            "autoencoder)",
        )
    if arch.kind in ("conv", "conv_vae"):
        if image_shape is None:
            raise SpecError(
                ("architecture", "kind"),
                f"kind '{arch.kind}' needs a dataset with an image_shape",
            )
        if len(image_shape) != 3:
            raise SpecError(
                ("architecture", "kind"), "conv kinds need image_shape (height, width, channels)"
            )
    in_unit_range = preprocessed_min >= 0.0 and preprocessed_max <= 1.0
    if spec.training.loss == "bce" and not in_unit_range:
        raise SpecError(
            ("training", "loss"),
            "bce needs data in [0, 1] after preprocessing "
            f"(here [{preprocessed_min:.4g}, {preprocessed_max:.4g}]): use preprocessing "
            "'minmax' or loss 'mse'",
        )
    if spec.training.loss == "bce" and (
        arch.kind == "linear" or resolved_output_activation(spec) != "sigmoid"
    ):
        raise SpecError(
            ("training", "loss"),
            "bce needs a sigmoid output (outputs outside (0, 1) get no gradient): use "
            "preprocessing 'minmax' with output_activation 'auto' or 'sigmoid', a kind other "
            "than 'linear', or loss 'mse'",
        )
    bounded = output_activation_of(spec)
    if bounded in ("sigmoid", "clip") and not in_unit_range:
        raise SpecError(
            ("architecture", "output_activation"),
            f"a {bounded} output cannot reach data outside [0, 1]: use preprocessing 'minmax'",
        )


def output_activation_of(spec: ModelSpec) -> str:
    """The spec's output_activation ('auto' unresolved); kind linear has none: 'linear'."""
    arch = spec.architecture
    return "linear" if isinstance(arch, LinearArchitecture) else arch.output_activation


def resolved_output_activation(spec: ModelSpec) -> Literal["sigmoid", "clip", "linear"]:
    """'auto' means sigmoid for data scaled into [0, 1], linear otherwise."""
    arch = spec.architecture
    if isinstance(arch, LinearArchitecture):
        return "linear"
    if arch.output_activation != "auto":
        return arch.output_activation
    in_unit_range = spec.preprocessing in ("minmax", "global_minmax")
    return "sigmoid" if in_unit_range else "linear"


def patience_of(spec: ModelSpec) -> int | None:
    patience = spec.training.early_stopping_patience
    if isinstance(patience, Auto):
        raise ValueError("training.early_stopping_patience is 'auto': resolve the spec first")
    return patience


def batch_size_of(spec: ModelSpec) -> int:
    size = spec.training.batch_size
    if isinstance(size, Auto):
        raise ValueError("training.batch_size is 'auto': resolve the spec first")
    return size


def _hidden_sizes_field(spec: ModelSpec) -> list[int] | Auto:
    arch = spec.architecture
    return arch.hidden_sizes if isinstance(arch, DenseArchitecture | VaeArchitecture) else []


def hidden_sizes_of(spec: ModelSpec) -> list[int]:
    """The dense layers of a resolved spec (see zoo.auto); none for kinds without them."""
    sizes = _hidden_sizes_field(spec)
    if isinstance(sizes, Auto):
        raise ValueError("architecture.hidden_sizes is 'auto': resolve the spec first")
    return sizes
