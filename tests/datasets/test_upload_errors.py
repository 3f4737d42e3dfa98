"""Every rejected upload says why, as problem+json, and leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.factories import csv_bytes, npy_bytes, random_matrix

PROBLEM_JSON = "application/problem+json"


def assert_rejected(
    response: httpx.Response, status: int, footprint: Any, before: tuple[int, Any]
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert footprint() == before
    return body


def field_of(body: dict[str, Any]) -> str:
    field: str = body["errors"][0]["field"]
    return field


def test_non_numeric_column_is_422_naming_it(upload: Any, footprint: Any) -> None:
    before = footprint()
    data = b"a,colour,b\n1,red,2\n3,blue,4\n5,green,6\n"
    body = assert_rejected(upload("c.csv", data), 422, footprint, before)
    assert "colour" in body["detail"] and "colour" in field_of(body)


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_non_finite_values_are_422_with_count_and_first_row(
    upload: Any, footprint: Any, bad: str
) -> None:
    before = footprint()
    lines = ["a,b,c", "1,2,3", "4,5,6", f"7,{bad},9", f"{bad},{bad},1", "1,1,1"]
    data = ("\n".join(lines) + "\n").encode()
    body = assert_rejected(upload("n.csv", data), 422, footprint, before)
    assert body["bad_values"] == 3 and body["first_bad_row"] == 2
    assert field_of(body) == "file"


def test_nan_in_npy_is_422(upload: Any, footprint: Any) -> None:
    before = footprint()
    X = random_matrix(5, 3)
    X[4, 1] = np.nan
    body = assert_rejected(upload("n.npy", npy_bytes(X)), 422, footprint, before)
    assert body["bad_values"] == 1 and body["first_bad_row"] == 4


def test_a_clean_up_that_fails_still_answers_the_uploads_own_error(
    upload: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Chunks stored before the error are removed after it; if that removal fails (a store
    gone meanwhile), the client still gets the 422 that names its mistake."""
    from service.datasets import service

    removed: list[str] = []

    def store_gone(session: Any, store: Any, upload: str, blobs: Any = None) -> None:
        removed.append(upload)
        raise OSError("the store went away")

    monkeypatch.setattr(service, "_drop_upload", store_gone)
    X = random_matrix(12, 3)
    X[10, 1] = np.nan
    response = upload("n.npy", npy_bytes(X))
    assert response.status_code == 422, response.text
    assert response.json()["first_bad_row"] == 10
    assert len(removed) == 1  # the removal was tried, and failed
    assert "could not remove the chunks of a failed upload" in caplog.text


@pytest.mark.parametrize(
    ("filename", "data", "form"),
    [
        ("empty.csv", b"", {}),
        ("header-only.csv", b"a,b\n", {}),
        ("one-row.csv", b"a,b\n1,2\n", {}),
        ("one-row.npy", npy_bytes(random_matrix(1, 3)), {}),
        ("zero-cols.npy", npy_bytes(np.zeros((4, 0), np.float32)), {}),
        ("labels-only.csv", b"label\ncat\ndog\n", {"label_column": "label"}),
    ],
)
def test_empty_or_too_small_is_422(
    upload: Any, footprint: Any, filename: str, data: bytes, form: dict[str, str]
) -> None:
    before = footprint()
    body = assert_rejected(upload(filename, data, **form), 422, footprint, before)
    assert field_of(body) == "file"


def test_unknown_extension_is_415(upload: Any, footprint: Any) -> None:
    before = footprint()
    body = assert_rejected(upload("data.txt", b"a,b\n1,2\n3,4\n"), 415, footprint, before)
    assert ".txt" in body["detail"]


def test_mismatching_content_type_is_415(upload: Any, footprint: Any) -> None:
    before = footprint()
    data = csv_bytes(random_matrix(4, 2))
    body = assert_rejected(
        upload("data.csv", data, content_type="image/png"), 415, footprint, before
    )
    assert "image/png" in body["detail"]


def test_image_shape_mismatch_is_422_naming_it(upload: Any, footprint: Any) -> None:
    before = footprint()
    data = npy_bytes(random_matrix(4, 6))
    body = assert_rejected(upload("x.npy", data, image_shape="8,8,1"), 422, footprint, before)
    assert field_of(body) == "image_shape" and "image_shape" in body["detail"]


