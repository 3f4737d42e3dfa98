from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.artifacts import ArtifactCorrupted, ArtifactMissing, FolderStore, StorageFull
from tests.tmpfs import mounted_tmpfs


@pytest.fixture
def store(tmp_path: Path) -> FolderStore:
    return FolderStore(tmp_path / "artifacts")


def blobs(store: FolderStore) -> list[Path]:
    return sorted(p for p in (store.root / "sha256").rglob("*") if p.is_file())


def test_put_then_get_round_trips(store: FolderStore) -> None:
    data = bytes(range(256)) * 10
    stored = store.put_bytes(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size_bytes == len(data)
    assert store.exists(stored.sha256)
    assert store.get_bytes(stored.sha256) == data
    assert store.path_of(stored.sha256) == (
        store.root / "sha256" / stored.sha256[:2] / stored.sha256
    )


def test_chunks_and_streams_store_the_same_blob(store: FolderStore, tmp_path: Path) -> None:
    data = b"abc" * 1000
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    with source.open("rb") as stream:
        from_stream = store.put_stream(stream)
    from_chunks = store.put_chunks([data[:7], data[7:]])
    assert from_stream == from_chunks == store.put_bytes(data)
    assert len(blobs(store)) == 1


def test_same_bytes_same_address_one_file(store: FolderStore) -> None:
    first = store.put_bytes(b"hello")
    second = store.put_bytes(b"hello")
    other = store.put_bytes(b"hello!")
    assert first == second and other.sha256 != first.sha256
    assert blobs(store) == sorted([store.path_of(first.sha256), store.path_of(other.sha256)])


def test_flipped_byte_is_corrupted(store: FolderStore) -> None:
    stored = store.put_bytes(b"x" * 100)
    path = store.path_of(stored.sha256)
    raw = bytearray(path.read_bytes())
    raw[50] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(ArtifactCorrupted, match=stored.sha256):
        store.get_bytes(stored.sha256)


def test_missing_blob(store: FolderStore) -> None:
    sha = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(sha)
    with pytest.raises(ArtifactMissing, match=sha):
        store.get_bytes(sha)
    stored = store.put_bytes(b"deleted")
    store.delete(stored.sha256)
    store.delete(stored.sha256)  # deleting twice is fine
    with pytest.raises(ArtifactMissing):
        store.get_bytes(stored.sha256)


def test_no_temporary_files_left(store: FolderStore) -> None:
    for i in range(3):
        store.put_bytes(str(i).encode() * 100)
    assert list((store.root / "tmp").iterdir()) == []
    assert len(blobs(store)) == 3


def test_failure_while_streaming_leaves_no_temporary_file(store: FolderStore) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"first part"
        raise OSError("connection lost")

    with pytest.raises(OSError, match="connection lost"):
        store.put_chunks(chunks())
    assert list((store.root / "tmp").iterdir()) == []
    assert blobs(store) == []


@pytest.mark.parametrize(
    "sha",
    ["", "abc", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "../" + "0" * 61],
)
def test_invalid_sha_is_value_error(store: FolderStore, sha: str) -> None:
    with pytest.raises(ValueError, match="sha256"):
        store.get_bytes(sha)
    with pytest.raises(ValueError):
        store.path_of(sha)


def test_a_full_disk_is_507_storage_full_and_leaves_nothing(tmp_path: Path) -> None:
    with mounted_tmpfs(tmp_path / "disk", 256 << 10) as disk:
        store = FolderStore(disk / "artifacts")
        kept = store.put_bytes(b"small")
        with pytest.raises(StorageFull) as raised:
            store.put_bytes(b"x" * (1 << 20))
        assert raised.value.status == 507
        assert "no space left" in raised.value.detail.lower()
        assert str(store.root) in raised.value.detail
        assert list((store.root / "tmp").iterdir()) == []  # the partial temp file is gone
        assert blobs(store) == [store.path_of(kept.sha256)]
        big = store.put_bytes(b"y" * (64 << 10))  # what fits still goes in
        assert store.get_bytes(big.sha256) == b"y" * (64 << 10)


def test_the_artifact_url_is_a_folder_a_file_url_or_a_known_object_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown scheme is refused naming the setting (it must not become a relative
    folder named 'ftp:'); a relative path resolves once, so processes started in other
    folders share one store; s3:// and the other object stores are accepted."""
    from pydantic import ValidationError

    from service.config import Settings

    for url in ("ftp://host/x", "http://host/bucket", "s4://bucket", "https://example.com/b"):
        with pytest.raises(ValidationError, match=r"AESVC_ARTIFACT_URL: .* not a known store"):
            Settings(data_dir=tmp_path, artifact_url=url)
    for url in ("s3://", "gs:///", "az://", "https://acct.blob.core.windows.net/"):
        with pytest.raises(ValidationError, match="names no bucket or container"):
            Settings(data_dir=tmp_path, artifact_url=url)
    accepted = (
        "s3://bucket/prefix",
        "gs://bucket",
        "gs://bucket/prefix",
        "az://container/p",
        "azure://container/p",
        "abfss://container@acct.dfs.core.windows.net/p",
        "adl://container/p",
        "https://acct.blob.core.windows.net/container/p",
    )
    for url in accepted:
        assert Settings(data_dir=tmp_path, artifact_url=url).artifact_in_object_store
    monkeypatch.chdir(tmp_path)
    for url in ("store", "file://store"):
        settings = Settings(data_dir=tmp_path, artifact_url=url)
        assert not settings.artifact_in_object_store
        assert settings.resolved_artifact_root == tmp_path.resolve() / "store"
