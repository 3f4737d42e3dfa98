"""csv and parquet uploads are read a record batch (about 4 MB) at a time: files of
several batches give exactly the matrix a whole-file read gives, a column whose type
changes after the first batch still reads, and a bad cell far into the file is refused
naming its row, with nothing stored."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from service.datasets.table_stream import BATCH_BYTES, TableStream

ROWS = 300_000  # about 6 MB of csv: two batches at least


def csv_text(a: list[str], b: np.ndarray, labels: np.ndarray) -> bytes:
    lines = ["a,b,label"] + [f"{x},{y:.6f},{z}" for x, y, z in zip(a, b, labels, strict=True)]
    return ("\n".join(lines) + "\n").encode()


def table(rng: np.random.Generator) -> tuple[list[str], np.ndarray, np.ndarray]:
    ints = rng.integers(0, 100, size=ROWS)
    # column a: whole numbers for the first batches, then a fraction (a type guess from the
    # first block would take it for int64 and fail on the later row)
    a = [str(v) for v in ints]
    a[-5] = "0.5"
    b = rng.normal(size=ROWS)
    labels = rng.choice(np.array([1, 2, 10]), size=ROWS)
    return a, b, labels


def test_a_csv_of_several_batches_reads_as_a_whole_file_would(client: TestClient) -> None:
    a, b, labels = table(np.random.default_rng(0))
    data = csv_text(a, b, labels)
    assert len(data) > BATCH_BYTES
    created = client.post(
        "/v1/datasets",
        files={"file": ("big.csv", data, "text/csv")},
        data={"name": "big-csv", "label_column": "label"},
    )
    assert created.status_code == 201, created.text
    dataset = created.json()
    assert (dataset["n_rows"], dataset["n_features"]) == (ROWS, 2)
    assert dataset["label_names"] == ["1", "2", "10"]  # numbers sort as numbers
    expected = np.stack([np.asarray(a, dtype=np.float64), b], axis=1).astype(np.float32)
    stored = client.get("/v1/datasets/big-csv/data")
    assert stored.status_code == 200
    np.testing.assert_allclose(np.load(io.BytesIO(stored.content)), expected, atol=1e-6)


def test_a_bad_cell_past_the_first_batch_names_its_row(client: TestClient) -> None:
    a, b, labels = table(np.random.default_rng(1))
    a[280_000 - 1] = "oops"  # row 280,000 counted from 1 after the header
    refused = client.post(
        "/v1/datasets",
        files={"file": ("bad.csv", csv_text(a, b, labels), "text/csv")},
        data={"name": "bad-csv", "label_column": "label"},
    )
    assert refused.status_code == 422, refused.text
    problem: dict[str, Any] = refused.json()
    assert problem["errors"][0]["field"] == "file.a"
    assert "row 280000 holds 'oops'" in problem["detail"], problem["detail"]
    assert client.get("/v1/datasets/bad-csv").status_code == 404


def test_a_parquet_of_many_row_groups_reads_whole(client: TestClient) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200_000, 4)).astype(np.float32)
    buffer = io.BytesIO()
    columns = {f"c{i}": X[:, i] for i in range(4)} | {"y": rng.integers(0, 3, len(X))}
    pq.write_table(pa.table(columns), buffer, row_group_size=25_000)
    created = client.post(
        "/v1/datasets",
        files={"file": ("many.parquet", buffer.getvalue(), "application/octet-stream")},
        data={"name": "many", "label_column": "y"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["label_names"] == ["0", "1", "2"]
    stored = client.get("/v1/datasets/many/data")
    np.testing.assert_array_equal(np.load(io.BytesIO(stored.content)), X)


def test_a_parquet_is_read_a_row_group_at_a_time(tmp_path: Path) -> None:
    """pyarrow's ParquetFile pre-buffers every row group it is asked for (all of them, for
    iter_batches): a 579 MB upload held 606 MB of Arrow memory at once."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40 * 8192, 16)).astype(np.float32)  # 40 row groups of 512 KB
    path = tmp_path / "groups.parquet"
    pq.write_table(pa.table({f"c{i}": X[:, i] for i in range(16)}), path, row_group_size=8192)
    assert path.stat().st_size > 20 << 20
    peak = 0
    stream = TableStream(path, "parquet", None, None)
    blocks = []
    for block in stream.blocks():
        peak = max(peak, pa.total_allocated_bytes())
        blocks.append(block)
    np.testing.assert_array_equal(np.concatenate(blocks), X)
    assert peak < 8 << 20, f"{peak / 2**20:.1f} MB of Arrow memory held while reading"
