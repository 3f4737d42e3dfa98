"""A parquet label column of decimals (what SQL and Spark exports write for NUMERIC class
codes) is read as numbers."""

from __future__ import annotations

import decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from service.datasets.table_stream import TableStream
from tests.datasets.conftest import Upload


def test_a_decimal_label_column_is_read_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    labels = pa.array([decimal.Decimal("1"), decimal.Decimal("2")], pa.decimal128(5, 0))
    pq.write_table(pa.table({"a": [1.0, 2.0], "label": labels}), path)
    stream = TableStream(path, "parquet", "label", None)
    assert stream.y is not None and [int(v) for v in stream.y] == [1, 2]


def labels_of(tmp_path: Path, cells: list[str]) -> list[str]:
    path = tmp_path / "l.csv"
    path.write_text("a,label\n" + "".join(f"{i},{c}\n" for i, c in enumerate(cells)))
    stream = TableStream(path, "csv", "label", True)
    assert stream.y is not None
    return [str(v) for v in stream.y]


def test_text_labels_that_one_number_would_merge_stay_apart(tmp_path: Path) -> None:
    """Codes such as 1 and 01 (or 7 and 7.0) are two labels: read as numbers they were one
    class, silently."""
    assert labels_of(tmp_path, ["1", "01", "2"]) == ["1", "01", "2"]
    assert labels_of(tmp_path, ["7", "7.0"]) == ["7", "7.0"]
    # kept as text, the labels are the ones compared: " 1" is "1", as a number it was
    assert labels_of(tmp_path, ["1", " 1", "01"]) == ["1", "1", "01"]


def test_numeric_text_labels_are_numbers_sorted_as_numbers(tmp_path: Path) -> None:
    assert labels_of(tmp_path, ["10", " 2", "1"]) == ["10", "2", "1"]
    path = tmp_path / "n.csv"
    path.write_text("a,label\n0,10\n1,2\n2,1\n")
    y = TableStream(path, "csv", "label", True).y
    assert y is not None and y.dtype.kind == "i" and sorted(y.tolist()) == [1, 2, 10]


def test_an_upload_keeps_codes_1_and_01_as_two_classes(upload: Upload) -> None:
    csv = b"a,b,code\n1,2,1\n3,4,01\n5,6,1\n7,8,2\n"
    response = upload("codes.csv", csv, label_column="code")
    assert response.status_code == 201, response.text
    assert response.json()["label_names"] == ["01", "1", "2"]
