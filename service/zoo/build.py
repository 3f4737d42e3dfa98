"""Pick and build the network for a spec."""

from __future__ import annotations

from service.zoo.conv import build_conv
from service.zoo.nets import Autoencoder, build_dense
from service.zoo.spec import ModelSpec


def build_autoencoder(
    spec: ModelSpec, *, n_features: int, image_shape: tuple[int, int, int] | None
) -> Autoencoder:
    """The untrained network for a spec (initialised from torch's global RNG)."""
    kind = spec.architecture.kind
    if kind in ("conv", "conv_vae"):
        if image_shape is None:
            raise ValueError(f"kind '{kind}' needs an image_shape (height, width, channels)")
        return build_conv(spec, n_features=n_features, image_shape=image_shape)
    return build_dense(spec, n_features)
