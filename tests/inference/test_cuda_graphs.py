"""CUDA graphs for small GPU batches (service.inference.backends.torch): the bucket
sizes, and that nothing is captured off a GPU or when turned off. Capture and replay themselves are
checked against eager answers in tests/test_gpu.py (CUDA only)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from service.inference.backends.torch import GraphedOperation, TorchBackend, bucket_sizes
from tests.inference.test_backends import OPS, serving_model


@pytest.mark.parametrize(
    ("max_rows", "sizes"),
    [(0, []), (1, [1]), (2, [1, 2]), (16, [1, 2, 4, 8, 16]), (100, [1, 2, 4, 8, 16, 32, 64, 100])],
)
def test_bucket_sizes_are_powers_of_two_and_the_limit(max_rows: int, sizes: list[int]) -> None:
    assert bucket_sizes(max_rows) == sizes


def test_a_batch_goes_to_the_smallest_bucket_that_holds_it() -> None:
    op = GraphedOperation.__new__(GraphedOperation)  # no capture
    op.sizes = bucket_sizes(100)
    assert [op.bucket(n) for n in (1, 2, 3, 33, 64, 65, 100, 101)] == [
        1, 2, 4, 64, 64, 100, 100, None,
    ]  # fmt: skip


@pytest.mark.parametrize("max_rows", [0, 16])
def test_nothing_is_captured_on_a_cpu(max_rows: int) -> None:
    module = torch.nn.Linear(3, 2)
    assert GraphedOperation.of(module, torch.device("cpu"), 3, max_rows) is None
    model, _ = serving_model("dense")
    backend = TorchBackend(model, device="cpu", cuda_graph_rows=max_rows)
    assert backend.cuda_graph_sizes == () and backend.held_bytes == 0
    x = np.random.default_rng(0).standard_normal((5, 10), dtype=np.float32)
    for op in OPS:
        n = model.autoencoder.code_size if op == "decode" else 10
        assert all(out.shape[0] == 5 for out in backend.run(op, x[:, :n]))
