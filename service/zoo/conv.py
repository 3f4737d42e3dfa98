"""Convolutional autoencoders (kinds conv and conv_vae) on flat HWC image rows."""

from __future__ import annotations

import torch
from torch import nn

from service.zoo.nets import Autoencoder, GaussianHead, coding_activation, make_activation
from service.zoo.spec import (
    ConvArchitecture,
    ConvVaeArchitecture,
    ModelSpec,
    resolved_output_activation,
)


def _halved(size: int) -> int:
    return (size - 1) // 2 + 1  # a 3x3 conv with stride 2 and padding 1


class ConvEncoder(nn.Module):
    """(B, H*W*C) in HWC order -> stride-2 convs -> (B, c_last * h * w)."""

    def __init__(self, image_shape: tuple[int, int, int], channels: list[int], act: str) -> None:
        super().__init__()
        self.image_shape = image_shape
        c_in = image_shape[2]
        layers: list[nn.Module] = []
        for c_out in channels:
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), make_activation(act)]
            c_in = c_out
        self.convs = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w, c = self.image_shape
        images = x.reshape(-1, h, w, c).permute(0, 3, 1, 2)  # (B, C, H, W)
        return self.convs(images).flatten(1)  # (B, c_last * h' * w')


class ConvDecoder(nn.Module):
    """(B, code) -> linear -> transposed stride-2 convs -> (B, H*W*C) in HWC order."""

    def __init__(
        self,
        code_size: int,
        image_shape: tuple[int, int, int],
        channels: list[int],
        act: str,
        out_act: str,
    ) -> None:
        super().__init__()
        self.image_shape = image_shape
        sizes = [image_shape[:2]]  # spatial size after each encoder conv
        for _ in channels:
            sizes.append((_halved(sizes[-1][0]), _halved(sizes[-1][1])))
        self.start_shape = (channels[-1], *sizes[-1])
        self.project = nn.Sequential(
            nn.Linear(code_size, channels[-1] * sizes[-1][0] * sizes[-1][1]),
            make_activation(act),
        )
        layers: list[nn.Module] = []
        outs = [*reversed(channels[:-1]), image_shape[2]]
        c_in = channels[-1]
        for i, c_out in enumerate(outs):
            (h_in, w_in), (h_out, w_out) = sizes[-1 - i], sizes[-2 - i]
            pad = (h_out - (2 * h_in - 1), w_out - (2 * w_in - 1))  # hit the encoder's size
            layers.append(nn.ConvTranspose2d(c_in, c_out, 3, 2, padding=1, output_padding=pad))
            layers.append(make_activation(act if i < len(outs) - 1 else out_act))
            c_in = c_out
        self.deconvs = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        maps = self.project(z).reshape(-1, *self.start_shape)  # (B, c_last, h', w')
        images = self.deconvs(maps)  # (B, C, H, W)
        return images.permute(0, 2, 3, 1).flatten(1)  # (B, H*W*C)


class CodeLayer(nn.Module):
    """Conv features -> codings, with the coding activation."""

    def __init__(self, body: ConvEncoder, in_size: int, code_size: int, act: str) -> None:
        super().__init__()
        self.body = body
        self.code = nn.Linear(in_size, code_size)
        self.act = make_activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.code(self.body(x)))  # (B, code_size)


def build_conv(
    spec: ModelSpec, *, n_features: int, image_shape: tuple[int, int, int]
) -> Autoencoder:
    arch = spec.architecture
    if not isinstance(arch, ConvArchitecture | ConvVaeArchitecture):
        raise ValueError(f"kind '{arch.kind}' is not a conv kind")
    h, w, c = (int(v) for v in image_shape)
    if h * w * c != n_features:
        raise ValueError(f"image_shape {image_shape} does not hold {n_features} features")
    channels = list(arch.conv_channels)
    body = ConvEncoder((h, w, c), channels, arch.activation)
    flat = body(torch.zeros(1, n_features)).shape[1]
    decoder = ConvDecoder(
        arch.code_size, (h, w, c), channels, arch.activation, resolved_output_activation(spec)
    )
    if arch.kind == "conv_vae":
        head = GaussianHead(flat, arch.code_size)
        return Autoencoder(
            body, decoder, n_features=n_features, code_size=arch.code_size, latent=head
        )
    encoder = CodeLayer(body, flat, arch.code_size, coding_activation(spec))
    return Autoencoder(encoder, decoder, n_features=n_features, code_size=arch.code_size)
