"""NVIDIA's own Triton HTTP client (tritonclient) against a real server: health, metadata,
JSON and binary inference, and tensors in system shared memory made and read by
tritonclient's shared memory utilities, each answer checked against the native v1
endpoints; errors reach the client as its InferenceServerException, with our message."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pytest
import tritonclient.http as httpclient
import tritonclient.utils.shared_memory as shm_utils
from tritonclient.utils import InferenceServerException

from tests.inference.conftest import CODE_SIZE, DIGITS
from tests.live import LiveServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.any_database,
]  # tritonclient against a real `aesvc serve`

ROWS = DIGITS[10:16].astype(np.float32)  # (6, 64)
MODEL = "digits-ae"


@pytest.fixture(scope="module")
def triton(shm_live: LiveServer) -> Iterator[httpclient.InferenceServerClient]:
    client = httpclient.InferenceServerClient(f"127.0.0.1:{shm_live.port}")
    yield client
    client.close()


def native(server: LiveServer, op: str, body: dict[str, object]) -> dict[str, np.ndarray]:
    response = server.client().post(f"/v1/models/{MODEL}/versions/1/{op}", json=body)
    assert response.status_code == 200, response.text
    return {k: np.asarray(v) for k, v in response.json().items() if isinstance(v, list)}


def test_health_and_metadata(triton: httpclient.InferenceServerClient) -> None:
    assert triton.is_server_live() and triton.is_server_ready()
    server = triton.get_server_metadata()
    assert {"binary_tensor_data", "system_shared_memory"} <= set(server["extensions"])
    assert triton.is_model_ready(MODEL) and triton.is_model_ready(MODEL, "1")
    meta = triton.get_model_metadata(MODEL, "1")
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 64]}]
    assert [o["name"] for o in meta["outputs"]] == [
        "codings",
        "reconstruction",
        "reconstruction_error",
    ]
    assert not triton.is_model_ready("no-such-model")


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_infer_matches_native(
    triton: httpclient.InferenceServerClient, shm_live: LiveServer, binary: bool
) -> None:
    tensor = httpclient.InferInput("input", list(ROWS.shape), "FP32")
    tensor.set_data_from_numpy(ROWS, binary_data=binary)
    outputs = [
        httpclient.InferRequestedOutput(name, binary_data=binary)
        for name in ("codings", "reconstruction", "reconstruction_error")
    ]
    result = triton.infer(MODEL, [tensor], model_version="1", outputs=outputs, request_id="t1")
    assert result.get_response()["id"] == "t1"
    assert result.get_response()["model_version"] == "1"
    encoded = native(shm_live, "encode", {"inputs": ROWS.tolist()})
    rebuilt = native(shm_live, "reconstruct", {"inputs": ROWS.tolist()})
    np.testing.assert_allclose(result.as_numpy("codings"), encoded["codings"], atol=1e-5)
    np.testing.assert_allclose(
        result.as_numpy("reconstruction"), rebuilt["reconstructions"], atol=1e-5
    )
    np.testing.assert_allclose(
        result.as_numpy("reconstruction_error"), rebuilt["errors"], rtol=1e-5
    )
    assert result.as_numpy("codings").shape == (6, CODE_SIZE)


def test_shared_memory_with_tritonclients_utilities(
    triton: httpclient.InferenceServerClient, shm_live: LiveServer
) -> None:
    tag = uuid.uuid4().hex[:8]
    in_size, out_size = ROWS.nbytes, 6 * CODE_SIZE * 4
    inputs = shm_utils.create_shared_memory_region(f"in-{tag}", f"/aesvc-tc-in-{tag}", in_size)
    outputs = shm_utils.create_shared_memory_region(f"out-{tag}", f"/aesvc-tc-out-{tag}", out_size)
    try:
        shm_utils.set_shared_memory_region(inputs, [ROWS])
        triton.register_system_shared_memory("in", f"/aesvc-tc-in-{tag}", in_size)
        triton.register_system_shared_memory("out", f"/aesvc-tc-out-{tag}", out_size)
        status = triton.get_system_shared_memory_status()
        assert sorted((r["name"], r["byte_size"]) for r in status) == [
            ("in", in_size),
            ("out", out_size),
        ]
        tensor = httpclient.InferInput("input", list(ROWS.shape), "FP32")
        tensor.set_shared_memory("in", in_size)
        wanted = httpclient.InferRequestedOutput("codings")
        wanted.set_shared_memory("out", out_size)
        result = triton.infer(MODEL, [tensor], outputs=[wanted])
        output = result.get_output("codings")
        assert output["shape"] == [6, CODE_SIZE] and "data" not in output  # in the region
        assert output["parameters"] == {
            "shared_memory_region": "out",
            "shared_memory_byte_size": out_size,
        }
        codings = shm_utils.get_contents_as_numpy(outputs, np.float32, output["shape"])
        encoded = native(shm_live, "encode", {"inputs": ROWS.tolist()})["codings"]
        np.testing.assert_allclose(codings, encoded, atol=1e-5)

        # the decoder, from the codings region into the rows region
        tensor = httpclient.InferInput("codings", [6, CODE_SIZE], "FP32")
        tensor.set_shared_memory("out", out_size)
        wanted = httpclient.InferRequestedOutput("output")
        wanted.set_shared_memory("in", in_size)
        triton.infer(f"{MODEL}.decoder", [tensor], outputs=[wanted])
        decoded = shm_utils.get_contents_as_numpy(inputs, np.float32, [6, 64])
        expected = native(shm_live, "decode", {"codings": np.asarray(codings).tolist()})
        np.testing.assert_allclose(decoded, expected["outputs"], atol=1e-5)

        tensor = httpclient.InferInput("input", [7, 64], "FP32")  # more rows than it holds
        tensor.set_shared_memory("in", 7 * 64 * 4)
        with pytest.raises(InferenceServerException, match="runs past the end of region 'in'"):
            triton.infer(MODEL, [tensor])
        triton.unregister_system_shared_memory("in")
        assert [r["name"] for r in triton.get_system_shared_memory_status()] == ["out"]
        triton.unregister_system_shared_memory()
        assert triton.get_system_shared_memory_status() == []
    finally:
        triton.unregister_system_shared_memory()
        shm_utils.destroy_shared_memory_region(inputs)
        shm_utils.destroy_shared_memory_region(outputs)


def test_errors_reach_the_client_with_our_message(triton: httpclient.InferenceServerClient) -> None:
    tensor = httpclient.InferInput("input", [2, 63], "FP32")
    tensor.set_data_from_numpy(np.zeros((2, 63), np.float32))
    with pytest.raises(InferenceServerException, match=r"expected 'input' FP32 with shape"):
        triton.infer(MODEL, [tensor])
    with pytest.raises(InferenceServerException, match="no-such-model"):
        triton.get_model_metadata("no-such-model")
    with pytest.raises(InferenceServerException, match="no shared memory object"):
        triton.register_system_shared_memory("x", "/aesvc-none-here", 64)


def test_model_repository(triton: httpclient.InferenceServerClient) -> None:
    triton.unload_model(MODEL)
    index = {(m["name"], m["version"]): m["state"] for m in triton.get_model_repository_index()}
    assert index[(MODEL, "1")] == "UNAVAILABLE"
    triton.load_model(MODEL)
    index = {(m["name"], m["version"]): m["state"] for m in triton.get_model_repository_index()}
    assert index[(MODEL, "1")] == "READY"
    with pytest.raises(InferenceServerException, match="failed to load 'no-such-model'"):
        triton.load_model("no-such-model")


def test_inference_statistics(triton: httpclient.InferenceServerClient) -> None:
    before = triton.get_inference_statistics(MODEL, "1")["model_stats"][0]
    tensor = httpclient.InferInput("input", list(ROWS.shape), "FP32")
    tensor.set_data_from_numpy(ROWS)
    triton.infer(MODEL, [tensor], outputs=[httpclient.InferRequestedOutput("codings")])
    after = triton.get_inference_statistics(MODEL, "1")["model_stats"][0]
    assert (after["name"], after["version"]) == (MODEL, "1")
    assert int(after["inference_count"]) - int(before["inference_count"]) == len(ROWS)
    success = after["inference_stats"]["success"]
    assert int(success["count"]) == int(before["inference_stats"]["success"]["count"]) + 1
    everything = triton.get_inference_statistics()["model_stats"]
    assert {(s["name"], s["version"]) for s in everything} >= {(MODEL, "1"), ("digits-vae", "1")}