def test_image_shape_not_integers_is_422(upload: Any, footprint: Any) -> None:
    before = footprint()
    data = npy_bytes(random_matrix(4, 6))
    body = assert_rejected(upload("x.npy", data, image_shape="two,three"), 422, footprint, before)
    assert field_of(body) == "image_shape"


def test_malformed_npy_is_422(upload: Any, footprint: Any) -> None:
    before = footprint()
    data = npy_bytes(random_matrix(4, 3))[:40] + b"garbage"
    body = assert_rejected(upload("x.npy", data), 422, footprint, before)
    assert field_of(body) == "file" and ".npy" in body["detail"]


def test_three_dimensional_npy_is_422(upload: Any, footprint: Any) -> None:
    before = footprint()
    data = npy_bytes(np.zeros((4, 2, 2), np.float32))
    body = assert_rejected(upload("x.npy", data), 422, footprint, before)
    assert "(4, 2, 2)" in body["detail"]


@pytest.mark.parametrize("name", ["a b/c", "", "-lead", "x" * 129])
def test_bad_name_is_422(upload: Any, footprint: Any, name: str) -> None:
    before = footprint()
    body = assert_rejected(
        upload("x.npy", npy_bytes(random_matrix(4, 2)), name=name), 422, footprint, before
    )
    assert field_of(body) == "name"


def test_unknown_label_column_is_422(upload: Any, footprint: Any) -> None:
    before = footprint()
    data = csv_bytes(random_matrix(4, 2))
    body = assert_rejected(upload("x.csv", data, label_column="nope"), 422, footprint, before)
    assert field_of(body) == "label_column" and "nope" in body["detail"]


MAX_UPLOAD_BYTES = 4096


@pytest.fixture
def small_client(settings: Settings) -> Iterator[TestClient]:
    limited = settings.model_copy(update={"max_upload_bytes": MAX_UPLOAD_BYTES})
    with TestClient(create_app(limited, start_workers=False)) as test_client:
        yield test_client


def multipart(data: bytes, *, boundary: str = "b0undary") -> tuple[bytes, str]:
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="name"\r\n\r\nbig\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.npy"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + data + tail, f"multipart/form-data; boundary={boundary}"


def small_footprint(client: TestClient, settings: Settings) -> tuple[int, set[Any]]:
    roots = [settings.resolved_artifact_root, settings.data_dir / "tmp"]
    files = {p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()}
    return client.get("/v1/datasets").json()["count"], files


