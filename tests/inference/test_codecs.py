"""The .npy reader: a plain float32/float64 2-D body (what np.save writes) is read in place,
and every other .npy layout numpy reads still parses, to the same values; bad bodies are
the same 422s."""

from __future__ import annotations

import io

import numpy as np
import pytest

from service.errors import Unprocessable
from service.inference.api.codecs import npy_bytes, parse_npy
from service.npy import plain_npy_view

RNG = np.random.default_rng(0)
X = RNG.standard_normal((37, 5)).astype(np.float32)


def npy(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array(out, array, version=version, allow_pickle=False)
    return out.getvalue()


@pytest.mark.parametrize("version", [None, (1, 0), (2, 0), (3, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_plain_body_is_read_in_place(version: tuple[int, int] | None, dtype: type) -> None:
    body = bytearray(npy(X.astype(dtype), version))
    plain = plain_npy_view(body)
    assert plain is not None and plain.dtype == dtype and plain.shape == X.shape
    assert np.shares_memory(plain, np.frombuffer(body, dtype=np.uint8))
    parsed = parse_npy(body, field="inputs")
    assert parsed.dtype == np.float32 and parsed.flags.c_contiguous and parsed.flags.writeable
    np.testing.assert_array_equal(parsed, X.astype(dtype).astype(np.float32))
    if dtype is np.float32:  # no copy at all: the request's rows are the body's bytes
        assert np.shares_memory(parsed, np.frombuffer(body, dtype=np.uint8))


@pytest.mark.parametrize(
    "array",
    [
        np.asfortranarray(X),  # fortran_order True
        X.astype(">f4"),  # big-endian
        X.astype(np.float16),  # another dtype: numpy reads it, the checks refuse it below
        X.reshape(37, 5, 1),  # 3-D
        X[:, 0],  # 1-D
        X[:0],  # no rows
    ],
    ids=["fortran", "big-endian", "float16", "3-D", "1-D", "empty"],
)
def test_other_layouts_go_to_numpys_reader_with_the_same_outcome(array: np.ndarray) -> None:
    body = npy(array)
    if array.ndim == 2 and array.dtype == np.float32 and array.flags.c_contiguous:
        assert plain_npy_view(body) is not None  # the empty case: plain, zero rows
    else:
        assert plain_npy_view(body) is None
    try:
        want = np.ascontiguousarray(np.load(io.BytesIO(body)), dtype=np.float32)
        ok = array.ndim == 2 and array.dtype.kind == "f" and array.dtype.itemsize in (4, 8)
    except ValueError:
        ok = False
    if ok:
        np.testing.assert_array_equal(parse_npy(bytearray(body), field="inputs"), want)
    else:
        with pytest.raises(Unprocessable):
            parse_npy(bytearray(body), field="inputs")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b[:-3],  # data cut short
        lambda b: b[:40],  # header cut short
        lambda b: b"\x93NUMPX" + b[6:],  # not the magic
        lambda b: b.replace(b"(37, 5)", b"(38, 5)"),  # the shape says more rows than sent
        # a dimension past int64: numpy raises OverflowError, not ValueError
        lambda b: b.replace(b"(37, 5)", b"(%d, 5)" % 10**30).replace(b" " * 29 + b"\n", b"\n"),
    ],
    ids=["short-data", "short-header", "bad-magic", "shape-over-data", "shape-past-int64"],
)
def test_a_broken_body_is_a_422_that_says_what_was_expected(mangle: object) -> None:
    body = mangle(npy(X))  # type: ignore[operator]
    assert plain_npy_view(bytearray(body)) is None
    with pytest.raises(Unprocessable) as raised:
        parse_npy(bytearray(body), field="inputs")
    assert "float32 or float64 .npy" in str(raised.value.detail)


def test_trailing_bytes_are_ignored_as_numpy_does() -> None:
    body = bytearray(npy(X) + b"\0" * 8)
    assert plain_npy_view(body) is None  # not plain: numpy reads the declared rows
    np.testing.assert_array_equal(parse_npy(body, field="inputs"), X)


@pytest.mark.parametrize(
    "array",
    [
        RNG.standard_normal((8192, 8)).astype(np.float32),
        np.zeros((0, 8), dtype=np.float32),
        RNG.standard_normal(5),  # 1-D: a score's or an error's main array
        np.asfortranarray(RNG.standard_normal((3, 4))),
        RNG.standard_normal((6, 4))[:, ::2],  # strided
        RNG.standard_normal((3, 4)).astype(">f8"),
        np.array([True, False]),
    ],
    ids=["float32", "no-rows", "1-d", "fortran", "strided", "big-endian", "bool"],
)
def test_the_npy_answer_is_what_np_save_writes(array: np.ndarray) -> None:
    out = io.BytesIO()
    np.save(out, np.ascontiguousarray(array))
    assert npy_bytes(array) == out.getvalue()
    assert np.array_equal(np.load(io.BytesIO(npy_bytes(array))), array)
