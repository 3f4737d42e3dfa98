"""CUDA only: training with and without bf16 autocast, one worker slot per device,
inference on the GPU and a batch job's lanes on it. Skipped, with the reason, where torch
sees no CUDA device."""

from __future__ import annotations

import io
import logging
import threading
import time
from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from sklearn.datasets import load_digits

from service.config import Settings
from service.context import AppContext
from service.datasets import chunks
from service.executors.local import worker_slots
from service.inference.backends.base import OPERATIONS
from service.inference.backends.torch import TorchBackend
from service.inference.runtime.cache import LoadedModel, ModelCache
from service.inference.runtime.engine import BackendOptions, prepare
from service.main import create_app
from service.training.trainer import train
from service.zoo.spec import ModelSpec
from tests.factories import job_body, npy_bytes, run_worker, wait_for

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA: torch sees no GPU"),
]
X = load_digits().data.astype(np.float32)


@pytest.mark.parametrize("bf16", [False, True], ids=["fp32", "bf16-autocast"])
def test_training_on_cuda(bf16: bool) -> None:
    spec = ModelSpec.model_validate({
        "architecture": {"code_size": 8, "hidden_sizes": [64]},
        "training": {"epochs": 3, "device": "cuda", "bf16_autocast": bf16},
    })  # fmt: skip
    result = train(spec=spec, X=X, image_shape=None)
    assert len(result.history) == 3
    assert all(np.isfinite(h["train_loss"]) for h in result.history)


def test_one_worker_slot_per_device(settings: Settings) -> None:
    devices = [str(i) for i in range(torch.cuda.device_count())]
    # AESVC_WORKERS counts CPU workers: with CUDA there is one slot per device whatever it says
    for workers in (1, 3):
        assert worker_slots(settings.model_copy(update={"workers": workers})) == devices
    assert worker_slots(settings.model_copy(update={"workers": 0})) == []  # workers off


def test_inference_runs_on_the_gpu(settings: Settings) -> None:
    settings = settings.model_copy(update={"inference_device": "cuda"})
    with TestClient(create_app(settings, start_workers=False)) as client:
        job = client.post("/v1/jobs", json=job_body(model_name="g", code_size=4)).json()
        assert run_worker(settings) == 1
        assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "succeeded"
        out = client.post("/v1/models/g/versions/1/encode", json={"inputs": X[:8].tolist()})
        assert out.status_code == 200, out.text
        assert np.asarray(out.json()["codings"]).shape == (8, 4)
        _, cache = client.app.state.ctx.inference()  # type: ignore[attr-defined]
        (loaded,) = cache.loaded_models()
        assert loaded.device.startswith("cuda")
        assert loaded.plan.backend == "torch" and loaded.plan.cuda_graph_sizes  # the default
        gen = client.post("/v1/models/g/versions/1/generate", json={"n": 4, "seed": 0})
        assert gen.status_code == 200 and np.isfinite(gen.json()["samples"]).all()


@pytest.mark.parametrize("kind", ["dense", "vae", "conv"])
def test_small_batches_replay_cuda_graphs_and_answer_as_eager(kind: str) -> None:
    from tests.inference.test_backends import serving_model

    cpu_model, _ = serving_model(kind)
    gpu_model, _ = serving_model(kind)
    gpu_model.to("cuda")
    graphed = TorchBackend(gpu_model, device="cuda:0", cuda_graph_rows=16)
    assert graphed.cuda_graph_sizes == (1, 2, 4, 8, 16)
    # its pools: the allocator's segments are 2 MiB at least, one pool per operation
    assert graphed.held_bytes >= len(OPERATIONS) * (2 << 20)
    eager = TorchBackend(gpu_model, device="cuda:0")  # op by op
    on_cpu = TorchBackend(cpu_model, device="cpu")
    rng = np.random.default_rng(0)
    for op in OPERATIONS:
        # the largest bucket first: rows a batch leaves behind must not reach the next
        for rows in (16, 3, 1, 9, 16, 17, 40):
            ae = cpu_model.autoencoder
            x = rng.standard_normal((rows, ae.code_size if op == "decode" else ae.n_features))
            x = x.astype(np.float32)
            got, want, cpu_want = graphed.run(op, x), eager.run(op, x), on_cpu.run(op, x)
            assert len(got) == len(want) == len(cpu_want)
            for g, w, c in zip(got, want, cpu_want, strict=True):
                assert g.shape == w.shape == c.shape and g.shape[0] == rows
                np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-4)
                np.testing.assert_allclose(g, c, rtol=1e-2, atol=1e-2)  # TF32 convs


