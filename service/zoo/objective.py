"""What training minimises for a spec: reconstruction plus the regularisers, per batch.

`network_loss` trains the whole network; `layer_loss` trains one layer of a dense stack as a
shallow autoencoder on the codings of the frozen layers below (greedy layer-wise training).
Randomness (denoising, VAE sampling) draws from the generator passed in, in training only.
"""

from __future__ import annotations

import torch
from torch import nn

from service.zoo.losses import kl_sparsity, l1_sparsity, reconstruction_loss, vae_latent_loss
from service.zoo.nets import Autoencoder, DenseStack, TiedStack, sample_latent
from service.zoo.spec import Denoising, ModelSpec


def corrupt(spec: ModelSpec, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Denoising: gaussian noise and/or input dropout (scaled by 1 / keep, as Keras does)."""
    noise = spec.regularization.denoising
    if not isinstance(noise, Denoising):  # None, or an unresolved auto (no noise)
        return x
    if noise.gaussian_std > 0:
        eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        x = x + noise.gaussian_std * eps
    if noise.dropout > 0:
        keep = torch.rand(x.shape, generator=generator, device=x.device) >= noise.dropout
        x = x * keep / (1.0 - noise.dropout)
    return x


def sparsity_penalty(spec: ModelSpec, codings: torch.Tensor) -> torch.Tensor:
    sparsity = spec.regularization.sparsity
    if sparsity is None:
        return codings.new_zeros((), dtype=torch.float32)
    if sparsity.kind == "kl":
        return sparsity.weight * kl_sparsity(codings, sparsity.target)
    return sparsity.weight * l1_sparsity(codings)


def network_loss(
    spec: ModelSpec,
    ae: Autoencoder,
    x: torch.Tensor,
    *,
    training: bool,
    generator: torch.Generator,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """The whole network on a batch x (B, F); outside training: no noise, VAE decodes the mean.
    weights (F,): each feature's share of the mse (training.prepare.loss_weights)."""
    x_in = corrupt(spec, x, generator) if training else x
    if ae.variational:
        mean, log_var = ae.encode_stats(x_in)  # (B, code_size) each
        z = sample_latent(mean, log_var, generator) if training else mean
        latent = spec.regularization.kl_weight * vae_latent_loss(mean, log_var, ae.n_features)
        return reconstruction_loss(spec.training.loss, ae.decode(z), x, weights) + latent
    codings = ae.encode(x_in)  # (B, code_size)
    x_hat = ae.decode(codings)  # (B, F)
    loss = reconstruction_loss(spec.training.loss, x_hat, x, weights)
    return loss + sparsity_penalty(spec, codings)


def _stacks(ae: Autoencoder) -> tuple[DenseStack, DenseStack | TiedStack]:
    encoder, decoder = ae.encoder, ae.decoder
    if not isinstance(encoder, DenseStack) or not isinstance(decoder, DenseStack | TiedStack):
        raise TypeError("layer-wise training needs a dense, non-variational autoencoder")
    return encoder, decoder


def n_layers(ae: Autoencoder) -> int:
    return len(_stacks(ae)[0].layers)


def layer_loss(
    spec: ModelSpec,
    ae: Autoencoder,
    x: torch.Tensor,
    layer: int,
    *,
    training: bool,
    generator: torch.Generator,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Encoder layer `layer` and its mirror decoder layer reconstruct the frozen codings below."""
    encoder, decoder = _stacks(ae)
    last = len(encoder.layers) - 1
    with torch.no_grad():
        target = x
        for i in range(layer):
            target = encoder.layer_forward(i, target)  # (B, size of layer i)
    h_in = corrupt(spec, target, generator) if training else target
    codings = encoder.layer_forward(layer, h_in)
    recon = decoder.layer_forward(last - layer, codings)
    kind = spec.training.loss if layer == 0 else "mse"  # hidden codings are not probabilities
    loss = reconstruction_loss(kind, recon, target, weights if layer == 0 else None)
    return loss + sparsity_penalty(spec, codings) if layer == last else loss


def layer_parameters(ae: Autoencoder, layer: int) -> list[nn.Parameter]:
    """What a greedy stage trains: one encoder layer and its mirror (a tied one: its bias)."""
    encoder, decoder = _stacks(ae)
    mirror = len(encoder.layers) - 1 - layer
    return [*encoder.layer_parameters(layer), *decoder.layer_parameters(mirror)]
