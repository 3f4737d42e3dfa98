"""Before the loop: split the rows, fit the preprocessor, check the spec, build the model,
from a matrix in memory or from a dataset streamed a chunk at a time (training.data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from service.datasets.chunks import ChunkedRows
from service.training.data import Scan, ShuffledChunks, StreamSplit, split_rows
from service.zoo.nets import Autoencoder, DenseStack
from service.zoo.pca import init_linear_as_pca
from service.zoo.preprocess import fit_preprocessor, preprocessor_from_moments
from service.zoo.serving import ServingModel, build_serving_model
from service.zoo.spec import ModelSpec, batch_size_of, check_against_dataset, linear_path_of


@dataclass
class Context:
    spec: ModelSpec
    model: ServingModel
    x_train: torch.Tensor | None  # (N_train, F) preprocessed, on device; None: streamed
    x_val: torch.Tensor  # (N_val, F) preprocessed, on device
    n_train: int
    device: torch.device
    shuffle_gen: torch.Generator  # CPU: batch order
    noise_gen: torch.Generator  # device: denoising and VAE sampling
    bf16: bool
    loss_weights: torch.Tensor | None  # (F,) on device; None: every feature alike
    stream: ShuffledChunks | None = None  # raw batches of a dataset too large to hold
    # a second training's summary of the job's first (trainer.train): its epochs come
    # first in the numbering, and the checkpoints keep it
    carried: dict[str, Any] | None = None

    @property
    def ae(self) -> Autoencoder:
        return self.model.autoencoder


def pick_device(spec: ModelSpec) -> torch.device:
    wanted = spec.training.device
    if wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("training.device is 'cuda' but this worker has no CUDA device")
    if wanted == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(wanted)


def _start_at_pca(ae: Autoencoder, Xp_train: np.ndarray) -> None:
    encoder, decoder = ae.encoder, ae.decoder
    assert isinstance(encoder, DenseStack) and isinstance(decoder, DenseStack)
    first, last = encoder.layers[0], decoder.layers[0]
    assert isinstance(first, nn.Linear) and isinstance(last, nn.Linear)
    init_linear_as_pca(first, last, Xp_train)


def _build(
    spec: ModelSpec,
    n_features: int,
    image_shape: tuple[int, int, int] | None,
    preprocessor: nn.Module,
    Xp_train: torch.Tensor,
) -> tuple[ServingModel, torch.device]:
    """The seeded network with its preprocessor, on its device (a linear AE on PCA)."""
    with torch.random.fork_rng(devices=[]):  # seeded init, the caller's RNG untouched
        torch.manual_seed(spec.training.seed)
        model = build_serving_model(spec, n_features, image_shape)
    model.preprocessor.load_state_dict(preprocessor.state_dict())
    if spec.architecture.kind == "linear":
        _start_at_pca(model.autoencoder, Xp_train.numpy())
    path = model.autoencoder.linear_path
    if path is not None:  # PCA in the data's units: the preprocessed rows times the scale
        scale = model.preprocessor.scale.double().numpy()
        init_linear_as_pca(path.encoder, path.decoder, Xp_train.numpy(), scale)
    device = pick_device(spec)
    return model.to(device), device


def loss_weights(spec: ModelSpec, scale: torch.Tensor) -> torch.Tensor | None:
    """(F,) weights that make the MSE of preprocessed rows the MSE in the data's units,
    over a constant: each feature's scale squared, over their mean. For a network on a
    linear path (the correction to PCA in the data's units it learns is measured in those
    units); None otherwise, or where all scales are equal: every feature counts alike.

    Without a path the loss stays in the preprocessed units, each feature alike: the
    weighted loss, dominated by the features of largest spread, taught a network from
    random weights far less (a curve in 5 features at code size 1: 0.86 of PCA's error in
    the data's units, against 0.009 with the loss unweighted).
    """
    if not linear_path_of(spec) or spec.training.loss != "mse":
        return None
    if bool((scale == scale[0]).all()):
        return None
    weights = scale.double().square()
    return (weights / weights.mean()).float()


def _context(
    spec: ModelSpec, model: ServingModel, device: torch.device, X_val: np.ndarray, **kw: Any
) -> Context:
    seed = spec.training.seed
    weights = loss_weights(spec, model.preprocessor.scale.cpu())
    with torch.no_grad():
        x_val = model.preprocessor(torch.from_numpy(X_val).to(device))
    return Context(
        spec=spec,
        model=model,
        x_val=x_val,
        device=device,
        shuffle_gen=torch.Generator().manual_seed(seed),
        noise_gen=torch.Generator(device=device).manual_seed(seed + 1),
        bf16=spec.training.bf16_autocast and device.type == "cuda",
        loss_weights=None if weights is None else weights.to(device),
        **kw,
    )


def prepare(
    spec: ModelSpec, X: np.ndarray, image_shape: tuple[int, int, int] | None
) -> tuple[Context, np.ndarray, np.ndarray]:
    """Split, fit the preprocessor on the training rows, check the spec, build the model."""
    train_rows, val_rows = split_rows(len(X), spec.training.validation_fraction, spec.training.seed)
    X_train, X_val = X[train_rows], X[val_rows]
    preprocessor = fit_preprocessor(spec.preprocessing, X_train)
    Xp_train = preprocessor(torch.from_numpy(X_train))  # (N_train, F)
    check_against_dataset(
        spec,
        n_features=X.shape[1],
        image_shape=image_shape,
        preprocessed_min=float(Xp_train.min()),
        preprocessed_max=float(Xp_train.max()),
    )
    model, device = _build(spec, X.shape[1], image_shape, preprocessor, Xp_train)
    ctx = _context(spec, model, device, X_val, x_train=Xp_train.to(device), n_train=len(Xp_train))
    return ctx, X_train, X_val


def prepare_stream(
    spec: ModelSpec, rows: ChunkedRows, scan: Scan, image_shape: tuple[int, int, int] | None
) -> tuple[Context, np.ndarray, np.ndarray]:
    """_prepare for a dataset read chunk by chunk: the preprocessor from the training
    rows' moments, the bounds it maps them to from their per-feature min and max (the map
    is increasing per feature), the PCA start and the later fits on the training sample."""
    m = scan.moments
    assert m.mean is not None and m.m2 is not None and m.lo is not None and m.hi is not None
    preprocessor = preprocessor_from_moments(
        spec.preprocessing, m.mean, np.sqrt(m.m2 / m.n), m.lo, m.hi
    )
    with torch.no_grad():
        bounds = preprocessor(torch.from_numpy(np.stack([m.lo, m.hi]).astype(np.float32)))
        Xp_sample = preprocessor(torch.from_numpy(scan.X_train_sample))
    check_against_dataset(
        spec,
        n_features=rows.n_features,
        image_shape=image_shape,
        preprocessed_min=float(bounds.min()),
        preprocessed_max=float(bounds.max()),
    )
    model, device = _build(spec, rows.n_features, image_shape, preprocessor, Xp_sample)
    split = StreamSplit.for_rows(rows, spec.training.validation_fraction, spec.training.seed)
    stream = ShuffledChunks(rows, split, batch_size=batch_size_of(spec))
    ctx = _context(
        spec, model, device, scan.X_val, x_train=None, n_train=scan.n_train, stream=stream
    )
    return ctx, scan.X_train_sample, scan.X_val
