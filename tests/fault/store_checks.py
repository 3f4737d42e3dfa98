"""What the fault tests check on disk after a crash: the artifact store holds only whole,
named blobs (and the checkpoints of unfinished jobs), and every record points at one."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import httpx

from service.config import Settings

SHA256_NAME = re.compile(r"[0-9a-f]{64}")


def store_files(settings: Settings) -> dict[str, list[Path]]:
    """The artifact store's files by kind: blobs, checkpoints, and everything else."""
    root = settings.resolved_artifact_root
    kinds: dict[str, list[Path]] = {"blobs": [], "checkpoints": [], "other": []}
    for path in sorted(p for p in root.rglob("*") if not p.is_dir()):
        parts = path.relative_to(root).parts
        if (
            len(parts) == 3
            and parts[0] == "sha256"
            and SHA256_NAME.fullmatch(parts[2])
            and parts[1] == parts[2][:2]
        ):
            kinds["blobs"].append(path)
        elif len(parts) == 2 and parts[0] == "checkpoints" and path.suffix == ".pt":
            kinds["checkpoints"].append(path)
        else:
            kinds["other"].append(path)  # temp files, half-written checkpoints, strays
    return kinds


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_store_whole(
    settings: Settings, http: httpx.Client, *, unfinished_jobs: Collection[str] = ()
) -> set[str]:
    """No temp or half-written file is left, every blob's sha256 is its name, and every
    dataset and version record names a blob of its recorded size. Checkpoints are allowed
    only for `unfinished_jobs`. Returns the blob names."""
    files = store_files(settings)
    assert files["other"] == [], f"left in the artifact store: {files['other']}"
    unexpected = [p for p in files["checkpoints"] if p.stem not in unfinished_jobs]
    assert unexpected == [], f"checkpoints of finished jobs left behind: {unexpected}"
    blobs = {}
    for path in files["blobs"]:
        assert sha256_of(path) == path.name, f"{path} does not hash to its name"
        blobs[path.name] = path.stat().st_size
    for dataset in http.get("/v1/datasets", params={"limit": 1000}).json()["data"]:
        assert blobs.get(dataset["sha256"]) == dataset["size_bytes"], dataset["name"]
    for model in http.get("/v1/models", params={"limit": 1000}).json()["data"]:
        versions = http.get(f"/v1/models/{model['name']}/versions", params={"limit": 1000}).json()[
            "data"
        ]
        for version in versions:
            assert blobs.get(version["artifact_sha256"]) == version["size_bytes"], (
                model["name"],
                version["version"],
            )
    return set(blobs)


def versions_of(http: httpx.Client) -> dict[tuple[str, int], dict[str, Any]]:
    """Every version of every model, keyed (name, number), with what identifies it."""
    found = {}
    for model in http.get("/v1/models", params={"limit": 1000}).json()["data"]:
        for version in http.get(
            f"/v1/models/{model['name']}/versions", params={"limit": 1000}
        ).json()["data"]:
            found[(model["name"], version["version"])] = {
                "artifact_sha256": version["artifact_sha256"],
                "source_job_id": version["source_job_id"],
            }
    return found


def _versions(http: httpx.Client, name: str) -> list[dict[str, Any]]:
    page = http.get(f"/v1/models/{name}/versions", params={"limit": 1000}).json()
    return page["data"]  # type: ignore[no-any-return]
