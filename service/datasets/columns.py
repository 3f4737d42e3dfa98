"""CSV headers and columns, decided the same way by the upload route and `aesvc encode`.

A table's columns are found by name, never by position: reordered columns are fine, missing
or extra ones are an error that names them. A first row of numbers is data, not a header,
unless the caller says otherwise (`header=false` / `--no-header`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}
FIRST_LINE_MAX_BYTES = 4 << 20  # the CSV reader's block: a longer row is refused there
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class ColumnError(ValueError):
    """Bad columns or cells; `field` names the request field (or CLI option) at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def first_line(path: Path) -> str:
    """The first line that is not empty, as the CSV reader skips empty ones (without its
    BOM); \\n, \\r\\n and a lone \\r (old Mac exports) each end a line."""
    with path.open("rb") as fp:
        head = fp.read(FIRST_LINE_MAX_BYTES)
        cut = len(head) == FIRST_LINE_MAX_BYTES and bool(fp.read(1))
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip("\r\n")
    end = LINE_BREAK.search(text)
    if end is not None:
        return text[: end.start()]
    return text.rpartition(",")[0] if cut else text  # cut: its last cell may go on


def _cells(line: str) -> list[str]:
    try:
        return next(csv.reader([line]), [])
    except csv.Error as exc:
        raise ColumnError("file", f"the first line is not comma-separated values: {exc}") from exc


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def check_separator(line: str) -> None:
    """Comma-separated only: a file split by another separator would read as one column."""
    if "," in line:
        return
    for separator, word in SEPARATORS.items():
        if separator in line:
            raise ColumnError(
                "file",
                f"the first line is separated by {word}s ({separator!r}), not commas: "
                "save the file as comma-separated values",
            )


def decide_header(line: str, header: bool | None) -> bool:
    """Whether the first line holds column names. Undeclared, a row of numbers is refused:
    taken as names it would lose a row of data and name the columns "1", "2", ..."""
    check_separator(line)
    if header is not None:
        return header
    cells = _cells(line)
    if cells and all(_is_number(cell.strip()) for cell in cells):
        shown = line if len(line) <= 60 else line[:57] + "..."
        raise ColumnError(
            "header",
            f"the first row ({shown}) is all numbers, so it looks like data, not column "
            "names: declare header=false to read it as data (columns x0, x1, ...), or "
            "header=true to use it as names",
        )
    return True


def positional_names(n_columns: int) -> list[str]:
    return [f"x{i}" for i in range(n_columns)]


@dataclass
class ColumnMatch:
    order: list[int]  # the table's column index of each feature, in the dataset's order
    dropped_label: str | None


def match_columns(
    names: Sequence[str],
    feature_names: Sequence[str],
    *,
    label_column: str | None = None,
    has_labels: bool = False,
) -> ColumnMatch:
    """The table's columns in the dataset's feature order, by name. A label column is
    dropped: the one named, or, when the dataset has labels, the one column left over."""
    index = {name: i for i, name in enumerate(names)}
    missing = [name for name in feature_names if name not in index]
    extra = [name for name in names if name not in set(feature_names)]
    dropped = None
    if label_column is not None:
        if label_column not in index:
            raise ColumnError(
                "label_column", f"no column named {label_column!r} (columns: {_shown(names)})"
            )
        extra = [name for name in extra if name != label_column]
        dropped = label_column
    elif has_labels and len(extra) == 1 and not missing:
        dropped, extra = extra[0], []
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {_shown(missing)}")
        if extra:
            parts.append(f"not in the dataset {_shown(extra)}")
        raise ColumnError(
            "file",
            f"the columns do not match the dataset's features: {'; '.join(parts)} "
            f"(expected {len(feature_names)} columns named {_shown(feature_names)})",
        )
    return ColumnMatch(order=[index[name] for name in feature_names], dropped_label=dropped)


def _shown(names: Sequence[str], most: int = 8) -> str:
    listed = ", ".join(repr(n) for n in names[:most])
    return f"[{listed}{', ...' if len(names) > most else ''}] ({len(names)})"


def read_csv(path: Path, *, header: bool | None) -> tuple[list[str], Any]:
    """(column names, pyarrow table) of a comma-separated file; without a header the
    columns are named x0, x1, ... as an .npy file's are."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    has_header = decide_header(first_line(path), header)
    options = pacsv.ReadOptions(autogenerate_column_names=not has_header)
    try:
        table = pacsv.read_csv(path, read_options=options)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        message = str(exc).splitlines()[0]
        raise ColumnError("file", f"could not read the csv file: {message}") from exc
    if not has_header:
        table = table.rename_columns(positional_names(table.num_columns))
    return [str(n) for n in table.column_names], table


def numeric_column(table: Any, name: str, *, first_row: int = 0) -> np.ndarray:
    """One column as float32, or an error naming the column and its first bad cell
    (`first_row`: the file's rows before this table's)."""
    import pyarrow.types as pat

    column = table.column(name)
    kind = column.type
    if pat.is_integer(kind) or pat.is_floating(kind) or pat.is_boolean(kind) or pat.is_null(kind):
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float32)
    cells = column.to_pylist()
    for row, cell in enumerate(cells):
        if cell is not None and not _is_number(str(cell)):
            raise ColumnError(
                f"file.{name}",
                f"column {name!r} is not numeric: row {first_row + row + 1} holds "
                f"{str(cell)[:40]!r} "
                "(rows counted from 1 after the header); drop the column or name it as the "
                "label column",
            )
    return np.asarray([float(c) if c is not None else np.nan for c in cells], dtype=np.float32)
