"""The autoencoder: an encoder, an optional Gaussian head (VAE) and a decoder.

Every network works on preprocessed, flat inputs (B, n_features). Dense and linear kinds are
built here, conv kinds in `conv.py`; `build_autoencoder` picks one from the spec.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from service.zoo.spec import (
    DenseArchitecture,
    ModelSpec,
    VaeArchitecture,
    hidden_sizes_of,
    linear_path_of,
    resolved_output_activation,
)

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "elu": nn.ELU,
    "relu": nn.ReLU,
    "selu": nn.SELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "clip": lambda: nn.Hardtanh(0.0, 1.0),
    "linear": nn.Identity,
}


# The same activations as functions, for the stacks' forward passes (None: identity).
Activation = Callable[[torch.Tensor], torch.Tensor] | None
_FUNCTIONAL: dict[str, Activation] = {
    "elu": F.elu,
    "relu": F.relu,
    "selu": F.selu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "clip": lambda x: F.hardtanh(x, 0.0, 1.0),
    "linear": None,
}


def make_activation(name: str) -> nn.Module:
    return _ACTIVATIONS[name]()


def _apply(fn: Activation, x: torch.Tensor) -> torch.Tensor:
    return x if fn is None else fn(x)


class DenseStack(nn.Module):
    """Linear layers, each followed by `activation`; the last one by `last_activation`.

    The forward pass calls the layers and activations as functions (F.linear, F.elu...):
    serving a few rows, a module call costs as much as the op it wraps. No module hooks
    run inside a stack.
    """

    def __init__(self, sizes: Sequence[int], activation: str, last_activation: str) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.activations = (activation, last_activation)
        self._act_fn = _FUNCTIONAL[activation]
        self._last_fn = _FUNCTIONAL[last_activation]

    def layer_forward(self, i: int, x: torch.Tensor) -> torch.Tensor:
        layer = self.layers[i]
        assert isinstance(layer, nn.Linear)
        y = F.linear(x, layer.weight, layer.bias)
        return _apply(self._last_fn if i == len(self.layers) - 1 else self._act_fn, y)

    def layer_parameters(self, i: int) -> Iterator[nn.Parameter]:
        return self.layers[i].parameters()

    def extra_repr(self) -> str:
        return "activation={}, last_activation={}".format(*self.activations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # layer_forward for each layer, without its per-call lookups
        *hidden, last = cast(list[nn.Linear], list(self.layers))
        act = self._act_fn
        for layer in hidden:
            x = _apply(act, F.linear(x, layer.weight, layer.bias))
        return _apply(self._last_fn, F.linear(x, last.weight, last.bias))


class TiedStack(nn.Module):
    """A decoder that reuses the transposed weights of an encoder's layers, with its own biases.

    The encoder's layers are kept in a plain tuple, not registered: the state_dict then
    holds each weight once (no shared tensors, so safetensors can save it).
    """

    def __init__(self, encoder: DenseStack, activation: str, last_activation: str) -> None:
        super().__init__()
        self._tied: tuple[nn.Module, ...] = tuple(reversed(list(encoder.layers)))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.zeros(self._weight(j).shape[1])) for j in range(len(self._tied))
        )
        self.activations = (activation, last_activation)
        self._act_fn = _FUNCTIONAL[activation]
        self._last_fn = _FUNCTIONAL[last_activation]

    def _weight(self, j: int) -> torch.Tensor:
        layer = self._tied[j]
        assert isinstance(layer, nn.Linear)
        return layer.weight  # (out, in) of the encoder layer: this layer maps out -> in

    def layer_forward(self, j: int, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self._weight(j).t(), self.biases[j])
        return _apply(self._last_fn if j == len(self._tied) - 1 else self._act_fn, y)

    def layer_parameters(self, j: int) -> Iterator[nn.Parameter]:
        yield self.biases[j]  # the weight is trained with the encoder layer it belongs to

    def extra_repr(self) -> str:
        return "activation={}, last_activation={}".format(*self.activations)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        for j in range(len(self._tied)):
            z = self.layer_forward(j, z)
        return z


class GaussianHead(nn.Module):
    """Mean and log-variance of the latent Gaussian (VAE)."""

    def __init__(self, in_size: int, code_size: int) -> None:
        super().__init__()
        self.mean = nn.Linear(in_size, code_size)
        self.log_var = nn.Linear(in_size, code_size)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean(h), self.log_var(h)  # (B, code_size) each


# With a linear path, the layers' outputs enter the sums at this share of their size.
# Adam moves each weight by about the learning rate a step: right for training from
# scratch, 100 times too coarse for a correction to PCA's solution, which then never beat
# the starting point in validation. Part of the architecture: a stored model needs it.
LAYER_SCALE = 0.01


class LinearPath(nn.Module):
    """A linear encoder and decoder whose outputs are added to the layers' (a skip path).

    Fixed on PCA's solution in the data's units (training.prepare, zoo.pca), with the
    layers' last weights at zero: the network starts as PCA and its layers learn what they
    add to it. Not trained: on data with features of very different scales, gradient steps
    only moved it off the optimum it starts on.
    """

    def __init__(self, n_features: int, code_size: int) -> None:
        super().__init__()
        self.encoder = nn.Linear(n_features, code_size)
        self.decoder = nn.Linear(code_size, n_features)
        self.requires_grad_(False)


class Autoencoder(nn.Module):
    """encode / decode / forward on preprocessed flat inputs (B, n_features)."""

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        *,
        n_features: int,
        code_size: int,
        latent: GaussianHead | None = None,
        linear_path: LinearPath | None = None,
        path_output: str = "linear",
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.latent = latent
        self.decoder = decoder
        self.linear_path = linear_path
        self._path_output = _FUNCTIONAL[path_output]  # after the path's sum
        self.n_features = n_features
        self.code_size = code_size
        self.variational = latent is not None

    def encode_stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.latent is None:
            raise ValueError("only a variational autoencoder has a latent log-variance")
        return self.latent(self.encoder(x))  # (B, code_size), (B, code_size)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        if self.linear_path is not None:
            return LAYER_SCALE * h + self.linear_path.encoder(x)  # (B, code_size)
        return h if self.latent is None else self.latent(h)[0]  # (B, code_size)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        if self.linear_path is not None:
            out = LAYER_SCALE * self.decoder(z) + self.linear_path.decoder(z)  # (B, F)
            return _apply(self._path_output, out)
        return self.decoder(z)  # (B, n_features)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Reconstruction (B, n_features); a VAE samples its codings in training mode only."""
        if self.latent is None:
            return self.decode(self.encode(x))
        mean, log_var = self.encode_stats(x)
        z = sample_latent(mean, log_var, generator) if self.training else mean
        return self.decode(z)