def _cuda_version(settings: Settings, *, warm: bool) -> LoadedModel:
    ctx = AppContext.from_settings(settings)
    options = BackendOptions(cuda_graph_rows=4)
    warmup = (lambda loaded: prepare(loaded, options, [1])) if warm else None
    cache = ModelCache(ctx.store, devices=("cuda:0",), warmup=warmup)
    with ctx.session_factory() as session:
        return cache.resolve(session, "g", "1")


def test_a_gpu_version_counts_its_graph_pools(settings: Settings) -> None:
    with TestClient(create_app(settings, start_workers=False)) as client:
        posted = client.post("/v1/jobs", json=job_body(model_name="g", code_size=4))
        assert posted.status_code == 202
        assert run_worker(settings) == 1
    alone = _cuda_version(settings, warm=False)
    warm = _cuda_version(settings, warm=True)  # graphs captured at warm-up
    assert alone.backend is None and alone.footprint_bytes == alone.size_bytes
    assert warm.backend is not None and warm.plan is not None
    assert warm.plan.backend == "torch" and warm.plan.cuda_graph_sizes == (1, 2, 4)
    assert warm.backend.held_bytes >= len(OPERATIONS) * (2 << 20)
    assert warm.footprint_bytes == warm.size_bytes + warm.backend.held_bytes
    assert all(t.device.type == "cuda" for t in warm.model.state_dict().values())


def test_a_version_captures_its_graphs_while_another_serves(settings: Settings) -> None:
    """Capture is thread-local (service.inference.backends.torch): a version loading and
    capturing in the threadpool must not disturb, nor be disturbed by, another version
    serving on the same GPU meanwhile."""
    settings = settings.model_copy(update={"inference_device": "cuda"})
    with TestClient(create_app(settings, start_workers=False)) as client:
        for _ in range(2):
            posted = client.post("/v1/jobs", json=job_body(model_name="g", code_size=4))
            assert posted.status_code == 202
        assert run_worker(settings, max_jobs=2) == 2
        body = {"inputs": X[:4].tolist()}
        first = client.post("/v1/models/g/versions/1/encode", json=body)
        assert first.status_code == 200, first.text
        want = np.asarray(first.json()["codings"])
        answers: list[Any] = []
        spans: list[tuple[float, float]] = []
        stop = threading.Event()

        def serve_version_1() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                answers.append(client.post("/v1/models/g/versions/1/encode", json=body))
                spans.append((started, time.perf_counter()))

        server = threading.Thread(target=serve_version_1)
        server.start()
        try:
            wait_for(lambda: len(answers) >= 5, timeout_s=30)
            loading = time.perf_counter()
            second = client.post("/v1/models/g/versions/2/encode", json=body)  # load + capture
            loaded = time.perf_counter()
        finally:
            stop.set()
            server.join(60)
        assert second.status_code == 200, second.text
        _, cache = client.app.state.ctx.inference()  # type: ignore[attr-defined]
        assert len(cache.loaded_models()) == 2 and not server.is_alive()
        # version 1 answered, start to end, while version 2 loaded and captured
        assert any(loading < start and end < loaded for start, end in spans)
        for answer in answers:
            assert answer.status_code == 200, answer.text
            np.testing.assert_allclose(
                np.asarray(answer.json()["codings"]), want, rtol=1e-4, atol=1e-5
            )


def test_a_batch_job_encodes_on_the_gpu_as_the_cpu_route_does(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch job on a GPU host runs its lanes on CUDA (two chunks in work at once); its
    output, chunk by chunk in order, is what the CPU route answers for the same rows."""
    settings = settings.model_copy(update={"inference_device": "cpu"})  # the reference
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 200 * X.shape[1] * 4)  # 9 chunks of digits
    with TestClient(create_app(settings, start_workers=False)) as client:
        posted = client.post(
            "/v1/datasets", files={"file": ("rows.npy", npy_bytes(X))}, data={"name": "rows"}
        )
        assert posted.status_code == 201, posted.text
        assert (
            client.post("/v1/jobs", json=job_body(model_name="g", dataset="rows")).status_code
            == 202
        )
        assert run_worker(settings) == 1
        body = {"model": "g", "dataset": "rows", "operation": "encode", "output": "codes"}
        job = client.post("/v1/batch-jobs", json=body).json()
        with caplog.at_level(logging.INFO, logger="service.batch.runner"):
            assert run_worker(settings) == 1
        assert "runs on torch (cuda)" in caplog.text
        done = client.get(f"/v1/batch-jobs/{job['id']}").json()
        assert done["status"] == "succeeded", done
        assert done["progress"]["chunks_done"] == done["progress"]["chunks_total"] == 9
        codes = np.load(io.BytesIO(client.get("/v1/datasets/codes/data").content))
        want = client.post("/v1/models/g/versions/1/encode", json={"inputs": X.tolist()})
        assert want.status_code == 200, want.text
        np.testing.assert_allclose(codes, want.json()["codings"], rtol=1e-3, atol=1e-4)
