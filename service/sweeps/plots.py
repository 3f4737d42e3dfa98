"""The sweep's curve: its metric against the code size, one line per kind, PCA beside
them, the recommended trial marked (matplotlib's object API, as service.ui.plots)."""

from __future__ import annotations

from collections import defaultdict

from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from service.sweeps.schemas import SweepPublic
from service.ui.plots import _message, to_png

PCA_COLOR, MARK_COLOR = "#7f7f7f", "#d62728"
LABELS = {"val_mse": "validation MSE (data units)", "auroc": "AUROC (validation rows)"}


def curve_png(sweep: SweepPublic) -> bytes:
    """Per kind, the best value at each code size (other parameters vary in a search)."""
    figure = Figure(figsize=(6.4, 4.2))
    ax = figure.add_subplot(1, 1, 1)
    best: dict[str, dict[int, float]] = defaultdict(dict)
    for trial in sweep.trials:
        if trial.value is None or trial.code_size is None:
            continue
        line = best[trial.kind or "?"]
        seen = line.get(trial.code_size)
        better = seen is None or (
            trial.value > seen if sweep.higher_is_better else trial.value < seen
        )
        if better:
            line[trial.code_size] = trial.value
    if not best:
        _message(ax, "no trial has finished yet")
        return to_png(figure)
    for kind, points in sorted(best.items()):
        sizes = sorted(points)
        ax.plot(sizes, [points[k] for k in sizes], marker="o", label=kind)
    if sweep.pca_baseline:
        sizes = [p.code_size for p in sweep.pca_baseline]
        values = [p.value for p in sweep.pca_baseline]
        ax.plot(sizes, values, linestyle="--", color=PCA_COLOR, marker=".", label="PCA")
    chosen = sweep.recommended
    if chosen is not None and chosen.value is not None and chosen.code_size is not None:
        ax.scatter(
            [chosen.code_size],
            [chosen.value],
            s=180,
            facecolors="none",
            edgecolors=MARK_COLOR,
            linewidths=2,
            zorder=5,
            label=f"recommended: {chosen.kind} code {chosen.code_size}",
        )
    ax.set_xscale("log", base=2)
    sizes = sorted({k for points in best.values() for k in points})
    ax.set_xticks(sizes, [str(k) for k in sizes])  # the code sizes tried, as numbers
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("code size")
    ax.set_ylabel(LABELS.get(sweep.metric, sweep.metric))
    ax.set_title(f"sweep {sweep.id[:8]} of {sweep.model} ({sweep.status})")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    figure.tight_layout()
    return to_png(figure)
