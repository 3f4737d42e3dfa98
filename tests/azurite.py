"""A real Azure Blob Storage API for the tests: Azurite (Microsoft's emulator, from npm) on
127.0.0.1, in memory. obstore talks to it as to Azure, signing every request with the
emulator's well-known account key (AZURE_STORAGE_USE_EMULATOR)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import shutil
import subprocess
import time
import uuid
from email.utils import formatdate
from pathlib import Path

import httpx

from tests.live import free_port

# scripts/install_azurite.sh puts it here; AESVC_TEST_AZURITE or PATH may name another.
LOCAL_BINARY = Path(__file__).resolve().parent.parent / ".venv/azurite/node_modules/.bin"
# Azurite's one account, as documented by Microsoft for the emulator: not a secret.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
API_VERSION = "2021-08-06"


def azurite_binary() -> str | None:
    named = os.environ.get("AESVC_TEST_AZURITE")
    if named:
        return named
    local = LOCAL_BINARY / "azurite-blob"
    return str(local) if local.exists() else shutil.which("azurite-blob")


class AzuriteServer:
    """Azurite's blob service in a process of its own; state lives in its memory."""

    def __init__(self, binary: str, log_path: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> AzuriteServer:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(self.port),
                "--inMemoryPersistence",
                # obstore may send a newer x-ms-version than this Azurite knows
                "--skipApiVersionCheck",
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"azurite exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{self.endpoint}/{ACCOUNT}?comp=list", timeout=1)
                return self  # any answer (403 unsigned) means it listens
            time.sleep(0.2)
        raise TimeoutError("azurite did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def create_container(self, name: str | None = None) -> str:
        """One signed PUT (Shared Key), as any Azure client would send it."""
        name = name or f"aesvc-{uuid.uuid4().hex[:12]}"
        headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": API_VERSION}
        canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()))
        # The emulator's path-style URLs carry the account twice in the signed resource.
        resource = f"/{ACCOUNT}/{ACCOUNT}/{name}\nrestype:container"
        # the verb, then 11 standard headers this request leaves empty
        string_to_sign = "PUT\n" + "\n" * 11 + canonical_headers + resource
        key = base64.b64decode(ACCOUNT_KEY)
        digest = hmac.new(key, string_to_sign.encode(), hashlib.sha256).digest()
        headers["Authorization"] = f"SharedKey {ACCOUNT}:{base64.b64encode(digest).decode()}"
        response = httpx.put(
            f"{self.endpoint}/{ACCOUNT}/{name}?restype=container",
            headers=headers,
            content=b"",
            timeout=10,
        )
        response.raise_for_status()
        return name

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        return {
            "AZURE_STORAGE_USE_EMULATOR": "true",
            "AZURITE_BLOB_STORAGE_URL": endpoint or self.endpoint,
        }