def test_declared_length_over_the_limit_is_413(
    small_client: TestClient, settings: Settings
) -> None:
    before = small_footprint(small_client, settings)
    ok = npy_bytes(random_matrix(10, 4))
    assert len(ok) < MAX_UPLOAD_BYTES - 500
    response = small_client.post(
        "/v1/datasets", files={"file": ("ok.npy", ok)}, data={"name": "ok"}
    )
    assert response.status_code == 201, response.text
    before = small_footprint(small_client, settings)

    big = npy_bytes(random_matrix(100, 20))
    response = small_client.post(
        "/v1/datasets", files={"file": ("big.npy", big)}, data={"name": "big"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["limit_bytes"] == MAX_UPLOAD_BYTES
    assert small_footprint(small_client, settings) == before


def test_streamed_body_over_the_limit_is_413(small_client: TestClient, settings: Settings) -> None:
    before = small_footprint(small_client, settings)
    body, content_type = multipart(npy_bytes(random_matrix(100, 20)))

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1024):
            yield body[start : start + 1024]

    response = small_client.post(
        "/v1/datasets", content=chunks(), headers={"content-type": content_type}
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["limit_bytes"] == MAX_UPLOAD_BYTES
    assert small_footprint(small_client, settings) == before
    assert small_client.get("/v1/datasets/big").status_code == 404


def test_streamed_body_under_the_limit_is_accepted(
    small_client: TestClient, settings: Settings
) -> None:
    X = random_matrix(10, 4)
    body, content_type = multipart(npy_bytes(X))
    response = small_client.post(
        "/v1/datasets",
        content=iter([body[:100], body[100:]]),
        headers={"content-type": content_type},
    )
    assert response.status_code == 201, response.text
    assert response.json()["n_rows"] == 10


def test_labels_that_do_not_fit_leave_no_matrix_blob_behind(
    client: TestClient, tmp_path: Path
) -> None:
    from service.artifacts import FolderStore, StorageFull
    from service.datasets import service
    from service.datasets.parsing import ParsedData
    from tests.tmpfs import fill, mounted_tmpfs

    X = random_matrix(1000, 4)  # a 16 KB blob: fits
    y = np.arange(1000, dtype=np.int64)  # an 8 KB blob: does not
    with mounted_tmpfs(tmp_path / "disk", 1 << 20) as disk:
        store = FolderStore(disk / "artifacts")
        fill(disk, leave_bytes=len(npy_bytes(X)) // 4096 * 4096 + 4096)
        parsed = ParsedData(X=X, y=y, feature_names=None, label_names=None)
        with client.app.state.ctx.session_factory() as session, pytest.raises(StorageFull):
            service.create_dataset(
                session=session,
                store=store,
                name="labelled",
                parsed=parsed,
                source_format="npz",
                image_shape=None,
            )
        assert [p for p in (store.root / "sha256").rglob("*") if p.is_file()] == []
        assert list((store.root / "tmp").iterdir()) == []
    assert client.get("/v1/datasets/labelled").status_code == 404


def test_an_npz_member_without_the_npy_suffix_is_422(upload: Any, footprint: Any) -> None:
    """numpy hands such a member over as raw bytes: it was a 500."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("X", npy_bytes(random_matrix(5, 3)))
    before = footprint()
    body = assert_rejected(upload("d.npz", buffer.getvalue()), 422, footprint, before)
    assert field_of(body) == "file" and "'X.npy'" in body["detail"]


def test_a_full_tmpdir_during_an_upload_is_507(
    upload: Any, footprint: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The multipart parser spools a part over 1 MB to TMPDIR: a full one was a 400."""
    import tempfile

    from tests.tmpfs import mounted_tmpfs

    with mounted_tmpfs(tmp_path / "tmpdir", 1 << 20) as tmpdir:
        monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))  # what TMPDIR sets at start
        before = footprint()
        data = npy_bytes(random_matrix(20000, 16))  # 2.5 MB: past the 1 MB tmpfs
        body = assert_rejected(upload("big.npy", data), 507, footprint, before)
        assert str(tmpdir) in body["detail"] and "TMPDIR" in body["detail"]
        assert list(tmpdir.iterdir()) == []


def test_csv_without_header_is_refused_and_says_how_to_declare_it(
    upload: Any, footprint: Any
) -> None:
    """A first row of numbers is data: taken as names it lost a row and named the columns
    "1", "2", "3" without a word."""
    before = footprint()
    data = b"1,2,3\n4,5,6\n7,8,9\n"
    body = assert_rejected(upload("h.csv", data), 422, footprint, before)
    assert field_of(body) == "header" and "header=false" in body["detail"]


def test_csv_declared_without_header_keeps_every_row(upload: Any) -> None:
    response = upload("h.csv", b"1,2,3\n4,5,6\n7,8,9\n", header="false")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["n_rows"] == 3 and body["feature_names"] == ["x0", "x1", "x2"]
    named = upload("n.csv", b"1,2,3\n4,5,6\n7,8,9\n", name="named", header="true")
    assert named.status_code == 201 and named.json()["feature_names"] == ["1", "2", "3"]


def test_semicolon_separated_csv_is_422_naming_the_separator(upload: Any, footprint: Any) -> None:
    before = footprint()
    body = assert_rejected(upload("s.csv", b"a;b;c\n1;2;3\n4;5;6\n"), 422, footprint, before)
    assert "semicolon" in body["detail"] and "';'" in body["detail"]


@pytest.mark.parametrize("route", ["/v1/datasets", "/v1/models/m/versions"])
def test_a_second_file_part_is_400_and_leaves_nothing(
    client: TestClient, footprint: Any, route: str
) -> None:
    """One file a request: each file part past 1 MiB is spooled to a descriptor of its
    own, held while the body is open (starlette allows 1,000 of them)."""
    before = footprint()
    data = npy_bytes(random_matrix(8, 3))
    files = [("file", ("a.npy", data)), ("file", ("b.npy", data))]
    response = client.post(route, files=files, data={"name": "ds"})
    body = assert_rejected(response, 400, footprint, before)
    assert "files" in body["detail"], body
