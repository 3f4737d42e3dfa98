"""What a network costs before it exists: parameters and training memory, on torch's `meta`
device (shapes only, no storage), so a spec that would not fit is refused before a byte
of it is allocated.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from service.zoo.serving import ServingModel, build_serving_model
from service.zoo.spec import ModelSpec, SpecError, batch_size_of

FLOAT32_BYTES = 4
# weights, their gradients and Adam's two moments (the largest of the optimizers here)
TRAINING_COPIES = 4


@dataclass(frozen=True)
class Footprint:
    parameters: int  # parameters and buffers, counted in values
    activation_bytes: int  # every tensor one training forward of a batch makes
    training_bytes: int  # what training holds at its peak, roughly


def meta_model(
    spec: ModelSpec, n_features: int, image_shape: tuple[int, int, int] | None
) -> ServingModel:
    """The network with shapes and no storage: building it allocates nothing."""
    with torch.device("meta"):
        return build_serving_model(spec, n_features, image_shape)


def parameter_count(model: torch.nn.Module) -> int:
    return sum(t.numel() for t in (*model.parameters(), *model.buffers()))


class _OutputBytes(TorchDispatchMode):
    """Adds up the bytes of every tensor an op returns (an upper bound of what autograd
    keeps for the backward pass)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for tensor in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(tensor, torch.Tensor):
                self.total += tensor.numel() * tensor.element_size()
        return out


@dataclass(frozen=True, eq=False)
class _Network:
    """What a footprint depends on, as the key it is remembered by: the network (its
    architecture and, for its coding layer, the sparsity penalty), the data's shape and
    the batch; a sweep's trials that differ in anything else share one."""

    spec: ModelSpec
    n_features: int
    image_shape: tuple[int, int, int] | None

    @functools.cached_property
    def key(self) -> tuple[Any, ...]:
        sparsity = self.spec.regularization.sparsity
        return (
            self.spec.architecture.model_dump_json(),
            None if sparsity is None else sparsity.model_dump_json(),
            batch_size_of(self.spec),
            self.n_features,
            self.image_shape,
        )

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Network) and self.key == other.key


def footprint(
    spec: ModelSpec, *, n_features: int, image_shape: tuple[int, int, int] | None
) -> Footprint:
    return _footprint(_Network(spec, n_features, image_shape))


@functools.lru_cache(maxsize=1024)
def _footprint(network: _Network) -> Footprint:
    """One training forward on the meta device, remembered per network: a sweep's checks
    ask for the same networks again and again (docs/performance.md, "Sweeps")."""
    n_features = network.n_features
    model = meta_model(network.spec, n_features, network.image_shape)
    parameters = parameter_count(model)
    batch = torch.empty(batch_size_of(network.spec), n_features, device="meta")  # (B, F)
    counter = _OutputBytes()
    with counter:
        model.autoencoder(batch)
    training = parameters * FLOAT32_BYTES * TRAINING_COPIES + 2 * counter.total  # + gradients
    return Footprint(parameters, counter.total, training)


def check_budget(
    spec: ModelSpec,
    *,
    n_features: int,
    image_shape: tuple[int, int, int] | None,
    max_parameters: int,
    max_training_bytes: int,
) -> Footprint:
    """The footprint, or a SpecError naming the field to shrink."""
    cost = footprint(spec, n_features=n_features, image_shape=image_shape)
    layers = "conv_channels" if spec.architecture.kind.startswith("conv") else "hidden_sizes"
    if cost.parameters > max_parameters:
        raise SpecError(
            ("architecture", layers),
            f"the network would have {cost.parameters} parameters; the limit is "
            f"{max_parameters} (AESVC_MAX_MODEL_PARAMETERS)",
        )
    if cost.training_bytes > max_training_bytes:
        field = "batch_size" if cost.activation_bytes * 2 > cost.training_bytes // 2 else None
        raise SpecError(
            ("training", "batch_size") if field else ("architecture", layers),
            f"training would need about {cost.training_bytes >> 20} MiB (weights, gradients, "
            f"optimizer state and {cost.activation_bytes >> 20} MiB of activations a batch); "
            f"the limit is {max_training_bytes >> 20} MiB (AESVC_MAX_TRAINING_BYTES)",
        )
    return cost
