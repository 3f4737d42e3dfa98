"""Odd .npy and .npz uploads answer a 4xx problem+json naming a field (or 201 where the
data are fine), never a 500."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from fastapi.testclient import TestClient


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_v3(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=(3, 0))
    return buffer.getvalue()


def npz(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def header_only(shape: tuple[int, ...], descr: str = "<f4", fortran: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": fortran, "shape": shape}
    )
    return buffer.getvalue()


X = np.arange(24, dtype=np.float32).reshape(8, 3)
CASES = {
    "complex": ("npy", npy(X.astype(np.complex64)), 422),
    "float16": ("npy", npy(X.astype(np.float16)), 201),
    "big-endian-f8": ("npy", npy(X.astype(">f8")), 201),
    "bool": ("npy", npy(X > 3), 201),
    "f8-past-float32": ("npy", npy(np.full((4, 2), 1e39)), 422),
    "version-3-header": ("npy", npy_v3(X), 201),
    "datetime": ("npy", npy(np.zeros((4, 2), dtype="datetime64[s]")), 422),
    "zero-rows": ("npy", header_only((0, 3)), 422),
    "zero-cols-many-rows": ("npy", header_only((1 << 40, 0)), 422),
    "fortran-truncated": ("npy", header_only((100, 3), fortran=True) + b"\0" * 40, 422),
    "c-truncated-mid-row": ("npy", npy(X)[:-5], 422),
    "huge-shape": ("npy", header_only((1 << 62, 1 << 62)), 422),
    "structured": ("npy", npy(np.zeros(4, dtype=[("a", "<f4"), ("b", "<f4")])), 422),
    "npz-y-2d": ("npz", npz(**{"X.npy": npy(X), "y.npy": npy(np.zeros((8, 2)))}), 422),
    "npz-y-nan": ("npz", npz(**{"X.npy": npy(X), "y.npy": npy(np.full(8, np.nan))}), 422),
    "npz-y-0d": ("npz", npz(**{"X.npy": npy(X), "y.npy": npy(np.array(3))}), 422),
    "npz-y-strings": (
        "npz",
        npz(**{"X.npy": npy(X), "y.npy": npy(np.array(list("abababab")))}),
        201,
    ),
    "npz-x-truncated": ("npz", npz(**{"X.npy": npy(X)[:-20]}), 422),
    "npz-x-fortran-truncated": ("npz", npz(**{"X.npy": npy(np.asfortranarray(X))[:-20]}), 422),
    "npz-x-1d": ("npz", npz(**{"X.npy": npy(np.arange(5.0))}), 422),
    "npz-x-header-garbage": ("npz", npz(**{"X.npy": b"\x93NUMPY\x01\x00garbage"}), 422),
    "npz-y-garbage": ("npz", npz(**{"X.npy": npy(X), "y.npy": b"not an npy"}), 422),
}


@pytest.mark.parametrize("label", list(CASES))
def test_odd_uploads_answer_4xx_naming_a_field(client: TestClient, label: str) -> None:
    fmt, data, want = CASES[label]
    response = client.post(
        "/v1/datasets",
        files={"file": (f"{label}.{fmt}", data)},
        data={"name": f"odd-{label}"},
    )
    print(label, response.status_code, response.text[:300])
    assert response.status_code == want, response.text
    if want >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
