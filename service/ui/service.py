"""Plots of jobs and model versions: which apply, the data behind them, a cache of PNGs.

A version's plots depend only on its weights and its dataset, both immutable, so a PNG
is cached under the artifact's sha256 and the plot's name. A running job's loss curve
changes with every epoch; it is cached once the job has ended.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import orjson
import torch
from sqlalchemy.orm import Session
from torch import nn

from service.context import AppContext
from service.datasets.service import load_labels, open_rows
from service.datasets.tables import Dataset
from service.errors import NotFound
from service.inference.api.service import sample_codings
from service.inference.runtime.cache import LoadedModel
from service.inference.runtime.device import one_torch_thread
from service.registry.service import resolve_version
from service.registry.tables import ModelVersion
from service.training.data import validation_rows
from service.training.service import get_job, last_progress_id, progress_reports


def _plots() -> ModuleType:
    """service.ui.plots, imported on the first plot: matplotlib would slow every API
    process's start."""
    from service.ui import plots

    return plots


VERSION_PLOTS = ("reconstructions", "latent", "samples", "features", "scores")
N_RECONSTRUCTIONS = 6
MAX_FEATURE_IMAGES = 64
SAMPLES_SEED = 0
PLOT_SAMPLE_ROWS = 5000  # validation rows plotted, at most


@dataclass(frozen=True)
class Png:
    content: bytes
    etag: str


def as_png(content: bytes) -> Png:
    return Png(content=content, etag=f'"{hashlib.sha256(content).hexdigest()[:32]}"')


@dataclass
class _Rendering:
    """A plot being rendered: its lock, and how many requests hold or wait for it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0


class PlotCache:
    """An LRU of rendered PNGs, bounded in bytes."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, Png] = OrderedDict()
        self._lock = threading.Lock()
        self._rendering: dict[str, _Rendering] = {}

    def get(self, key: str) -> Png | None:
        with self._lock:
            png = self._items.get(key)
            if png is not None:
                self._items.move_to_end(key)
            return png

    def put(self, key: str, content: bytes) -> Png:
        png = as_png(content)
        with self._lock:
            self._items[key] = png
            while sum(len(p.content) for p in self._items.values()) > self.max_bytes:
                self._items.popitem(last=False)
        return png

    def get_or_render(self, key: str, render: Callable[[], bytes]) -> Png:
        """One render per key at a time: requests for a plot being rendered wait for it
        (each would otherwise hold its own copy of the validation rows, and a CPU)."""
        cached = self.get(key)
        if cached is not None:
            return cached
        with self._lock:
            rendering = self._rendering.setdefault(key, _Rendering())
            rendering.requests += 1
        try:
            with rendering.lock:
                cached = self.get(key)
                return cached if cached is not None else self.put(key, render())
        finally:
            with self._lock:
                rendering.requests -= 1
                if not rendering.requests:
                    del self._rendering[key]


def plot_cache(ctx: AppContext) -> PlotCache:
    if ctx.plot_cache is None:
        ctx.plot_cache = PlotCache()
    return ctx.plot_cache


# -- jobs --


