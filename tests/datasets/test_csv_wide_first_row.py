"""A headerless CSV of very wide rows (over a MiB, up to the reader's 4 MiB block): the
header check reads the whole first row (or drops a cell the read cut), so a first row of
numbers gets the 422 every narrower one gets, not taken as column names (a row lost)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.datasets.columns import ColumnError
from service.datasets.table_stream import TableStream


def test_a_wide_all_numbers_first_row_is_not_taken_as_column_names(tmp_path: Path) -> None:
    n = 16400  # 64-byte cells: the 1 MiB cut falls right after a comma
    row = ",".join(f"0.{i:061d}" for i in range(n)).encode()
    assert len(row) > 1 << 20
    path = tmp_path / "wide.csv"
    path.write_bytes(row + b"\n" + row + b"\n")
    narrow = tmp_path / "narrow.csv"
    narrow.write_bytes(b"0.1,0.2\n0.1,0.2\n")
    with pytest.raises(ColumnError):  # the narrow file: refused, as the docs say
        TableStream(narrow, "csv", None, None)
    try:
        stream = TableStream(path, "csv", None, None)
    except ColumnError:
        return
    pytest.fail(
        f"read with header={stream.has_header}: {stream.n_rows} row(s) of 2, column names "
        f"{stream.names[:2]}..."
    )
