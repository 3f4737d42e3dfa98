"""Peak RSS growth of the API process while a model is imported (POST /v1/models/{name}/versions).

A `linear` model of about --mb MB of float32 weights (and the same weights as float64, twice
the bytes), built here, written to files and uploaded to a live `aesvc serve` (no workers) on
a folder store. For each upload: VmRSS before, VmHWM reset (clear_refs), VmHWM after; the
stored blob's sha256 is checked against weights_blob's (the canonical file). Prints JSON
and saves it in benchmarks/results/import_memory.json, by size; docs/performance.md has the
figures.

    .venv/bin/python benchmarks/import_memory.py [--mb 200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.config import Settings
from service.registry.service import weights_blob
from tests.live import LiveServer
from tests.registry.builders import make_model

CODE_SIZE = 96
RESULTS = Path(__file__).resolve().parent / "results" / "import_memory.json"


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def build_files(tmp: Path, mb: int) -> tuple[list[tuple[str, Path]], str, Path]:
    """(label, path) of each upload, the canonical sha256, a small warm-up file."""
    n_features = mb * (1 << 20) // (4 * 2 * CODE_SIZE)  # encoder and decoder weights
    model, config = make_model(kind="linear", n_features=n_features, code_size=CODE_SIZE)
    blob = weights_blob(model.state_dict(), config, {})
    sha256 = hashlib.sha256(blob).hexdigest()
    f32 = tmp / "model-f32.safetensors"
    f32.write_bytes(blob)
    del blob
    f64 = tmp / "model-f64.safetensors"
    tensors = {k: v.double().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(f64), metadata={"config": json.dumps(config)})
    del tensors, model
    small, small_config = make_model(kind="linear", n_features=64, code_size=4)
    warm = tmp / "warm.safetensors"
    warm.write_bytes(weights_blob(small.state_dict(), small_config, {}))
    return [("float32", f32), ("float64", f64)], sha256, warm


def post(http: httpx.Client, name: str, path: Path) -> httpx.Response:
    with path.open("rb") as file:
        files = {"file": (path.name, file, "application/octet-stream")}
        return http.post(f"/v1/models/{name}/versions", files=files)


def measure(mb: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="import-mem-") as tmp_dir:
        tmp = Path(tmp_dir)
        uploads, sha256, warm = build_files(tmp, mb)
        settings = Settings(data_dir=tmp / "var")
        env = {
            "AESVC_BUILTIN_DATASETS": "false",
            "AESVC_MAX_BODY_BYTES": str(4 * mb << 20),
            "AESVC_MAX_MODEL_PARAMETERS": str(mb << 20),
        }
        server = LiveServer(settings, workers=0, env=env).start()
        results: dict[str, Any] = {"mb": mb, "imports": []}
        try:
            assert server.process is not None
            pid = server.process.pid
            with httpx.Client(base_url=server.base_url, timeout=3600) as http:
                assert post(http, "warm", warm).status_code == 201  # code paths loaded
                for label, path in uploads:
                    before_kb = rss_kb(pid, "VmRSS")
                    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM
                    start = time.perf_counter()
                    response = post(http, f"big-{label}", path)
                    elapsed = time.perf_counter() - start
                    peak_kb = rss_kb(pid, "VmHWM")
                    assert response.status_code == 201, response.text
                    stored = response.json()["artifact_sha256"]
                    growth = (peak_kb - before_kb) * 1024
                    results["imports"].append(
                        {
                            "dtype": label,
                            "file_bytes": path.stat().st_size,
                            "import_s": round(elapsed, 2),
                            "api_rss_before_mb": round(before_kb / 1024),
                            "api_peak_rss_growth_mb": round(growth / (1 << 20)),
                            "growth_over_file_size": round(growth / path.stat().st_size, 2),
                            "stored_sha256_is_canonical": stored == sha256,
                        }
                    )
        finally:
            server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="float32 weights, MB")
    args = parser.parse_args()
    result = {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        **measure(args.mb),
    }
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    saved[f"{args.mb}_mb"] = result  # one entry per size: a run keeps the others
    RESULTS.write_text(json.dumps(saved, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
