"""What one plot request may cost. The reconstructions of a table drew a bar per feature
and row: a dataset of 10,000 columns (MAX_FEATURES is 262,144) made one GET of
reconstructions.png hold a CPU 55 s and grow the process by 1.2 GB (2,000 columns: 11 s),
each uncached request again. Past MAX_BARS features its rows are lines, whatever the width."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from matplotlib.figure import Figure

from service.config import Settings
from service.ui import plots
from service.ui.service import PLOT_SAMPLE_ROWS, PlotCache, Png
from tests.factories import job_body, npy_bytes, run_worker


def drawn_artists(monkeypatch: pytest.MonkeyPatch, n_features: int) -> int:
    figures: list[Figure] = []

    def capture(figure: Figure) -> bytes:
        figures.append(figure)
        return b""

    monkeypatch.setattr(plots, "to_png", capture)
    X = np.random.default_rng(0).normal(size=(6, n_features)).astype(np.float32)
    names = [f"x{i}" for i in range(n_features)]
    plots.reconstructions(X, X * 0.9, image_shape=None, feature_names=names, title="t")
    (figure,) = figures
    return sum(len(ax.patches) + len(ax.lines) for ax in figure.axes)


def test_a_wide_tables_reconstructions_draw_a_bounded_number_of_artists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    narrow = drawn_artists(monkeypatch, plots.MAX_BARS)
    assert narrow == 6 * 2 * plots.MAX_BARS  # bars, as before
    assert drawn_artists(monkeypatch, 2000) <= 6 * 2
    assert drawn_artists(monkeypatch, 50_000) <= 6 * 2


def test_the_widest_tables_reconstructions_render_in_seconds() -> None:
    X = np.random.default_rng(0).normal(size=(6, 1 << 18)).astype(np.float32)
    started = time.process_time()
    png = plots.reconstructions(X, X * 0.9, image_shape=None, feature_names=[], title="t")
    assert png.startswith(b"\x89PNG")
    assert time.process_time() - started < 15  # 2 s here; bars would take 20 minutes


def test_concurrent_requests_for_one_plot_render_it_once() -> None:
    """Forty requests for a plot not yet cached (the threadpool's size) rendered it forty
    times at once, each with its own copy of up to 5,000 validation rows."""
    cache = PlotCache()
    renders, started = [], threading.Barrier(8)

    def render() -> bytes:
        renders.append(1)
        time.sleep(0.3)
        return b"png"

    def request() -> Png:
        started.wait()
        return cache.get_or_render("key", render)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: request(), range(8)))
    assert len(renders) == 1
    assert {a.content for a in answers} == {b"png"}
    assert not cache._rendering  # nothing kept once no request waits
    assert cache.get_or_render("other", lambda: b"x").content == b"x"


def test_a_held_datasets_plots_draw_a_sample_of_its_validation_rows(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Of a dataset trained in memory (up to 64 MB) every validation row was drawn: a table
    of two columns holds 1.6 million of them, 9 s of CPU for its labelled latent plot, the
    model run over all of them first. A streamed one's were capped at PLOT_SAMPLE_ROWS."""
    n = 3 * PLOT_SAMPLE_ROWS  # validation_fraction 0.4: 6,000 validation rows
    X = np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32)
    files = {"file": ("wide.npy", npy_bytes(X))}
    assert client.post("/v1/datasets", files=files, data={"name": "t"}).status_code == 201
    body = job_body(model_name="t-ae", dataset="t", code_size=2, epochs=1)
    body["spec"]["training"]["validation_fraction"] = 0.4
    assert client.post("/v1/jobs", json=body).status_code == 202
    run_worker(settings)
    drawn: list[int] = []
    latent = plots.latent

    def counted(points: np.ndarray, *args: Any, **kwargs: Any) -> bytes:
        drawn.append(len(points))
        return latent(points, *args, **kwargs)

    monkeypatch.setattr(plots, "latent", counted)
    response = client.get("/v1/models/t-ae/versions/1/plots/latent.png")
    assert response.status_code == 200, response.text
    assert drawn == [PLOT_SAMPLE_ROWS]
    scores = client.get("/v1/models/t-ae/versions/1/plots/scores.png")
    assert scores.status_code == 200, scores.text
