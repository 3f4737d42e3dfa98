"""PNG renderers: numpy in, PNG bytes out. No web, no SQL, no torch.

Matplotlib's object API (Figure + FigureCanvasAgg) only: no pyplot, so no global state,
and renders in different threads never share a figure.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100
MAX_BARS = 64  # features drawn as bars per row; a wider table's rows are drawn as lines
TRAIN_COLOR, VAL_COLOR, THRESHOLD_COLOR = "#1f77b4", "#ff7f0e", "#d62728"


def to_png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _message(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def _image(row: np.ndarray, image_shape: Sequence[int]) -> np.ndarray:
    """A flat row (H*W*C, in H, W, C order) as an image imshow takes: (H, W) or (H, W, 3)."""
    h, w, c = (int(v) for v in image_shape)
    image = np.asarray(row, dtype=np.float64).reshape(h, w, c)
    if c == 1:
        return image[:, :, 0]
    if c >= 3:
        image = image[:, :, :3]
        low, high = float(image.min()), float(image.max())
        return (image - low) / (high - low) if high > low else np.zeros_like(image)
    return image.mean(axis=2)


def loss_curve(stages: dict[str, list[dict[str, Any]]], *, title: str) -> bytes:
    """Training and validation loss per epoch; one panel per stage (layer-wise training)."""
    names = list(stages) or [""]
    figure = Figure(figsize=(6.4, 3.6 * len(names) if len(names) > 1 else 4.0))
    for i, name in enumerate(names):
        ax = figure.add_subplot(len(names), 1, i + 1)
        epochs = stages.get(name, [])
        if not epochs:
            _message(ax, "no epochs finished yet")
            continue
        for key, label, color in (
            ("train_loss", "training", TRAIN_COLOR),
            ("val_loss", "validation", VAL_COLOR),
        ):
            points = [(e["epoch"], e[key]) for e in epochs if e.get(key) is not None]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", ms=3, label=label, color=color)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right")
        if len(names) > 1:
            ax.set_title(f"stage {name}", fontsize=9)
    figure.suptitle(title)
    figure.tight_layout()
    return to_png(figure)


def reconstructions(
    originals: np.ndarray,
    recons: np.ndarray,
    *,
    image_shape: Sequence[int] | None,
    feature_names: Sequence[str],
    title: str,
) -> bytes:
    """Originals above their reconstructions: images, or bars per feature for tables."""
    n = len(originals)
    if image_shape is not None:
        figure = Figure(figsize=(max(4.0, 1.2 * n), 3.0))
        low = float(min(originals.min(), recons.min()))
        high = float(max(originals.max(), recons.max()))
        for j in range(n):
            pairs = ((originals, "original"), (recons, "reconstruction"))
            for r, (rows, label) in enumerate(pairs):
                ax = figure.add_subplot(2, n, r * n + j + 1)
                ax.imshow(_image(rows[j], image_shape), cmap="binary", vmin=low, vmax=high)
                ax.set_xticks([])
                ax.set_yticks([])
                if j == 0:
                    ax.set_ylabel(label, fontsize=8)
    else:
        figure = Figure(figsize=(8.0, 1.6 * n + 0.8))
        x = np.arange(originals.shape[1])
        for j in range(n):
            ax = figure.add_subplot(n, 1, j + 1)
            if len(x) <= MAX_BARS:
                ax.bar(x - 0.2, originals[j], width=0.4, label="original", color=TRAIN_COLOR)
                ax.bar(x + 0.2, recons[j], width=0.4, label="reconstruction", color=VAL_COLOR)
            else:  # a bar is an artist each: 10,000 features took a minute and 1.2 GB
                ax.plot(x, originals[j], lw=0.6, label="original", color=TRAIN_COLOR)
                ax.plot(x, recons[j], lw=0.6, label="reconstruction", color=VAL_COLOR)
            ax.tick_params(labelsize=7)
            ax.set_xticks(x if len(x) <= 12 else x[:: math.ceil(len(x) / 12)])
            if j == 0:
                ax.legend(fontsize=7, loc="upper right")
        ax.set_xlabel(f"feature ({len(feature_names)} features)")
    figure.suptitle(title)
    figure.tight_layout()
    return to_png(figure)


def robust_limits(values: np.ndarray, *, include: Sequence[float] = ()) -> tuple[float, float]:
    """The 1st to 99th percentile with a 5% margin (and any `include` values): one outlier
    must not flatten the other points into a line."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(finite, [1.0, 99.0]))
    lo, hi = min([lo, *include]), max([hi, *include])
    pad = (hi - lo) * 0.05 or max(abs(hi), 1.0) * 0.05
    return lo - pad, hi + pad


