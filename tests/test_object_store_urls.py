"""Every Azure URL form obstore takes names the same container; gs:// and az:// artifact
URLs that cannot be used stop `aesvc serve` and `aesvc worker` at start-up, naming
AESVC_ARTIFACT_URL and the variables to check (s3:// is covered in
tests/test_artifact_store_contract.py). Azure against Azurite; Google Cloud Storage
without a server (no emulator here speaks the XML API obstore uses, docs/deployment.md),
so only what needs none: a closed port, an unreadable service-account file.

Two processes per refusal cost about 7 s of CPU: one case starts both commands as processes
(`assert_start_refused`: the exit status and stderr of each); the others run both commands in
this process (`refused_in_process`)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from service import cli
from service.executors import local
from service.object_store import ObjectStore
from tests.azurite import ACCOUNT
from tests.live import assert_start_refused, free_port

# the commands configure the root logger
pytestmark = [pytest.mark.usefixtures("root_logging"), pytest.mark.any_database]


def _env(tmp_path: Path, database_url: str, artifact_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "AESVC_DATA_DIR": str(tmp_path / "var"),
        "AESVC_DATABASE_URL": database_url,
        "AESVC_PORT": str(free_port()),
        "AESVC_ARTIFACT_URL": artifact_url,
    }


def _never(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("the command went past its start-up checks")


def refused_in_process(env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`aesvc serve` and `aesvc worker` run in this process under `env`: exit 2, `expected` in
    stderr, before serving or claiming anything (as `assert_start_refused` checks of each
    command's own process)."""
    for key in [k for k in os.environ if k not in env]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(uvicorn, "run", _never)
    monkeypatch.setattr(local, "worker_loop", _never)
    for command in ("serve", "worker"):
        result = CliRunner().invoke(cli.app, [command])
        assert result.exit_code == 2, (command, result.output)
        assert expected in result.stderr, (command, result.stderr)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "ftp://host/x",
            "aesvc: AESVC_ARTIFACT_URL: ftp:// is not a known store here; give",
            marks=pytest.mark.slow,  # both commands started as processes
        ),
        ("gs://", "aesvc: AESVC_ARTIFACT_URL: gs:// names no bucket or container"),
    ],
)
def test_an_unknown_scheme_or_no_bucket_refuses_the_start(
    url: str, expected: str, tmp_path: Path, database_url: str, monkeypatch: Any
) -> None:
    """One line naming the setting, not a traceback (the other forms: tests/test_artifacts.py)."""
    env = _env(tmp_path, database_url, url)
    if url.startswith("ftp"):
        assert_start_refused(env, expected)
    else:
        refused_in_process(env, expected, monkeypatch)


@pytest.mark.cluster
def test_every_azure_url_form_names_the_same_container(az_url: str, tmp_path: Path) -> None:
    container = az_url.removeprefix("az://").split("/")[0]
    stored = ObjectStore(az_url, spool_dir=tmp_path).put_bytes(b"one blob")
    forms = [
        f"azure://{container}/aesvc",
        f"abfs://{container}/aesvc",
        f"abfss://{container}@{ACCOUNT}.dfs.core.windows.net/aesvc",
        f"adl://{container}/aesvc",
        f"https://{ACCOUNT}.blob.core.windows.net/{container}/aesvc",
    ]
    for url in forms:  # the emulator variables send each to Azurite
        assert ObjectStore(url, spool_dir=tmp_path).get_bytes(stored.sha256) == b"one blob", url


@pytest.mark.cluster
@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (
            "missing container",
            "AESVC_ARTIFACT_URL=az://aesvc-no-such-container/p: the container does not exist",
        ),
        ("no server", "no server answered (check AZURE_STORAGE_ENDPOINT, or AZURITE_BLOB"),
        ("refused credentials", "the credentials were refused (AZURE_STORAGE_ACCOUNT_NAME"),
    ],
)
def test_an_unusable_azure_container_refuses_the_start(
    problem: str, expected: str, az_url: str, tmp_path: Path, database_url: str
) -> None:
    url = "az://aesvc-no-such-container/p" if problem == "missing container" else az_url
    env = _env(tmp_path, database_url, url)
    if problem == "no server":
        env["AZURITE_BLOB_STORAGE_URL"] = f"http://127.0.0.1:{free_port()}"
    if problem == "refused credentials":  # a well-formed key that is not the account's
        env["AZURE_STORAGE_ACCOUNT_KEY"] = base64.b64encode(b"not the emulator's key").decode()
    assert_start_refused(env, expected)


def test_an_azure_url_without_an_account_refuses_the_start(
    tmp_path: Path, database_url: str, monkeypatch: Any
) -> None:
    """Outside the emulator obstore needs the account (a variable or the URL's host)."""
    env = _env(tmp_path, database_url, "az://container/p")
    for key in [k for k in env if k.startswith(("AZURE_", "AZURITE_"))]:
        del env[key]
    expected = "AESVC_ARTIFACT_URL=az://container/p: Generic MicrosoftAzure error: Account must"
    refused_in_process(env, expected, monkeypatch)


def _service_account(tmp_path: Path, base_url: str) -> Path:
    """The form object_store reads for a GCS emulator: its base URL, no OAuth."""
    path = tmp_path / "service-account.json"
    fields = {"gcs_base_url": base_url, "disable_oauth": True}
    blank = {"client_email": "", "private_key": "", "private_key_id": ""}
    path.write_text(json.dumps({**fields, **blank}))
    return path


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (
            "no server",
            "AESVC_ARTIFACT_URL=gs://aesvc-bucket/p: no server answered "
            "(check gcs_base_url in the GOOGLE_SERVICE_ACCOUNT file",
        ),
        ("missing credentials file", "Unable to open service account file"),
        ("unreadable credentials file", "Unable to decode service account file"),
    ],
)
def test_an_unusable_gcs_bucket_refuses_the_start(
    problem: str, expected: str, tmp_path: Path, database_url: str, monkeypatch: Any
) -> None:
    """Every case names its own credentials file, so nothing looks for the platform's."""
    env = _env(tmp_path, database_url, "gs://aesvc-bucket/p")
    account = _service_account(tmp_path, f"http://127.0.0.1:{free_port()}")
    env["GOOGLE_SERVICE_ACCOUNT"] = str(account)
    env["GOOGLE_ALLOW_HTTP"] = "true"
    if problem == "missing credentials file":
        env["GOOGLE_SERVICE_ACCOUNT"] = str(tmp_path / "absent.json")
    if problem == "unreadable credentials file":
        account.write_text("{not json")
    refused_in_process(env, expected, monkeypatch)
