"""Every PNG endpoint: a real PNG of the expected size, cached, 404 where it does not apply."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from matplotlib.image import imread
from sqlalchemy import event

from service.config import Settings
from service.main import create_app
from service.security import create_key
from tests.factories import job_body, module_settings, run_worker

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
IMAGE_PLOTS = ("reconstructions", "latent", "samples", "features", "scores")


def decode_png(content: bytes) -> np.ndarray:
    assert content[:8] == PNG_MAGIC, content[:32]
    image = imread(io.BytesIO(content), format="png")  # (H, W, 4) floats in [0, 1]
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    return image


def train(client: TestClient, settings: Settings, **body: Any) -> dict[str, Any]:
    created = client.post("/v1/jobs", json=job_body(**body))
    assert created.status_code == 202, created.text
    assert run_worker(settings) == 1
    job = client.get(f"/v1/jobs/{created.json()['id']}").json()
    assert job["status"] == "succeeded", job
    return dict(job)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict]]:
    """One app, three tiny versions: dense on digits, a VAE on digits, dense on a table."""
    root = tmp_path_factory.mktemp("plots")
    with (
        module_settings(root / "var") as settings,
        TestClient(create_app(settings, start_workers=False)) as client,
    ):
        jobs = {
            "digits": train(client, settings, model_name="digits-ae", code_size=4, epochs=3),
            "vae": train(
                client,
                settings,
                model_name="digits-vae",
                code_size=2,
                epochs=2,
                architecture={"kind": "vae"},
            ),
            "cancer": train(client, settings, model_name="cancer-ae", dataset="breast_cancer"),
        }
        yield client, jobs


def test_loss_plot_of_a_finished_job(trained: tuple[TestClient, dict]) -> None:
    client, jobs = trained
    response = client.get(f"/v1/jobs/{jobs['digits']['id']}/plots/loss.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert decode_png(response.content).shape[:2] == (400, 640)  # 6.4 x 4.0 in at 100 dpi
    again = client.get(
        f"/v1/jobs/{jobs['digits']['id']}/plots/loss.png",
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304
    missing = client.get("/v1/jobs/nope/plots/loss.png")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_every_version_plot_of_an_image_model_is_a_png(trained: tuple[TestClient, dict]) -> None:
    client, _ = trained
    listed = client.get("/v1/models/digits-ae/versions/latest/plots").json()
    assert listed["version"] == 1 and list(listed["plots"]) == list(IMAGE_PLOTS)
    sizes = {}
    for plot, url in listed["plots"].items():
        response = client.get(url)
        assert response.status_code == 200, (plot, response.text)
        assert response.headers["content-type"] == "image/png"
        image = decode_png(response.content)
        assert image.shape[0] >= 200 and image.shape[1] >= 300, (plot, image.shape)
        assert image[..., :3].std() > 0.05, plot  # not a blank canvas
        sizes[plot] = image.shape[:2]
    assert sizes["latent"] == (500, 600)
    assert sizes["scores"] == (400, 640)
    # hidden_sizes [16]: 16 first-layer units, a 4 x 4 grid of 8x8 weight images; and
    # 16 samples, 4 x 4 too (0.9 in a cell, plus margins)
    assert sizes["features"] == sizes["samples"] == (440, 420)


def test_plots_are_cached_per_artifact(trained: tuple[TestClient, dict]) -> None:
    client, _ = trained
    first = client.get("/v1/models/digits-ae/versions/1/plots/latent.png")
    by_alias = client.get("/v1/models/digits-ae/versions/latest/plots/latent.png")
    assert first.content == by_alias.content
    assert first.headers["etag"] == by_alias.headers["etag"]
    cache = client.app.state.ctx.plot_cache  # type: ignore[attr-defined]
    assert any(key.endswith(":latent") for key in cache._items)


def test_vae_samples_come_from_the_prior(trained: tuple[TestClient, dict]) -> None:
    client, _ = trained
    response = client.get("/v1/models/digits-vae/versions/1/plots/samples.png")
    assert response.status_code == 200
    decode_png(response.content)
    latent = client.get("/v1/models/digits-vae/versions/1/plots/latent.png")
    assert decode_png(latent.content).shape[:2] == (500, 600)


def test_tabular_model_has_no_features_plot(trained: tuple[TestClient, dict]) -> None:
    client, _ = trained
    listed = client.get("/v1/models/cancer-ae/versions/1/plots").json()
    assert "features" not in listed["plots"]
    assert set(listed["plots"]) == {"reconstructions", "latent", "samples", "scores"}
    features = client.get("/v1/models/cancer-ae/versions/1/plots/features.png")
    assert features.status_code == 404
    assert features.headers["content-type"] == "application/problem+json"
    assert "tabular" in features.json()["detail"]
    for plot, url in listed["plots"].items():
        response = client.get(url)
        assert response.status_code == 200, (plot, response.text)
        decode_png(response.content)
    bars = decode_png(
        client.get("/v1/models/cancer-ae/versions/1/plots/reconstructions.png").content
    )
    assert bars.shape[:2] == (1040, 800)  # 6 rows of bars: 1.6 in each + 0.8


def test_unknown_model_or_version_is_404(trained: tuple[TestClient, dict]) -> None:
    client, _ = trained
    assert client.get("/v1/models/nope/versions/1/plots/latent.png").status_code == 404
    assert client.get("/v1/models/digits-ae/versions/9/plots/latent.png").status_code == 404
    assert client.get("/v1/models/digits-ae/versions/1/plots/nope.png").status_code == 404


def test_plots_need_the_read_scope_and_the_page_is_public(settings: Settings) -> None:
    secured = settings.model_copy(update={"auth": "required"})
    with TestClient(create_app(secured, start_workers=False)) as client:
        ctx = client.app.state.ctx  # type: ignore[attr-defined]
        with ctx.session_factory() as session:
            _, infer_key = create_key(session=session, name="infer", scopes=["infer"])
            _, read_key = create_key(session=session, name="read", scopes=["read"])
        page = client.get("/ui")
        assert page.status_code == 200 and "<title>autoencoder-service</title>" in page.text
        assert client.get("/ui/static/app.js").headers["content-type"].startswith("text/javascript")
        assert client.get("/ui/static/../main.py").status_code == 404
        url = "/v1/jobs/x/plots/loss.png"
        assert client.get(url).status_code == 401
        assert client.get(url, headers={"Authorization": f"Bearer {infer_key}"}).status_code == 403
        assert client.get(url, headers={"Authorization": f"Bearer {read_key}"}).status_code == 404


def test_one_outlier_does_not_flatten_the_score_and_latent_plots() -> None:
    from service.ui.plots import latent_figure, score_figure

    rng = np.random.default_rng(0)
    scores = np.abs(rng.normal(1.0, 0.2, size=500))
    scores[0] = 1e6
    ax = score_figure(scores, 1.5, title="s").axes[0]
    low, high = ax.get_xlim()
    assert high < 10 and low < 1.5 < high  # the bulk and the threshold, not 0..1e6
    assert any("outliers shown at the edge" in t.get_text() for t in ax.texts)

    points = rng.normal(size=(300, 2))
    points[5] = [1e4, -1e4]
    ax = latent_figure(points, np.arange(300) % 3, axis_names=("a", "b"), title="l").axes[0]
    assert ax.get_xlim()[1] < 10 and ax.get_ylim()[0] > -10
    assert any("outliers shown at the edge" in t.get_text() for t in ax.texts)


def test_a_loss_plot_is_rendered_once_per_epoch_report_and_reads_only_those(
    trained: tuple[TestClient, dict],
) -> None:
    """A dashboard polls a job's loss.png: each request read every event of the job (the
    within-epoch reports every few seconds among them) and a running job's was rendered
    every time. Now the kept PNG answers until a new epoch report (or state) arrives."""
    client, jobs = trained
    url = f"/v1/jobs/{jobs['digits']['id']}/plots/loss.png"
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.lower())

    first = client.get(url)
    engine = client.app.state.ctx.engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        again = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert again.status_code == 200 and again.content == first.content
    events_read = [s for s in statements if "job_event.data" in s or "job_event.kind as" in s]
    assert not events_read, events_read  # the kept PNG: no report read
