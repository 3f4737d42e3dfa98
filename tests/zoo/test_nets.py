"""The networks: shapes, kinds, tied weights, VAE behaviour, HWC order for conv kinds; the
dense stacks' functional forward against the modules it stands for."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch
from torch import nn

from service.zoo.build import build_autoencoder
from service.zoo.nets import _ACTIVATIONS, Autoencoder, DenseStack, TiedStack, make_activation
from service.zoo.spec import ModelSpec

IMAGE = (8, 8, 1)


def make_spec(**architecture: Any) -> ModelSpec:
    arch = {"code_size": 4, "hidden_sizes": [16, 8], **architecture}
    return ModelSpec.stored({"architecture": arch})  # hidden_sizes kept by the kinds that have it


def build(spec: ModelSpec, n_features: int = 64) -> Autoencoder:
    torch.manual_seed(0)
    return build_autoencoder(spec, n_features=n_features, image_shape=IMAGE)


@pytest.mark.parametrize("kind", ["linear", "dense", "vae", "conv", "conv_vae"])
def test_every_kind_maps_rows_to_codes_and_back(kind: str) -> None:
    ae = build(make_spec(kind=kind)).eval()
    x = torch.randn(5, 64)
    assert ae.encode(x).shape == (5, 4)
    assert ae.decode(torch.randn(5, 4)).shape == (5, 64)
    assert ae(x).shape == (5, 64)
    assert (ae.code_size, ae.n_features) == (4, 64)
    assert ae.variational == (kind in ("vae", "conv_vae"))


def test_only_a_vae_has_encode_stats() -> None:
    with pytest.raises(ValueError, match="variational"):
        build(make_spec(kind="dense")).encode_stats(torch.randn(2, 64))
    mean, log_var = build(make_spec(kind="vae")).encode_stats(torch.randn(2, 64))
    assert mean.shape == log_var.shape == (2, 4)


def test_vae_is_deterministic_in_eval_and_samples_in_training() -> None:
    ae = build(make_spec(kind="vae"))
    x = torch.randn(3, 64)
    ae.train()
    assert not torch.equal(ae(x), ae(x))
    ae.eval()
    assert torch.equal(ae(x), ae(x))
    assert torch.equal(ae(x), ae.decode(ae.encode(x)))


def test_linear_kind_is_affine() -> None:
    ae = build(make_spec(kind="linear"))
    a, b, zero = torch.randn(1, 64), torch.randn(1, 64), torch.zeros(1, 64)
    torch.testing.assert_close(ae(a + b), ae(a) + ae(b) - ae(zero), rtol=1e-4, atol=1e-5)


def test_tied_decoder_reuses_transposed_encoder_weights() -> None:
    untied, tied = build(make_spec()), build(make_spec(tied_weights=True))
    weights = [p for n, p in tied.decoder.named_parameters() if "bias" not in n]
    assert weights == []
    count = sum(p.numel() for p in tied.parameters())
    assert count < 0.6 * sum(p.numel() for p in untied.parameters())
    names = list(tied.state_dict())
    assert len(names) == len(set(names))
    storages = [t.untyped_storage().data_ptr() for t in tied.state_dict().values()]
    assert len(storages) == len(set(storages)), "no tensor may be shared"
    with torch.no_grad():  # changing an encoder weight changes the decoder
        before = tied.decode(torch.ones(1, 4))
        tied.encoder.layers[-1].weight.add_(1.0)
        assert not torch.equal(before, tied.decode(torch.ones(1, 4)))


def test_kl_sparsity_makes_codings_sigmoid() -> None:
    spec = ModelSpec.model_validate(
        {
            "architecture": {"code_size": 4, "hidden_sizes": [8]},
            "regularization": {"sparsity": {"kind": "kl"}},
        }
    )
    codes = build(spec).encode(torch.randn(50, 64) * 10)
    assert bool(((codes > 0) & (codes < 1)).all())
    dense_codes = build(make_spec()).encode(torch.randn(50, 64) * 10)
    assert bool((dense_codes < 0).any())


def test_output_activation_auto_is_sigmoid_for_minmax() -> None:
    spec = ModelSpec.model_validate(
        {"architecture": {"code_size": 4, "hidden_sizes": [8]}, "preprocessing": "minmax"}
    )
    out = build(spec)(torch.randn(20, 64) * 10)
    assert bool(((out > 0) & (out < 1)).all())


def test_conv_reads_rows_in_hwc_order() -> None:
    spec = make_spec(kind="conv", conv_channels=[3])
    torch.manual_seed(0)
    ae = build_autoencoder(spec, n_features=4 * 6 * 2, image_shape=(4, 6, 2))
    x = torch.randn(2, 48)
    conv = ae.encoder.body.convs[0]
    assert isinstance(conv, nn.Conv2d)
    expected = conv(x.reshape(2, 4, 6, 2).permute(0, 3, 1, 2))
    torch.testing.assert_close(
        ae.encoder.body.convs[:1](x.reshape(2, 4, 6, 2).permute(0, 3, 1, 2)), expected
    )
    features = ae.encoder.body(x)
    torch.testing.assert_close(features, torch.nn.functional.elu(expected).flatten(1))
    assert ae(x).shape == (2, 48)


def test_conv_needs_a_matching_image_shape() -> None:
    with pytest.raises(ValueError, match="image_shape"):
        build_autoencoder(make_spec(kind="conv"), n_features=64, image_shape=None)
    with pytest.raises(ValueError, match="does not hold"):
        build_autoencoder(make_spec(kind="conv"), n_features=60, image_shape=IMAGE)


PAIRS = list(itertools.product(_ACTIVATIONS, repeat=2))  # (activation, last_activation)


def dense_stack(activation: str, last_activation: str) -> DenseStack:
    torch.manual_seed(0)
    return DenseStack([6, 9, 7, 3], activation, last_activation)


def linears(stack: DenseStack) -> list[nn.Linear]:
    layers = [layer for layer in stack.layers if isinstance(layer, nn.Linear)]
    assert len(layers) == len(stack.layers)
    return layers


def module_activations(n_layers: int, activation: str, last_activation: str) -> list[nn.Module]:
    return [make_activation(activation) for _ in range(n_layers - 1)] + [
        make_activation(last_activation)
    ]


@pytest.mark.parametrize(("activation", "last_activation"), PAIRS)
def test_dense_stack_matches_its_modules(activation: str, last_activation: str) -> None:
    stack = dense_stack(activation, last_activation)
    x = torch.randn(5, 6) * 3  # both signs, past the bends of elu, selu, tanh, sigmoid
    expected = x
    layers = linears(stack)
    for layer, act in zip(layers, module_activations(len(layers), *stack.activations), strict=True):
        expected = act(layer(expected))
    torch.testing.assert_close(stack(x), expected, rtol=0, atol=0)
    composed = x
    for i in range(len(layers)):
        composed = stack.layer_forward(i, composed)
    torch.testing.assert_close(composed, expected, rtol=0, atol=0)


@pytest.mark.parametrize(("activation", "last_activation"), PAIRS)
def test_tied_stack_matches_the_transposed_encoder(activation: str, last_activation: str) -> None:
    encoder = dense_stack("elu", "linear")
    tied = TiedStack(encoder, activation, last_activation)
    with torch.no_grad():
        for bias in tied.biases:
            bias.normal_()  # zeros at first: a bias left out would not show
    z = torch.randn(5, 3) * 3
    expected = z
    layers = linears(encoder)[::-1]  # (out, in) each: the decoder maps out -> in
    acts = module_activations(len(layers), activation, last_activation)
    for layer, bias, act in zip(layers, tied.biases, acts, strict=True):
        expected = act(expected @ layer.weight + bias)
    out = tied(z)
    # a matmul then an add rounds apart from F.linear's fused addmm, by an ulp or so
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-6)
    composed = z
    for j in range(len(layers)):
        composed = tied.layer_forward(j, composed)
    torch.testing.assert_close(composed, out, rtol=0, atol=0)


def test_stacks_hold_only_weights_and_biases_and_name_their_activations() -> None:
    stack = dense_stack("selu", "sigmoid")
    assert list(stack.state_dict()) == [
        f"layers.{i}.{kind}" for i in range(3) for kind in ("weight", "bias")
    ]
    tied = TiedStack(stack, "tanh", "relu")
    assert list(tied.state_dict()) == ["biases.0", "biases.1", "biases.2"]
    assert "activation=selu, last_activation=sigmoid" in repr(stack)
    assert "activation=tanh, last_activation=relu" in repr(tied)