def sample_latent(
    mean: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """The reparameterisation trick: mean + sigma * eps, eps ~ N(0, 1)."""
    eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + torch.exp(0.5 * log_var) * eps  # (B, code_size)


def coding_activation(spec: ModelSpec) -> str:
    """A KL sparsity penalty needs codings in (0, 1): the coding layer is then sigmoid."""
    sparsity = spec.regularization.sparsity
    return "sigmoid" if sparsity is not None and sparsity.kind == "kl" else "linear"


def build_dense(spec: ModelSpec, n_features: int) -> Autoencoder:
    """kinds linear, dense and vae."""
    arch = spec.architecture
    code = arch.code_size
    if not isinstance(arch, DenseArchitecture | VaeArchitecture):  # linear: the PCA case
        encoder = DenseStack([n_features, code], "linear", "linear")
        return Autoencoder(
            encoder,
            DenseStack([code, n_features], "linear", "linear"),
            n_features=n_features,
            code_size=code,
        )
    out_act = resolved_output_activation(spec)
    hidden = hidden_sizes_of(spec)
    sizes = [n_features, *hidden]
    dec_sizes = [code, *reversed(hidden), n_features]
    if arch.kind == "vae":
        body = DenseStack(sizes, arch.activation, arch.activation)
        head = GaussianHead(sizes[-1], code)
        vae_decoder = DenseStack(dec_sizes, arch.activation, out_act)
        return Autoencoder(body, vae_decoder, n_features=n_features, code_size=code, latent=head)
    encoder = DenseStack([*sizes, code], arch.activation, coding_activation(spec))
    decoder: nn.Module
    with_path = linear_path_of(spec)
    if isinstance(arch, DenseArchitecture) and arch.tied_weights:
        decoder = TiedStack(encoder, arch.activation, out_act)
    else:  # on a path the output activation comes after the sum
        decoder = DenseStack(dec_sizes, arch.activation, "linear" if with_path else out_act)
    path = None
    if with_path:
        path = LinearPath(n_features, code)
        assert isinstance(decoder, DenseStack)  # _check_linear_path: not tied
        for stack in (encoder, decoder):  # the layers start by adding nothing
            last = cast(nn.Linear, stack.layers[-1])
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
    return Autoencoder(
        encoder,
        decoder,
        n_features=n_features,
        code_size=code,
        linear_path=path,
        path_output=out_act if with_path else "linear",
    )
