"""Where a one-row and an 8192-row encode spend their time on a CUDA device, in process.

`benchmarks/inference.py --device cuda` measures what a client sees. This splits the GPU
path of one batch into its parts, so that its figures can be read against them: the host
to device copy, the forward pass, the copy back (each synchronised), the whole pipeline
as the service runs it (numpy in, numpy out), the same through the device's inference
thread (the hand-off the service adds per batch), and a CUDA graph replay of it (what
capturing the small batch sizes would save). The CPU's one-row eager encode is the
reference. `host_or_gpu`: per operation, the batch sizes the service runs on the host
rather than the GPU, as it measures them when a version loads (host_batches; with the
service's settings, so its host batches of up to AESVC_INFERENCE_NUMPY_ROWS rows run in
numpy, `host_numpy_rows`). Model: the
digits dense AE's shape (64-128-64-8), randomly initialised.

    python benchmarks/inference_cuda_latency.py [--iterations 2000]

Prints and saves benchmarks/results/inference_cuda_latency.json. Needs CUDA.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
BIG_ROWS = 8192


def median_us(fn: Callable[[], object], iterations: int) -> float:
    for _ in range(max(10, iterations // 20)):
        fn()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1e6, 1)


def synced(fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        out = fn()
        torch.cuda.synchronize()
        return out

    return run


def graph_encode(
    model: torch.nn.Module, rows: int, n_features: int
) -> Callable[[np.ndarray], np.ndarray]:
    """numpy in, numpy out through a CUDA graph captured for `rows` rows."""
    static_in = torch.zeros(rows, n_features, device="cuda")
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream), torch.inference_mode():
        for _ in range(3):
            model.encode(static_in)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.inference_mode():
        static_out = model.encode(static_in)

    def run(x: np.ndarray) -> np.ndarray:
        static_in.copy_(torch.from_numpy(x))
        graph.replay()
        return static_out.cpu().numpy()

    return run


def host_or_gpu() -> dict[str, Any]:
    """What the service decides at load for this model (service.inference.host_batches):
    per operation, the batch sizes it runs on the host, and the timings it measured."""
    from service.config import Settings
    from service.inference import engine, numpy_graphs
    from service.inference.cache import LoadedModel
    from service.inference.device import one_torch_thread
    from service.zoo.serving import build_serving_model
    from service.zoo.spec import ModelSpec

    spec = ModelSpec.model_validate({"architecture": {"code_size": 8, "hidden_sizes": [128, 64]}})
    torch.manual_seed(0)
    host = build_serving_model(spec, 64, None).eval()
    gpu = build_serving_model(spec, 64, None).eval()
    gpu.load_state_dict(host.state_dict())
    loaded = LoadedModel(
        name="bench", version=1, model=gpu.to("cuda"), config={}, metrics={}, n_features=64,
        code_size=8, variational=False, size_bytes=0, device="cuda:0", key="bench@1",
        host_model=host,
    )  # fmt: skip
    found: dict[str, Any] = {}
    settings = Settings()  # the service's defaults (AESVC_* in the environment apply)
    mode = {
        "cuda_graph_rows": settings.inference_cuda_graph_rows,
        "cuda_host_rows": settings.inference_cuda_host_rows,
        "numpy_rows": settings.inference_numpy_rows,
    }
    numpy_graphs.one_blas_thread()  # as the service's engine does
    with torch.inference_mode(), one_torch_thread():  # as the model cache loads a version
        for operation in engine.OPERATIONS:
            fn = engine.batch_fn(loaded, operation, **mode)
            found[operation] = {
                "host_rows": fn.host_rows,  # type: ignore[attr-defined]
                "host_numpy_rows": fn.numpy_rows,  # type: ignore[attr-defined]
                "timings_us_host_vs_gpu": {
                    str(rows): list(pair)
                    for rows, pair in fn.host_timings.items()  # type: ignore[attr-defined]
                },
            }
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("needs CUDA: torch sees no GPU")
    from service.inference.device import Device
    from service.zoo.build import build_autoencoder
    from service.zoo.spec import ModelSpec

    spec = ModelSpec.model_validate({"architecture": {"code_size": 8, "hidden_sizes": [128, 64]}})
    torch.manual_seed(0)
    cpu_model = build_autoencoder(spec, n_features=64, image_shape=None).eval()
    model = build_autoencoder(spec, n_features=64, image_shape=None).eval()
    model.load_state_dict(cpu_model.state_dict())
    model = model.to("cuda")
    rng = np.random.default_rng(0)
    n = args.iterations
    out: dict[str, Any] = {}
    with torch.inference_mode():
        for rows in (1, BIG_ROWS):
            x = rng.standard_normal((rows, 64), dtype=np.float32)
            xd = torch.from_numpy(x).to("cuda")
            zd = model.encode(xd)
            iters = n if rows == 1 else max(50, n // 20)

            def pipeline(x: np.ndarray = x) -> np.ndarray:  # as engine.batch_fn runs it
                return model.encode(torch.from_numpy(x).to("cuda")).cpu().numpy()

            fig = {
                "h2d_us": median_us(synced(lambda x=x: torch.from_numpy(x).to("cuda")), iters),
                "forward_us": median_us(synced(lambda xd=xd: model.encode(xd)), iters),
                "d2h_us": median_us(lambda zd=zd: zd.cpu().numpy(), iters),
                "pipeline_us": median_us(pipeline, iters),
                "cpu_eager_us": median_us(
                    lambda x=x: cpu_model.encode(torch.from_numpy(x)).numpy(), iters
                ),
            }
            try:
                graphed = graph_encode(model, rows, 64)
                assert np.allclose(graphed(x), pipeline(), atol=1e-5)
                fig["cuda_graph_pipeline_us"] = median_us(lambda g=graphed, x=x: g(x), iters)
            except Exception as exc:  # a figure we can go without: say why it is missing
                fig["cuda_graph_pipeline_us"] = f"failed: {exc!r}"[:300]
            assert np.allclose(pipeline(), cpu_model.encode(torch.from_numpy(x)).numpy(), atol=1e-4)
            if rows == BIG_ROWS:
                buffer = io.BytesIO()
                np.save(buffer, x)
                body = buffer.getvalue()
                fig["npy_parse_us"] = median_us(lambda b=body: np.load(io.BytesIO(b)), iters)
                fig["npy_write_us"] = median_us(lambda x=x: np.save(io.BytesIO(), x[:, :8]), iters)
            out[f"rows_{rows}"] = fig

        # the hand-off to the device's inference thread and back, as a batcher awaits it
        device = Device("cuda:0")
        x1 = rng.standard_normal((1, 64), dtype=np.float32)

        def fn(x: np.ndarray) -> tuple[np.ndarray, ...]:
            return (model.encode(torch.from_numpy(x).to("cuda")).cpu().numpy(),)

        async def through_thread() -> float:
            for _ in range(100):
                await device.run(fn, x1)
            times = []
            for _ in range(n):
                start = time.perf_counter()
                await device.run(fn, x1)
                times.append(time.perf_counter() - start)
            return round(statistics.median(times) * 1e6, 1)

        out["rows_1"]["through_inference_thread_us"] = asyncio.run(through_thread())
        device.close()
        out["sync_alone_us"] = median_us(torch.cuda.synchronize, n)
        out["host_or_gpu"] = host_or_gpu()
    out["setup"] = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "iterations": n,
        "figures": "medians, µs; each GPU part synchronised; pipeline = numpy in, numpy out",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "inference_cuda_latency.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