def _clip_marked(ax: Axes, values: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    """Values pinned to the limits; how many were is said in the plot's corner."""
    clipped = np.clip(values, *limits)
    outside = int((values != clipped).sum())
    if outside:
        ax.annotate(
            f"{outside} outlier{'s' if outside > 1 else ''} shown at the edge",
            xy=(0.99, 0.01),
            xycoords="axes fraction",
            ha="right",
            va="bottom",
            fontsize=7,
            color=THRESHOLD_COLOR,
        )
    return clipped


def latent(
    points: np.ndarray, labels: np.ndarray | None, *, axis_names: tuple[str, str], title: str
) -> bytes:
    return to_png(latent_figure(points, labels, axis_names=axis_names, title=title))


def latent_figure(
    points: np.ndarray, labels: np.ndarray | None, *, axis_names: tuple[str, str], title: str
) -> Figure:
    """The codings in 2-D, coloured by label where there are labels; outliers past the
    1st-99th percentile sit on the edge as triangles."""
    figure = Figure(figsize=(6.0, 5.0))
    ax = figure.add_subplot(1, 1, 1)
    xlim, ylim = robust_limits(points[:, 0]), robust_limits(points[:, 1])
    outside = (points[:, 0] != np.clip(points[:, 0], *xlim)) | (
        points[:, 1] != np.clip(points[:, 1], *ylim)
    )
    x = _clip_marked(ax, points[:, 0], xlim)
    y = np.clip(points[:, 1], *ylim)
    inside = ~outside
    if labels is None:
        ax.scatter(x[inside], y[inside], s=8, alpha=0.7, color=TRAIN_COLOR)
    else:
        classes = np.unique(labels)
        discrete = len(classes) <= 20
        scatter = ax.scatter(
            x[inside],
            y[inside],
            c=labels[inside],
            s=8,
            alpha=0.8,
            cmap="tab10" if len(classes) <= 10 else ("tab20" if discrete else "viridis"),
            vmin=float(classes.min()),
            vmax=float(classes.max()),
        )
        figure.colorbar(scatter, ax=ax, label="label", ticks=classes if discrete else None)
    if outside.any():
        ax.scatter(x[outside], y[outside], s=24, marker="^", color=THRESHOLD_COLOR)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.grid(alpha=0.3)
    ax.set_title(title)
    figure.tight_layout()
    return figure


def image_grid(images: np.ndarray, *, image_shape: Sequence[int], title: str) -> bytes:
    """Rows of flat images in a square-ish grid, each on its own grey scale."""
    n = len(images)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    figure = Figure(figsize=(0.9 * cols + 0.6, 0.9 * rows + 0.8))
    for i in range(n):
        ax = figure.add_subplot(rows, cols, i + 1)
        ax.imshow(_image(images[i], image_shape), cmap="binary")
        ax.set_xticks([])
        ax.set_yticks([])
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return to_png(figure)


def sample_profiles(samples: np.ndarray, *, title: str) -> bytes:
    """Generated rows of a table: one line per sample across the features."""
    figure = Figure(figsize=(8.0, 4.0))
    ax = figure.add_subplot(1, 1, 1)
    x = np.arange(samples.shape[1])
    for row in samples:
        ax.plot(x, row, alpha=0.5, lw=1)
    ax.set_xlabel("feature")
    ax.set_ylabel("value")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    figure.tight_layout()
    return to_png(figure)


def score_histogram(scores: np.ndarray, threshold: float, *, title: str) -> bytes:
    return to_png(score_figure(scores, threshold, title=title))


def score_figure(scores: np.ndarray, threshold: float, *, title: str) -> Figure:
    """The scores' histogram over their 1st-99th percentile (and the threshold); the rows
    past it are counted into the edge bins and said so."""
    figure = Figure(figsize=(6.4, 4.0))
    ax = figure.add_subplot(1, 1, 1)
    limits = robust_limits(scores, include=[threshold] if math.isfinite(threshold) else [])
    shown = _clip_marked(ax, scores, limits)
    ax.hist(
        shown, bins=min(50, max(10, len(scores) // 10)), range=limits, color=TRAIN_COLOR, alpha=0.8
    )
    ax.axvline(threshold, color=THRESHOLD_COLOR, ls="--", label=f"threshold {threshold:.4g}")
    above = float((scores > threshold).mean()) if len(scores) else 0.0
    ax.set_xlim(*limits)
    ax.set_xlabel("anomaly score (reconstruction MSE, preprocessed units)")
    ax.set_ylabel("validation rows")
    ax.legend(title=f"{above:.1%} above")
    ax.set_title(title)
    figure.tight_layout()
    return figure
