"""An import holds a block of a tensor at a time in the API's memory, not copies of the
file. It read the upload into bytes, loaded every tensor from them, built the network,
loaded the tensors into it and serialised the blob (twice, for its metadata's order); now
the upload is read from its spooled file, checked, then converted and written to the store
a block at a time (service.registry.imports). Figures: docs/performance.md."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from service.config import Settings
from service.registry.service import weights_blob
from tests.live import LiveServer
from tests.registry.builders import make_model

pytestmark = pytest.mark.any_database  # the server's memory and parsing, not its database


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field}")


@pytest.mark.slow
def test_an_import_does_not_hold_copies_of_the_file(settings: Settings) -> None:
    model, config = make_model(kind="linear", n_features=32768, code_size=128)  # 34 MB
    blob = weights_blob(model.state_dict(), config, {})
    small, small_config = make_model(kind="linear", n_features=64, code_size=4)
    warm = weights_blob(small.state_dict(), small_config, {})
    del model, small
    server = LiveServer(settings, workers=0, env={"AESVC_MAX_BODY_BYTES": str(256 << 20)})
    server.start()
    assert server.process is not None
    pid = server.process.pid
    with server.client() as http:
        first = http.post("/v1/models/warm/versions", files={"file": ("m.safetensors", warm)})
        assert first.status_code == 201, first.text  # the import's code paths are loaded
        before_kb = status_kb(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM, the peak RSS
        files = {"file": ("m.safetensors", blob, "application/octet-stream")}
        created = http.post("/v1/models/big/versions", files=files)
        peak_kb = status_kb(pid, "VmHWM")
    assert created.status_code == 201, created.text
    assert created.json()["artifact_sha256"] == hashlib.sha256(blob).hexdigest()
    grown, size = (peak_kb - before_kb) * 1024, len(blob)
    # 34 MB of file: the import grew the server 180 MB before, 23 MB after
    assert grown < 1.5 * size, f"a {size >> 20} MB import grew the server {grown >> 20} MB"