def loss_stages(history: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Progress events grouped by training stage, the last report of each epoch kept
    (a resumed attempt repeats the epochs after its checkpoint)."""
    stages: dict[str, dict[int, dict[str, Any]]] = {}
    for event in history:
        stage = str(event.get("stage") or "")
        stages.setdefault(stage, {})[int(event["epoch"])] = event
    return {stage: [epochs[e] for e in sorted(epochs)] for stage, epochs in stages.items()}


def job_loss_plot(ctx: AppContext, *, session: Session, job_id: str) -> Png:
    """Rendered once per new epoch report (and state): the reports are read only to render,
    and a dashboard polling a running job gets the kept PNG between epochs."""
    job = get_job(session=session, job_id=job_id, kind="train")  # a batch job has no loss
    last = last_progress_id(session=session, job_id=job_id)

    def render() -> bytes:
        history = progress_reports(session=session, job_id=job_id)
        title = f"{job.model_name}: job {job_id[:8]} ({job.status})"
        return _plots().loss_curve(loss_stages(history), title=title)

    return plot_cache(ctx).get_or_render(f"job:{job_id}:{job.status}:{last}", render)


# -- versions --


@dataclass
class VersionData:
    mv: ModelVersion
    dataset: Dataset | None
    image_shape: list[int] | None


def _version_data(session: Session, name: str, ref: str) -> VersionData:
    mv = resolve_version(session=session, name=name, ref=ref)
    dataset = session.get(Dataset, mv.dataset_id) if mv.dataset_id else None
    if dataset is not None and mv.dataset_sha256 and dataset.sha256 != mv.dataset_sha256:
        dataset = None  # not the data the version was trained on
    shape = mv.config.get("image_shape") or (dataset.image_shape if dataset else None)
    return VersionData(mv=mv, dataset=dataset, image_shape=shape)


PLOTTED_METRICS = ("coding_mean", "coding_cov", "threshold", "score_quantiles")


def applicable_plots(data: VersionData) -> list[str]:
    """The plots that exist for this version (the others answer 404)."""
    names = []
    if data.dataset is not None:
        names += ["reconstructions", "latent"]
    metrics = data.mv.serving_metrics()
    fitted = all(metrics.get(k) is not None for k in ("coding_mean", "coding_cov"))
    if data.mv.kind in ("vae", "conv_vae") or fitted:  # a prior, or a Gaussian to draw from
        names.append("samples")
    if data.image_shape is not None:
        names.append("features")
    if data.dataset is not None and data.mv.metrics.get("threshold") is not None:
        names.append("scores")
    return [n for n in VERSION_PLOTS if n in names]


def list_version_plots(*, session: Session, name: str, ref: str) -> tuple[int, list[str]]:
    data = _version_data(session, name, ref)
    return data.mv.version, applicable_plots(data)


def version_plot(ctx: AppContext, *, session: Session, name: str, ref: str, plot: str) -> Png:
    data = _version_data(session, name, ref)
    if plot not in applicable_plots(data):
        raise NotFound(_why_not(data, plot), code="plot_unavailable")
    _, cache = ctx.inference()
    mv = data.mv
    loaded = cache.get(name, mv)
    renderer = RENDERERS[plot]
    # the weights, the data, and the statistics a plot draws from (two versions may share
    # weights and differ in them: an import of one file with other metrics)
    drawn = {k: mv.serving_metrics().get(k) for k in PLOTTED_METRICS}
    metrics = hashlib.sha256(orjson.dumps(drawn, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    return plot_cache(ctx).get_or_render(
        f"{mv.artifact_sha256}:{mv.dataset_sha256}:{metrics}:{plot}",
        lambda: renderer(ctx, data, loaded),
    )


def _why_not(data: VersionData, plot: str) -> str:
    version = f"version {data.mv.version}"
    if plot == "features":
        return f"{version} was trained on tabular data: features.png needs an image dataset"
    if plot == "samples":
        return f"{version} recorded no coding statistics to sample from"
    if data.dataset is None:
        return f"the dataset {version} was trained on is gone, so it has no {plot}.png"
    return f"{version} has no {plot}.png"


def _validation_split(ctx: AppContext, data: VersionData) -> tuple[np.ndarray, np.ndarray | None]:
    """The version's validation rows, at most PLOT_SAMPLE_ROWS of them: of a dataset too
    large to hold, read from the first chunks only; of one held, drawn at random (a 64 MB
    table of two columns has 1.6 million: its labelled latent plot took 9 s of CPU)."""
    assert data.dataset is not None
    with ctx.session_factory() as session:
        rows = open_rows(session=session, store=ctx.store, dataset=data.dataset)
    y = load_labels(store=ctx.store, labels_sha256=data.dataset.labels_sha256)
    training = data.mv.spec["training"]
    fraction, seed = float(training["validation_fraction"]), int(training["seed"])
    val_rows = validation_rows(rows, fraction, seed, PLOT_SAMPLE_ROWS)
    if len(val_rows) > PLOT_SAMPLE_ROWS:
        chosen = np.random.default_rng(seed).choice(len(val_rows), PLOT_SAMPLE_ROWS, replace=False)
        val_rows = val_rows[np.sort(chosen)]
    return rows.take(val_rows), None if y is None else y[val_rows]


def _run(loaded: LoadedModel, method: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray) -> Any:
    with one_torch_thread(), torch.inference_mode():  # no OpenMP team outside the devices
        out = method(torch.as_tensor(x, dtype=torch.float32, device=loaded.device))
    return out.float().cpu().numpy()


def _z_scores(data: VersionData, rows: np.ndarray) -> np.ndarray:
    """Table rows in z-scores: features in their own units differ by orders of magnitude."""
    assert data.dataset is not None
    mean = np.asarray(data.dataset.stats["mean"], dtype=np.float32)
    std = np.asarray(data.dataset.stats["std"], dtype=np.float32)
    return (rows - mean) / np.where(std > 0, std, 1.0)


def _render_reconstructions(ctx: AppContext, data: VersionData, loaded: LoadedModel) -> bytes:
    X_val, _ = _validation_split(ctx, data)
    originals = X_val[:N_RECONSTRUCTIONS]
    recons = _run(loaded, loaded.model.reconstruct, originals)
    assert data.dataset is not None
    title = "validation rows and their reconstructions"
    if data.image_shape is None:
        originals, recons = _z_scores(data, originals), _z_scores(data, recons)
        title += " (z-scores per feature)"
    return _plots().reconstructions(
        originals,
        recons,
        image_shape=data.image_shape,
        feature_names=data.dataset.feature_names,
        title=title,
    )


def project_2d(codings: np.ndarray) -> tuple[np.ndarray, tuple[str, str]]:
    """Codings as 2-D points: as they are, PCA-projected, or (code size 1) against row order."""
    if codings.shape[1] == 1:
        return np.column_stack([codings[:, 0], np.arange(len(codings))]), ("coding", "row")
    if codings.shape[1] == 2:
        return codings, ("coding 1", "coding 2")
    centered = codings - codings.mean(axis=0)
    _, singular, vt = np.linalg.svd(centered, full_matrices=False)
    share = singular**2 / max(float((singular**2).sum()), 1e-12)
    if len(share) < 2:  # one row (a tiny validation split): one component
        return np.column_stack([centered @ vt[0], np.arange(len(codings))]), ("PC 1", "row")
    return centered @ vt[:2].T, (f"PC 1 ({share[0]:.0%})", f"PC 2 ({share[1]:.0%})")


def _render_latent(ctx: AppContext, data: VersionData, loaded: LoadedModel) -> bytes:
    X_val, y_val = _validation_split(ctx, data)
    points, axes = project_2d(_run(loaded, loaded.model.encode, X_val))
    how = "" if data.mv.code_size <= 2 else ", PCA-projected"
    return _plots().latent(
        points,
        y_val,
        axis_names=axes,
        title=f"validation codings (code size {data.mv.code_size}{how})",
    )


def _render_samples(ctx: AppContext, data: VersionData, loaded: LoadedModel) -> bytes:
    n = 16 if data.image_shape is not None else 8
    z, method = sample_codings(loaded, n=n, seed=SAMPLES_SEED)
    samples = _run(loaded, loaded.model.decode, z)
    source = "N(0, I)" if method == "prior" else "a Gaussian fitted to the codings"
    title = f"decoded samples of {source}"
    if data.image_shape is None:
        if data.dataset is not None:
            samples, title = _z_scores(data, samples), f"{title} (z-scores per feature)"
        return _plots().sample_profiles(samples, title=title)
    return _plots().image_grid(samples, image_shape=data.image_shape, title=title)


def first_layer_filters(network: nn.Module) -> tuple[np.ndarray, list[int] | None]:
    """The first layer's weights: Linear rows (one per unit, over the inputs), or a conv's
    filters as (out, kh*kw) images of shape [kh, kw, 1] (averaged over input channels)."""
    for module in network.modules():
        if isinstance(module, nn.Conv2d):
            weights = module.weight.detach().float().cpu().mean(dim=1)  # (out, kh, kw)
            kh, kw = weights.shape[1:]
            return weights.reshape(len(weights), -1).numpy(), [int(kh), int(kw), 1]
        if isinstance(module, nn.Linear):
            return module.weight.detach().float().cpu().numpy(), None
    raise NotFound(
        "this network has no dense or convolutional layer to show", code="plot_unavailable"
    )


def _render_features(ctx: AppContext, data: VersionData, loaded: LoadedModel) -> bytes:
    assert data.image_shape is not None
    weights, filter_shape = first_layer_filters(loaded.model.autoencoder)
    what = "first conv layer's filters" if filter_shape else "first layer's weights per unit"
    return _plots().image_grid(
        weights[:MAX_FEATURE_IMAGES],
        image_shape=filter_shape or data.image_shape,
        title=f"learned features: the {what}",
    )


def _render_scores(ctx: AppContext, data: VersionData, loaded: LoadedModel) -> bytes:
    X_val, _ = _validation_split(ctx, data)
    scores = _run(loaded, loaded.model.row_errors, X_val)
    threshold = float(data.mv.metrics["threshold"])
    title = "anomaly scores of the validation rows"
    return _plots().score_histogram(scores, threshold, title=title)


RENDERERS: dict[str, Callable[[AppContext, VersionData, LoadedModel], bytes]] = {
    "reconstructions": _render_reconstructions,
    "latent": _render_latent,
    "samples": _render_samples,
    "features": _render_features,
    "scores": _render_scores,
}
