"""Reconstruction losses and the penalties that regularise the codings."""

from __future__ import annotations

import torch
import torch.nn.functional as F

_EPS = 1e-6


def reconstruction_loss(
    kind: str, x_hat: torch.Tensor, x: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean over rows and features; mse weighs feature j by weights[j] (F,) when given.

    bce expects x_hat in (0, 1); targets are clipped to [0, 1] because validation rows may
    fall slightly outside the range that minmax fitted on the training rows. Written out
    rather than F.binary_cross_entropy, which refuses to run under autocast.
    """
    if kind == "bce":
        p = x_hat.float().clamp(_EPS, 1 - _EPS)
        t = x.float().clamp(0.0, 1.0)
        return -(t * torch.log(p) + (1 - t) * torch.log1p(-p)).mean()
    if weights is None:
        return F.mse_loss(x_hat.float(), x.float())
    return ((x_hat.float() - x.float()).square() * weights).mean()


def kl_sparsity(codings: torch.Tensor, target: float) -> torch.Tensor:
    """KL(target || mean activation of each coding unit), summed over units; codings in (0, 1)."""
    q = codings.float().mean(dim=0).clamp(_EPS, 1 - _EPS)  # (code_size,)
    p = target
    kl = p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))
    return kl.sum()


def l1_sparsity(codings: torch.Tensor) -> torch.Tensor:
    """Mean absolute coding activation."""
    return codings.float().abs().mean()


def vae_latent_loss(mean: torch.Tensor, log_var: torch.Tensor, n_features: int) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per row, averaged over rows and divided by n_features.

    Dividing by n_features puts it on the scale of the per-feature reconstruction loss
    (as in Géron's chapter), so kl_weight = 1 is the usual ELBO up to that constant.
    """
    mean, log_var = mean.float(), log_var.float()
    kl = -0.5 * torch.sum(1 + log_var - log_var.exp() - mean.square(), dim=1)  # (B,)
    return kl.mean() / n_features
