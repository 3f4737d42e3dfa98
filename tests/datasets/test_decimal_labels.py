"""A parquet label column of decimals (what SQL and Spark exports write for NUMERIC class
codes) is read as numbers."""

from __future__ import annotations

import decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from service.datasets.table_stream import TableStream


def test_a_decimal_label_column_is_read_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    labels = pa.array([decimal.Decimal("1"), decimal.Decimal("2")], pa.decimal128(5, 0))
    pq.write_table(pa.table({"a": [1.0, 2.0], "label": labels}), path)
    stream = TableStream(path, "parquet", "label", None)
    assert stream.y is not None and [int(v) for v in stream.y] == [1, 2]
