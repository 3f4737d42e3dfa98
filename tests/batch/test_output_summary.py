"""What a batch job's output dataset says of its matrix, taken chunk by chunk."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from service.batch.output import OutputSummary
from service.datasets.chunks import npy_bytes
from service.zoo import profile
from service.zoo.profile import profile_data


@pytest.mark.parametrize("sample", [50, 1000])  # the sample full mid-way, and never full
def test_the_summary_equals_the_whole_matrix_s(
    monkeypatch: pytest.MonkeyPatch, sample: int
) -> None:
    monkeypatch.setattr(profile, "_SAMPLE_ROWS", sample)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(130, 4)).astype(np.float32)
    X[90:, 1] = 7.0  # past the sample: the bounds see it, the moments do not
    X[:, 3] = rng.integers(0, 2, size=130)
    summary = OutputSummary(len(X), 4)
    for start in range(0, len(X), 30):
        block = X[start : start + 30]
        summary.add(block, len(npy_bytes(block)))
    columns = summary.columns()
    assert columns["profile"] == profile_data(X).model_dump()
    assert columns["sha256"] == hashlib.sha256(npy_bytes(X)).hexdigest()
    stats, x = columns["stats"], X.astype(np.float64)
    np.testing.assert_allclose(stats["mean"], x.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(stats["std"], x.std(axis=0), rtol=1e-12, atol=1e-12)
    assert stats["min"] == x.min(axis=0).tolist() and stats["max"] == x.max(axis=0).tolist()
