"""An .npz whose X is in Fortran order (np.savez of a pandas DataFrame's `.values` writes
it so): its member is copied to a spool file a block at a time and read from a map of it,
never loaded whole; the copy is gone however the upload ends."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.datasets import chunks, parsing
from service.datasets.parsing import parse_file
from service.datasets.service import get_dataset, load_labels, open_rows
from tests.datasets.test_upload_errors import assert_rejected, field_of
from tests.factories import npy_bytes, random_matrix

SMALL_CHUNK_BYTES = 4096  # 128 rows of 8 float32 features
SMALL_BLOCK_BYTES = 1000  # what parsing reads (and copies) at a time: many blocks


def fortran_npz(X: np.ndarray, *, compressed: bool = False, **more: np.ndarray) -> bytes:
    out = io.BytesIO()
    save = np.savez_compressed if compressed else np.savez
    save(out, X=np.asfortranarray(X), **more)  # type: ignore[arg-type]
    data = out.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("X.npy") as member:
        np.lib.format.read_magic(member)
        assert np.lib.format.read_array_header_1_0(member)[1]  # fortran_order: True
    return data


def npz_of_members(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return out.getvalue()


def spool_files(settings: Any) -> list[Path]:
    folder = settings.data_dir / "tmp"
    return [p for p in folder.iterdir() if p.is_file()] if folder.exists() else []


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", SMALL_CHUNK_BYTES)
    monkeypatch.setattr(parsing, "BLOCK_BYTES", SMALL_BLOCK_BYTES)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize(
    ("compressed", "dtype", "labelled"),
    [(False, np.float32, True), (True, np.float64, False)],
    ids=["stored-float32-with-y", "deflated-float64"],
)
def test_a_fortran_order_npz_round_trips_in_chunks(
    client: TestClient, upload: Any, settings: Any, compressed: bool, dtype: Any, labelled: bool
) -> None:
    X = random_matrix(1000, 8, seed=5).astype(dtype)
    y = np.array(["cat", "dog"])[np.arange(1000) % 2]
    more = {"y": y} if labelled else {}
    response = upload("f.npz", fortran_npz(X, compressed=compressed, **more), name="fortran")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["n_rows"], body["n_features"]) == (1000, 8)
    assert body["has_labels"] is labelled
    assert body["label_names"] == (["cat", "dog"] if labelled else None)
    stored = npy_bytes(X.astype(np.float32))  # C order, float32: what any upload stores
    assert body["sha256"] == hashlib.sha256(stored).hexdigest()
    download = client.get("/v1/datasets/fortran/data")
    assert download.status_code == 200
    np.testing.assert_array_equal(np.load(io.BytesIO(download.content)), X.astype(np.float32))
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        dataset = get_dataset(session=session, id_or_name="fortran")
        rows = open_rows(session=session, store=ctx.store, dataset=dataset)
    assert [c.n_rows for c in rows.chunks] == [128] * 7 + [104]
    labels = load_labels(store=ctx.store, labels_sha256=dataset.labels_sha256)
    if labelled:
        assert labels is not None
        np.testing.assert_array_equal(labels, np.arange(1000) % 2)  # codes of cat, dog
    else:
        assert labels is None
    assert spool_files(settings) == []  # the upload's spool and X's copy, both gone


def test_a_fortran_order_npz_is_never_read_whole(
    upload: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What loaded X whole (np.load's NpzFile["X"]) reads through numpy.lib.format.read_array;
    y, one value a row, still may."""
    real = np.lib.format.read_array

    def read_array(*args: Any, **kwargs: Any) -> np.ndarray:
        array: np.ndarray = real(*args, **kwargs)
        if array.ndim == 2:
            raise AssertionError(f"a {array.shape} matrix was read whole")
        return array

    monkeypatch.setattr(np.lib.format, "read_array", read_array)
    X = random_matrix(300, 5, seed=6)
    y = np.arange(300) % 3
    response = upload("f.npz", fortran_npz(X, y=y))
    assert response.status_code == 201, response.text
    assert response.json()["label_names"] == ["0", "1", "2"]


@pytest.mark.parametrize("compressed", [False, True], ids=["stored", "deflated"])
def test_reading_a_fortran_order_npz_holds_a_block_not_the_array(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compressed: bool
) -> None:
    monkeypatch.setattr(parsing, "BLOCK_BYTES", 64 << 10)
    X = random_matrix(512, 2048, seed=7)  # 4 MiB
    path = tmp_path / "f.npz"
    path.write_bytes(fortran_npz(X, compressed=compressed))
    spool = tmp_path / "spool"
    tracemalloc.start()
    try:
        parsed = parse_file(path, "npz", label_column=None, max_decoded_bytes=1 << 30, spool=spool)
        seen = 0
        for block in parsed.blocks():
            assert len(block) < len(X)
            assert np.array_equal(block, X[seen : seen + len(block)])
            seen += len(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == len(X)
    assert peak < X.nbytes // 4, f"{peak} bytes held reading a {X.nbytes}-byte matrix"
    assert list(spool.iterdir()) == []


def test_giving_up_the_blocks_removes_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsing, "BLOCK_BYTES", SMALL_BLOCK_BYTES)
    X = random_matrix(1000, 8, seed=8)
    path = tmp_path / "f.npz"
    path.write_bytes(fortran_npz(X))
    spool = tmp_path / "spool"
    parsed = parse_file(path, "npz", label_column=None, max_decoded_bytes=1 << 30, spool=spool)
    assert not spool.exists() or list(spool.iterdir()) == []  # nothing copied before the rows
    blocks = parsed.blocks()
    first = next(blocks)
    assert 0 < len(first) < len(X)
    np.testing.assert_array_equal(first, X[: len(first)])
    assert [p.suffix for p in spool.iterdir()] == [".tmp"]  # the copy, while rows are read
    del blocks  # a consumer that stops early (its store failed): the generator is closed
    assert list(spool.iterdir()) == []


def _truncated() -> bytes:
    data = npy_bytes(np.asfortranarray(random_matrix(200, 4)))
    return npz_of_members(X=data[: len(data) - 100])


def _bad_crc() -> bytes:
    # Stored, the values in the clear; long enough that the CRC is checked only when the
    # copy reaches the member's end, not while its header is read.
    data = bytearray(fortran_npz(random_matrix(2000, 4)))
    data[data.index(b"NUMPY") + 1000] ^= 0xFF
    return bytes(data)


BAD_FORTRAN_NPZ: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "truncated": (_truncated, "file", "truncated"),
    "bad-crc": (_bad_crc, "file", "unreadable array in the .npz (Bad CRC-32"),
    "complex-dtype": (
        lambda: fortran_npz(random_matrix(20, 4).astype(np.complex64)),
        "file",
        "numeric",
    ),
    "three-dimensional": (
        lambda: npz_of_members(X=npy_bytes(np.asfortranarray(np.zeros((4, 3, 2), np.float32)))),
        "file",
        "2-D",
    ),
    "y-too-short": (
        lambda: fortran_npz(random_matrix(20, 4), y=np.arange(19)),
        "y",
        "20 entries",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FORTRAN_NPZ))
def test_a_bad_fortran_order_npz_is_422_and_leaves_nothing(
    upload: Any, footprint: Any, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    monkeypatch.setattr(parsing, "BLOCK_BYTES", SMALL_BLOCK_BYTES)  # copied in many pieces
    make, field, words = BAD_FORTRAN_NPZ[case]
    before = footprint()
    body = assert_rejected(upload("f.npz", make()), 422, footprint, before)
    assert field_of(body) == field
    assert words in body["detail"]
