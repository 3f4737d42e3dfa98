"""Quality benchmark: does each kind of autoencoder do what the chapter claims?

    python -m benchmarks.quality [--quick] [--out benchmarks/results/quality.json]

Built-in data: digits (sklearn, pixels / 16, a seeded 80/20 split) and pca3d. Each check
prints one line and lands in the JSON. The full run holds each claim to its target (the
issue's figures); --quick (CI) trains briefly and holds each claim only to its direction,
and exits non-zero when one fails. Test MSEs are measured in the model's preprocessed
space, where the PCA baseline is fit too (PCA is optimal for MSE in whatever space).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.linalg import subspace_angles
from sklearn.neural_network import MLPClassifier

from service.training.trainer import TrainResult, split_rows, train
from service.zoo.datasets_builtin import load_digits_unit, make_pca3d
from service.zoo.pca import pca_fit, pca_reconstruction_mse
from service.zoo.spec import ModelSpec

DIGITS_SHAPE = (8, 8, 1)


@dataclass
class Check:
    name: str
    value: float
    target: str  # the full benchmark's claim
    passed: bool  # value meets the target
    direction: bool  # the claim's direction holds (what --quick asserts)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Digits:
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def load_digits_split(seed: int = 42) -> Digits:
    X, y = load_digits_unit()
    order = np.random.default_rng(seed).permutation(len(X))
    cut = int(0.8 * len(X))
    tr, te = order[:cut], order[cut:]
    return Digits(X[tr], X[te], y[tr], y[te])


def fit(spec: dict[str, Any], X: np.ndarray, image_shape: Any = None) -> TrainResult:
    return train(spec=ModelSpec.model_validate(spec), X=X, image_shape=image_shape)


@torch.no_grad()
def test_mse_vs_pca(result: TrainResult, d: Digits) -> tuple[float, float]:
    """(autoencoder test MSE, PCA test MSE), both in the model's preprocessed space.

    PCA is fit on the rows the autoencoder trained on (train() holds out a validation
    split of d.X_train): the same split, the same code size, the same space.
    """
    model, code = result.model, result.model.autoencoder.code_size
    test = torch.from_numpy(d.X_test)
    ae_mse = float(model.row_errors(test).mean())
    rows, _ = split_rows(len(d.X_train), 0.2, 0)
    pre = model.preprocessor
    pca = pca_reconstruction_mse(
        pre(torch.from_numpy(d.X_train[rows])).numpy(), pre(test).numpy(), code
    )
    return ae_mse, pca


def _epochs(quick: bool, full: int, short: int) -> int:
    return short if quick else full


def check_linear_pca3d(quick: bool) -> Check:
    X = make_pca3d()
    spec = {
        "architecture": {"kind": "linear", "code_size": 2},
        "preprocessing": "none",
        "training": {
            "epochs": _epochs(quick, 400, 200),
            "batch_size": 16,
            "early_stopping_patience": None,
        },
    }
    result = fit(spec, X)
    rows, _ = split_rows(len(X), 0.2, 0)
    _, components = pca_fit(X[rows], 2)  # (2, 3)
    decoder_weight = result.model.autoencoder.decoder.layers[0].weight  # (3, 2)
    angles = subspace_angles(decoder_weight.detach().double().numpy(), components.T)
    angle = float(np.degrees(angles.max()))
    return Check("linear_pca3d_max_angle_deg", angle, "<= 1", angle <= 1.0, angle <= 5.0)


def check_linear_digits(quick: bool, d: Digits) -> Check:
    spec = {
        "architecture": {"kind": "linear", "code_size": 8},
        "training": {"epochs": _epochs(quick, 200, 30), "early_stopping_patience": None},
    }
    ae, pca = test_mse_vs_pca(fit(spec, d.X_train), d)
    ratio = ae / pca
    return Check(
        "linear_digits_code8_mse_over_pca",
        ratio,
        "<= 1.01",
        ratio <= 1.01,
        ratio <= 1.1,
        {"ae_mse": ae, "pca_mse": pca},
    )


def check_dense_default(quick: bool, d: Digits, code: int, target: float) -> Check:
    spec: dict[str, Any] = {"architecture": {"code_size": code}}
    if quick:
        spec["training"] = {"epochs": 25}
    result = fit(spec, d.X_train)
    ae, pca = test_mse_vs_pca(result, d)
    seconds = result.metrics["train_time_s"]
    details = {
        "ae_mse": ae,
        "pca_mse": pca,
        "train_time_s": seconds,
        "epochs_run": result.metrics["epochs_run"],
    }
    return Check(
        f"dense_default_code{code}_mse_over_pca",
        ae / pca,
        f"<= {target} with <= 10 s of training",
        ae / pca <= target and seconds <= 10.0,
        ae / pca < 1.0,
        details,
    )


def _decoder_weights(result: TrainResult) -> int:
    decoder = result.model.autoencoder.decoder
    return sum(p.numel() for name, p in decoder.named_parameters() if "bias" not in name)


def check_tied(quick: bool, d: Digits) -> Check:
    base: dict[str, Any] = {"code_size": 8}
    # Tied weights converge more slowly (one matrix serves two roles): both models get the
    # same, longer budget; early stopping still ends each when validation stops improving.
    training = {"epochs": _epochs(quick, 300, 25)}
    untied = fit({"architecture": base, "training": training}, d.X_train)
    tied = fit({"architecture": {**base, "tied_weights": True}, "training": training}, d.X_train)
    ratio = test_mse_vs_pca(tied, d)[0] / test_mse_vs_pca(untied, d)[0]
    weights = (_decoder_weights(tied), _decoder_weights(untied))
    details = {"decoder_weights_tied": weights[0], "decoder_weights_untied": weights[1]}
    return Check(
        "tied_over_untied_mse",
        ratio,
        "within 10% with no decoder weights of its own",
        abs(ratio - 1) <= 0.10 and weights[0] == 0,
        0.5 <= ratio <= 2.0,
        details,
    )


def check_layerwise(quick: bool, d: Digits) -> Check:
    training: dict[str, Any] = {"epochs": _epochs(quick, 100, 15)}
    e2e = fit({"architecture": {"code_size": 8}, "training": training}, d.X_train)
    greedy = fit(
        {"architecture": {"code_size": 8}, "training": {**training, "strategy": "layerwise"}},
        d.X_train,
    )
    ratio = test_mse_vs_pca(greedy, d)[0] / test_mse_vs_pca(e2e, d)[0]
    return Check(
        "layerwise_over_end_to_end_mse",
        ratio,
        "within 10%",
        abs(ratio - 1) <= 0.10,
        0.75 <= ratio <= 1.33,
    )


def check_conv(quick: bool, d: Digits) -> Check:
    spec = {
        "architecture": {"kind": "conv", "code_size": 8},
        "training": {"epochs": _epochs(quick, 100, 20)},
    }
    ae, pca = test_mse_vs_pca(fit(spec, d.X_train, DIGITS_SHAPE), d)
    return Check(
        "conv_digits_code8_mse_over_pca",
        ae / pca,
        "<= 0.60",
        ae / pca <= 0.60,
        ae / pca < 1.0,
        {"ae_mse": ae, "pca_mse": pca},
    )


def check_denoising(quick: bool, d: Digits) -> Check:
    std = 0.2
    spec = {
        "architecture": {"code_size": 32},
        "regularization": {"denoising": {"gaussian_std": std}},
        "preprocessing": "none",  # the noise is then in pixel units, as the claim means
        "training": {"epochs": _epochs(quick, 100, 25)},
    }
    model = fit(spec, d.X_train).model
    clean = torch.from_numpy(d.X_test)
    noisy = clean + std * torch.randn(clean.shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        denoised = model.reconstruct(noisy)
    ratio = float((denoised - clean).square().mean() / (noisy - clean).square().mean())
    return Check("denoised_over_noisy_mse", ratio, "<= 0.35", ratio <= 0.35, ratio < 1.0)


def check_sparse_kl(quick: bool, d: Digits) -> Check:
    spec = {
        "architecture": {"code_size": 32},
        "regularization": {"sparsity": {"kind": "kl", "target": 0.1, "weight": 0.5}},
        "training": {"epochs": _epochs(quick, 100, 25)},
    }
    model = fit(spec, d.X_train).model
    with torch.no_grad():
        activation = float(model.encode(torch.from_numpy(d.X_test)).mean())
    return Check(
        "sparse_kl_mean_activation",
        activation,
        "0.08..0.12",
        0.08 <= activation <= 0.12,
        0.05 <= activation <= 0.2,
    )


def _digit_classifier(d: Digits) -> MLPClassifier:
    classifier = MLPClassifier(hidden_layer_sizes=(128,), max_iter=500, random_state=0)
    return classifier.fit(d.X_train, d.y_train)


def check_vae(quick: bool, d: Digits) -> Check:
    spec = {
        "architecture": {"kind": "vae", "code_size": 8},
        "regularization": {"kl_weight": 1.0},
        "training": {"epochs": _epochs(quick, 200, 40), "loss": "bce"},
        "preprocessing": "minmax",
    }
    model = fit(spec, d.X_train).model
    z = torch.randn(1000, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        samples = model.decode(z).clamp(0, 1).numpy()
    classifier = _digit_classifier(d)
    proba = classifier.predict_proba(samples)  # (1000, 10)
    top = float(proba.max(axis=1).mean())
    share = np.bincount(proba.argmax(axis=1), minlength=10) / len(proba)
    entropy = float(-(share[share > 0] * np.log(share[share > 0])).sum() / np.log(10))
    details = {
        "class_entropy": entropy,
        "class_share": share.tolist(),
        "classifier_test_accuracy": float(classifier.score(d.X_test, d.y_test)),
    }
    return Check(
        "vae_generated_top_class_probability",
        top,
        ">= 0.8 with normalised class entropy >= 0.95",
        top >= 0.8 and entropy >= 0.95,
        top >= 0.5 and entropy >= 0.8,
        details,
    )


def run_checks(quick: bool) -> list[Check]:
    """Every check, printed as it finishes."""
    d = load_digits_split()
    jobs = [
        lambda: check_linear_pca3d(quick),
        lambda: check_linear_digits(quick, d),
        lambda: check_dense_default(quick, d, 8, 0.50),
        lambda: check_dense_default(quick, d, 2, 0.60),
        lambda: check_tied(quick, d),
        lambda: check_layerwise(quick, d),
        lambda: check_conv(quick, d),
        lambda: check_denoising(quick, d),
        lambda: check_sparse_kl(quick, d),
        lambda: check_vae(quick, d),
    ]
    checks = []
    for job in jobs:
        started = time.perf_counter()
        check = job()
        check.details["wall_s"] = round(time.perf_counter() - started, 2)
        ok = check.direction if quick else check.passed
        print(
            f"{'ok  ' if ok else 'FAIL'} {check.name} = {check.value:.4f} "
            f"(target {check.target}; {check.details['wall_s']} s)",
            flush=True,
        )
        checks.append(check)
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short training, direction only")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/quality.json"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    checks = run_checks(args.quick)
    failed = [c.name for c in checks if not (c.direction if args.quick else c.passed)]
    report = {
        "mode": "quick" if args.quick else "full",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "wall_s": round(time.perf_counter() - started, 1),
        "failed": failed,
        "checks": [asdict(c) for c in checks],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps({"wall_s": report["wall_s"], "failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
