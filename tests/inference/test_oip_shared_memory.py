"""The Open Inference Protocol's system shared memory extension: real POSIX shared memory
objects (/dev/shm), registered through HTTP; inputs read from them and outputs written into
them match the native endpoints; every misuse is a 400 naming what was expected; off by
default. The live test runs the client in this process and a real server in another."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from multiprocessing import shared_memory
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.inference.oip.shared_memory import (
    MAX_REGIONS,
    SharedMemoryError,
    SharedMemoryRegistry,
    TensorRef,
)
from service.main import create_app
from service.security import create_key
from tests.inference.conftest import CODE_SIZE, DIGITS, settings_for
from tests.live import LiveServer

pytestmark = pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs /dev/shm (Linux)")

SHM = "/v2/systemsharedmemory"
INFER = "/v2/models/digits-ae/versions/1/infer"
ROWS = DIGITS[:5]


class Shm:
    """A POSIX shared memory object this test owns (created, then unlinked at the end)."""

    def __init__(self, size: int) -> None:
        self.memory = shared_memory.SharedMemory(
            name=f"aesvc-test-{uuid.uuid4().hex[:12]}", create=True, size=size
        )
        self.key = "/" + self.memory.name

    def put(self, array: np.ndarray, offset: int = 0) -> None:
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        self.memory.buf[offset : offset + len(data)] = data

    def get(self, shape: tuple[int, ...], offset: int = 0) -> np.ndarray:
        size = int(np.prod(shape)) * 4
        return np.frombuffer(bytes(self.memory.buf[offset : offset + size]), "<f4").reshape(shape)

    def close(self) -> None:
        self.memory.close()
        self.memory.unlink()


@pytest.fixture
def objects() -> Iterator[list[Shm]]:
    made: list[Shm] = []
    yield made
    for shm in made:
        shm.close()


@pytest.fixture
def new_shm(objects: list[Shm]) -> Any:
    def make(size: int) -> Shm:
        objects.append(Shm(size))
        return objects[-1]

    return make


@pytest.fixture(scope="module")
def shm_app(data_dir: Path) -> Iterator[TestClient]:
    settings = settings_for(data_dir, oip_shared_memory=True)
    with TestClient(create_app(settings, start_workers=False)) as client:
        yield client


@pytest.fixture
def client(shm_app: TestClient) -> Iterator[TestClient]:
    yield shm_app
    assert shm_app.post(f"{SHM}/unregister").status_code == 200


def register(client: TestClient, name: str, key: str, byte_size: int, offset: int = 0) -> None:
    body = {"key": key, "offset": offset, "byte_size": byte_size}
    response = client.post(f"{SHM}/region/{name}/register", json=body)
    assert response.status_code == 200, response.text


def shm_params(region: str, byte_size: int, offset: int = 0) -> dict[str, Any]:
    params = {"shared_memory_region": region, "shared_memory_byte_size": byte_size}
    return params | ({"shared_memory_offset": offset} if offset else {})


def shm_input(region: str, rows: int, width: int = 64, offset: int = 0) -> dict[str, Any]:
    return {
        "name": "input",
        "datatype": "FP32",
        "shape": [rows, width],
        "parameters": shm_params(region, rows * width * 4, offset),
    }


def error_of(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    message: str = response.json()["error"]
    return message


def native(client: TestClient, op: str, x: np.ndarray) -> dict[str, Any]:
    response = client.post(f"/v1/models/digits-ae/versions/1/{op}", json={"inputs": x.tolist()})
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def test_off_by_default(served: TestClient, new_shm: Any) -> None:
    shm = new_shm(4096)
    assert "system_shared_memory" not in served.get("/v2").json()["extensions"]
    body = {"key": shm.key, "offset": 0, "byte_size": 4096}
    response = served.post(f"{SHM}/region/in/register", json=body)
    assert "AESVC_OIP_SHARED_MEMORY=true" in error_of(response)
    assert served.get(f"{SHM}/status").json() == []
    response = served.post(INFER, json={"inputs": [shm_input("in", 5)]})
    assert "AESVC_OIP_SHARED_MEMORY=true" in error_of(response)
    response = served.post(f"{SHM}/unregister")
    assert "AESVC_OIP_SHARED_MEMORY=true" in error_of(response)


def test_register_status_unregister(client: TestClient, new_shm: Any) -> None:
    shm = new_shm(8192)
    assert "system_shared_memory" in client.get("/v2").json()["extensions"]
    register(client, "a", shm.key, 4096)
    register(client, "b", shm.key, 1024, offset=4096)
    status = client.get(f"{SHM}/status").json()
    assert sorted(status, key=lambda r: r["name"]) == [
        {"name": "a", "key": shm.key, "offset": 0, "byte_size": 4096},
        {"name": "b", "key": shm.key, "offset": 4096, "byte_size": 1024},
    ]
    assert client.get(f"{SHM}/region/b/status").json() == [
        {"name": "b", "key": shm.key, "offset": 4096, "byte_size": 1024}
    ]
    assert "already registered" in error_of(
        client.post(f"{SHM}/region/a/register", json={"key": shm.key, "byte_size": 8})
    )
    assert client.post(f"{SHM}/region/a/unregister").status_code == 200
    assert client.post(f"{SHM}/region/a/unregister").status_code == 200  # none: no error
    assert "no system shared memory region named 'a'" in error_of(
        client.get(f"{SHM}/region/a/status")
    )
    assert [r["name"] for r in client.get(f"{SHM}/status").json()] == ["b"]
    assert client.post(f"{SHM}/unregister").status_code == 200
    assert client.get(f"{SHM}/status").json() == []


def test_infer_reads_inputs_and_writes_outputs_in_shared_memory(
    client: TestClient, new_shm: Any
) -> None:
    x = ROWS.astype(np.float32)
    inputs, outputs = new_shm(256 + x.nbytes), new_shm(8192)
    inputs.put(x, offset=256)
    register(client, "in", inputs.key, x.nbytes, offset=256)
    register(client, "out", outputs.key, 8192)
    codings_at, errors_at = 64, 64 + 5 * CODE_SIZE * 4
    body = {
        "inputs": [shm_input("in", 5)],
        "outputs": [
            {"name": "codings", "parameters": shm_params("out", 5 * CODE_SIZE * 4, codings_at)},
            {"name": "reconstruction_error", "parameters": shm_params("out", 1000, errors_at)},
            {"name": "reconstruction"},
        ],
    }
    response = client.post(INFER, json=body)
    assert response.status_code == 200, response.text
    codings_meta, errors_meta, recon_meta = response.json()["outputs"]
    assert codings_meta == {
        "name": "codings",
        "datatype": "FP32",
        "shape": [5, CODE_SIZE],
        "parameters": shm_params("out", 5 * CODE_SIZE * 4, codings_at),
    }
    assert errors_meta["parameters"] == shm_params("out", 5 * 4, errors_at)  # bytes written
    assert "data" not in codings_meta and "data" not in errors_meta
    expected = native(client, "reconstruct", x)
    np.testing.assert_allclose(
        outputs.get((5, CODE_SIZE), codings_at), native(client, "encode", x)["codings"], atol=1e-6
    )
    np.testing.assert_allclose(outputs.get((5,), errors_at), expected["errors"], rtol=1e-5)
    recon = np.asarray(recon_meta["data"]).reshape(5, 64)
    np.testing.assert_allclose(recon, expected["reconstructions"], atol=1e-5)
    assert outputs.get((16,)).tolist() == [0.0] * 16  # nothing before the offsets written

    # The input is read anew each time: new rows in the same region give new answers.
    inputs.put(DIGITS[100:105], offset=256)
    body = {"inputs": [shm_input("in", 5)], "outputs": [{"name": "codings"}]}
    out = client.post(INFER, json=body).json()["outputs"][0]
    again = native(client, "encode", DIGITS[100:105])["codings"]
    np.testing.assert_allclose(np.asarray(out["data"]).reshape(5, CODE_SIZE), again, atol=1e-6)


def test_the_decoder_through_shared_memory(client: TestClient, new_shm: Any) -> None:
    codings = np.asarray(native(client, "encode", ROWS)["codings"], dtype=np.float32)
    shm = new_shm(codings.nbytes + 5 * 64 * 4)
    shm.put(codings)
    register(client, "io", shm.key, codings.nbytes + 5 * 64 * 4)
    body = {
        "inputs": [
            {
                "name": "codings",
                "datatype": "FP32",
                "shape": [5, CODE_SIZE],
                "parameters": shm_params("io", codings.nbytes),
            }
        ],
        "outputs": [{"name": "output", "parameters": shm_params("io", 5 * 64 * 4, codings.nbytes)}],
    }
    response = client.post("/v2/models/digits-ae.decoder/versions/1/infer", json=body)
    assert response.status_code == 200, response.text
    decoded = client.post(
        "/v1/models/digits-ae/versions/1/decode", json={"codings": codings.tolist()}
    ).json()["outputs"]
    np.testing.assert_allclose(shm.get((5, 64), codings.nbytes), decoded, atol=1e-5)


def test_registration_errors(client: TestClient, new_shm: Any, tmp_path: Path) -> None:
    shm = new_shm(4096)

    def refused(key: str, byte_size: int = 64, offset: int = 0) -> str:
        body = {"key": key, "offset": offset, "byte_size": byte_size}
        return error_of(client.post(f"{SHM}/region/r/register", json=body))

    assert "no shared memory object '/aesvc-none-here'" in refused("/aesvc-none-here")
    assert "not a POSIX shared memory name" in refused("/../etc/passwd")
    assert "not a POSIX shared memory name" in refused("/..")
    assert "holds 4096 bytes" in refused(shm.key, byte_size=4000, offset=100)
    assert "byte_size" in refused(shm.key, byte_size=0)
    response = client.post(f"{SHM}/region/r/register", json={"key": shm.key})
    assert "invalid register request: byte_size" in error_of(response)
    target = tmp_path / "secret"
    target.write_bytes(b"x" * 4096)
    link = Path("/dev/shm") / f"aesvc-test-link-{uuid.uuid4().hex[:8]}"
    link.symlink_to(target)
    try:
        assert "cannot be opened" in refused("/" + link.name)
    finally:
        link.unlink()
    assert client.get(f"{SHM}/status").json() == []


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"shared_memory_region": "nope"}, "no system shared memory region named 'nope'"),
        ({"shared_memory_byte_size": 5 * 64 * 4 - 4}, "does not hold its shape's 320 FP32"),
        ({"shared_memory_offset": 8}, "runs past the end of region 'in'"),
        ({"shared_memory_byte_size": None}, "shared_memory_byte_size None is not a count"),
        ({"shared_memory_byte_size": True}, "shared_memory_byte_size True is not a count"),
        ({"shared_memory_offset": -4}, "shared_memory_offset -4 is not a count"),
        ({"shared_memory_region": 3}, "shared_memory_region 3 is not a region name"),
        ({"binary_data_size": 1280}, "give its values one way"),
    ],
    ids=["region", "size", "past-end", "no-size", "bool", "negative", "name-type", "two-ways"],
)
def test_bad_input_references(
    client: TestClient, new_shm: Any, change: dict[str, Any], needle: str
) -> None:
    shm = new_shm(5 * 64 * 4)
    shm.put(ROWS)
    register(client, "in", shm.key, 5 * 64 * 4)
    spec = shm_input("in", 5)
    spec["parameters"] = {k: v for k, v in (spec["parameters"] | change).items() if v is not None}
    assert needle in error_of(client.post(INFER, json={"inputs": [spec]}))


def test_bad_output_references_fail_before_the_request_runs(
    client: TestClient, new_shm: Any
) -> None:
    shm = new_shm(5 * 64 * 4 + 64)
    shm.put(ROWS)
    register(client, "in", shm.key, 5 * 64 * 4)
    register(client, "out", shm.key, 64, offset=5 * 64 * 4)

    def refused(parameters: dict[str, Any], name: str = "codings") -> str:
        body = {
            "inputs": [shm_input("in", 5)],
            "outputs": [{"name": name, "parameters": parameters}],
        }
        return error_of(client.post(INFER, json=body))

    executions = batches_run(client)
    assert "too small; the output takes 1280 bytes" in refused(
        shm_params("out", 64), "reconstruction"
    )
    assert "runs past the end of region 'out'" in refused(shm_params("out", 80))
    assert "exclude each other" in refused(shm_params("out", 64) | {"binary_data": True})
    assert "no system shared memory region named 'x'" in refused(shm_params("x", 80))
    assert batches_run(client) == executions  # refused before any batch ran
    assert shm.get((16,), 5 * 64 * 4).tolist() == [0.0] * 16  # no output was written


def batches_run(client: TestClient) -> int:
    response = client.get("/v2/models/digits-ae/versions/1/stats")
    count: int = response.json()["model_stats"][0]["execution_count"]
    return count


def test_input_checks_come_before_any_read_or_run(client: TestClient, new_shm: Any) -> None:
    shm = new_shm(5 * 64 * 4)
    nan_rows = ROWS.copy()
    nan_rows[2, 7] = np.nan
    shm.put(nan_rows)
    register(client, "in", shm.key, 5 * 64 * 4)
    executions = batches_run(client)
    assert "NaN" in error_of(client.post(INFER, json={"inputs": [shm_input("in", 5)]}))
    # more rows than a request may hold: refused before a byte is read (no region needed)
    too_many = shm_input("nowhere", 65537)
    assert "65537 rows; at most 65536" in error_of(client.post(INFER, json={"inputs": [too_many]}))
    assert batches_run(client) == executions


def test_a_fifo_or_a_directory_is_not_a_shared_memory_object(client: TestClient) -> None:
    base = Path("/dev/shm") / f"aesvc-test-{uuid.uuid4().hex[:8]}"
    os.mkfifo(f"{base}-fifo")  # opening one for reading would wait for a writer
    os.mkdir(f"{base}-dir")
    try:
        for suffix, needle in (
            ("-fifo", "is not a shared memory object"),
            ("-dir", "cannot be opened"),
        ):
            body = {"key": f"/{base.name}{suffix}", "byte_size": 8}
            response = client.post(f"{SHM}/region/r/register", json=body)
            assert needle in error_of(response), suffix
    finally:
        os.unlink(f"{base}-fifo")
        os.rmdir(f"{base}-dir")


def test_the_number_of_regions_is_bounded(tmp_path: Path) -> None:
    (tmp_path / "aesvc-object").write_bytes(b"\0" * 64)
    registry = SharedMemoryRegistry(enabled=True, directory=tmp_path)
    share = MAX_REGIONS // 8
    try:
        for i in range(MAX_REGIONS):  # the bound is the process's, over every key's regions
            owner = f"key-{i // share}" if i >= share else None
            registry.register(f"r{i}", owner=owner, key="/aesvc-object", offset=0, byte_size=64)
        with pytest.raises(SharedMemoryError, match=f"{MAX_REGIONS} regions are registered"):
            registry.register("more", owner="key-b", key="/aesvc-object", offset=0, byte_size=64)
        registry.unregister("r0", owner=None)
        registry.register("more", owner="key-b", key="/aesvc-object", offset=0, byte_size=64)
    finally:
        registry.close()


def test_one_key_holds_at_most_its_share_of_the_regions(tmp_path: Path) -> None:
    """Issue 22, defect 8: one key cannot take every region slot (each a descriptor)."""
    (tmp_path / "aesvc-object").write_bytes(b"\0" * 64)
    registry = SharedMemoryRegistry(enabled=True, directory=tmp_path, regions_per_owner=3)
    try:
        for i in range(3):
            registry.register(f"r{i}", owner="greedy", key="/aesvc-object", offset=0, byte_size=64)
        with pytest.raises(SharedMemoryError, match="its share"):
            registry.register("r3", owner="greedy", key="/aesvc-object", offset=0, byte_size=64)
        registry.register("r0", owner="other", key="/aesvc-object", offset=0, byte_size=64)
    finally:
        registry.close()


def test_only_the_services_own_objects_with_its_prefix_may_be_registered(
    client: TestClient, new_shm: Any, tmp_path: Path
) -> None:
    """Issue 22, defect 8: an infer key registered (and overwrote) another user's 0600
    object, and PostgreSQL's own segment. Now: the prefix, the owner and one link."""
    foreign = Path("/dev/shm") / f"PostgreSQL.{uuid.uuid4().int % 10**9}"
    foreign.write_bytes(b"\0" * 4096)
    try:
        body = {"key": "/" + foreign.name, "offset": 0, "byte_size": 64}
        response = client.post(f"{SHM}/region/pg/register", json=body)
        assert response.status_code == 400
        assert "'/aesvc-...'" in error_of(response)
    finally:
        foreign.unlink()
    # an object of another user (here: the registry sees the test's own as another's)
    (tmp_path / "aesvc-theirs").write_bytes(b"\0" * 64)
    os.chmod(tmp_path / "aesvc-theirs", 0o600)
    registry = SharedMemoryRegistry(enabled=True, directory=tmp_path, service_uid=os.geteuid() + 1)
    with pytest.raises(SharedMemoryError, match=f"belongs to uid {os.geteuid()}"):
        registry.register("r", owner=None, key="/aesvc-theirs", offset=0, byte_size=64)
    # a second link to an object is refused too (a hard link may name anyone's object)
    os.link(tmp_path / "aesvc-theirs", tmp_path / "aesvc-link")
    own = SharedMemoryRegistry(enabled=True, directory=tmp_path)
    with pytest.raises(SharedMemoryError, match="links: 2"):
        own.register("r", owner=None, key="/aesvc-link", offset=0, byte_size=64)
    own.close()
    registry.close()


def test_with_keys_each_key_has_its_own_region_names(data_dir: Path, new_shm: Any) -> None:
    """AESVC_AUTH=required: two keys register a region of the same name over different
    objects; each reads its own rows through it, lists and unregisters only its own, and
    cannot name the other's."""
    settings = settings_for(data_dir, oip_shared_memory=True, auth="required")
    app = create_app(settings, start_workers=False)
    with TestClient(app) as client:
        headers = {}
        for who in ("a", "b"):
            with app.state.ctx.session_factory() as session:
                _, key = create_key(session=session, name=f"shm-{who}", scopes=["infer"])
            headers[who] = {"Authorization": f"Bearer {key}"}
        rows = {"a": ROWS[:2].astype(np.float32), "b": ROWS[2:4].astype(np.float32)}
        objects = {who: new_shm(rows[who].nbytes) for who in rows}
        for who in ("a", "b"):
            objects[who].put(rows[who])
            body = {"key": objects[who].key, "byte_size": rows[who].nbytes}
            response = client.post(f"{SHM}/region/in/register", json=body, headers=headers[who])
            assert response.status_code == 200, response.text
        body = {"key": objects["a"].key, "byte_size": 8}
        response = client.post(f"{SHM}/region/a-only/register", json=body, headers=headers["a"])
        assert response.status_code == 200, response.text
        # the native endpoint, with a's key, for the expected codings of each key's rows
        expected = {
            who: client.post(
                "/v1/models/digits-ae/versions/1/encode",
                json={"inputs": rows[who].tolist()},
                headers=headers["a"],
            ).json()["codings"]
            for who in rows
        }
        for who in ("a", "b"):
            response = client.post(
                INFER, json={"inputs": [shm_input("in", 2)]}, headers=headers[who]
            )
            assert response.status_code == 200, response.text
            codings = np.asarray(response.json()["outputs"][0]["data"]).reshape(2, CODE_SIZE)
            np.testing.assert_allclose(codings, expected[who], atol=1e-6)
        status = {
            who: sorted(r["name"] for r in client.get(f"{SHM}/status", headers=h).json())
            for who, h in headers.items()
        }
        assert status == {"a": ["a-only", "in"], "b": ["in"]}
        assert "no system shared memory region named 'a-only'" in error_of(
            client.get(f"{SHM}/region/a-only/status", headers=headers["b"])
        )
        body = {"inputs": [shm_input("a-only", 1)]}
        assert "no system shared memory region named 'a-only'" in error_of(
            client.post(INFER, json=body, headers=headers["b"])
        )
        assert client.post(f"{SHM}/unregister", headers=headers["b"]).status_code == 200
        names = [r["name"] for r in client.get(f"{SHM}/status", headers=headers["a"]).json()]
        assert sorted(names) == ["a-only", "in"]  # b's unregister-all left a's regions
        assert client.get(f"{SHM}/status", headers=headers["b"]).json() == []
        assert client.post(f"{SHM}/unregister", headers=headers["a"]).status_code == 200


def test_a_truncated_object_is_refused_not_read(client: TestClient, new_shm: Any) -> None:
    shm = new_shm(5 * 64 * 4)
    shm.put(ROWS)
    register(client, "in", shm.key, 5 * 64 * 4)
    os.truncate(Path("/dev/shm") / shm.memory.name, 64)  # mapped pages past it would SIGBUS
    assert "shrank to 64 bytes" in error_of(
        client.post(INFER, json={"inputs": [shm_input("in", 5)]})
    )


def test_tensor_ref_parameters() -> None:
    assert TensorRef.from_parameters(None, "x") is None
    assert TensorRef.from_parameters({"binary_data": True}, "x") is None
    ref = TensorRef.from_parameters(shm_params("r", 16, 8), "x")
    assert ref == TensorRef("r", 16, 8) and ref.parameters(12) == shm_params("r", 12, 8)
    with pytest.raises(SharedMemoryError, match="shared_memory_byte_size None"):
        TensorRef.from_parameters({"shared_memory_region": "r"}, "x")
    with pytest.raises(SharedMemoryError, match="shared_memory_region None"):
        TensorRef.from_parameters({"shared_memory_byte_size": 4}, "x")


READ_ONLY_SCRIPT = """
import sys
import numpy as np
from service.inference.oip.shared_memory import SharedMemoryError, SharedMemoryRegistry, TensorRef
registry = SharedMemoryRegistry(enabled=True)
registry.register("ro", owner=None, key=sys.argv[1], offset=0, byte_size=16)
ref, regions = TensorRef("ro", 16), registry.client(None)
print(regions.read_fp32(ref, 4, "input").tolist())
try:
    regions.check_output(ref, 16, "output 'codings'")
except SharedMemoryError as exc:
    print(exc)
registry.close()
"""


def _without_dac_override() -> None:
    """In the child before exec: root's power to write any file goes, so a file's mode
    binds it as it binds other users (the child keeps root's uid, and its own files)."""
    import ctypes

    pr_capbset_drop, cap_dac_override = 24, 1
    if ctypes.CDLL(None, use_errno=True).prctl(pr_capbset_drop, cap_dac_override, 0, 0, 0):
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE)")


def test_an_object_the_service_cannot_write_serves_inputs_only(new_shm: Any) -> None:
    shm = new_shm(16)
    shm.put(np.arange(4, dtype=np.float32))
    (Path("/dev/shm") / shm.memory.name).chmod(0o444)
    result = subprocess.run(
        [sys.executable, "-c", READ_ONLY_SCRIPT, shm.key],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        timeout=120,
        preexec_fn=_without_dac_override if os.geteuid() == 0 else None,
    )
    assert result.returncode == 0, result.stderr
    values, message = result.stdout.strip().splitlines()
    assert values == "[0.0, 1.0, 2.0, 3.0]"
    assert message == (
        f"output 'codings': region 'ro' is read-only to the service ({shm.key!r} does not "
        "let it write)"
    )


@pytest.mark.slow  # a real `aesvc serve`
@pytest.mark.any_database
def test_concurrent_clients_through_a_live_server(shm_live: LiveServer, new_shm: Any) -> None:
    """16 clients, each with its own input and output regions in one object, at once: every
    answer lands in its own region and matches the native encode."""
    clients, rows = 16, 300
    shm = new_shm(clients * rows * (64 + CODE_SIZE) * 4)
    live = shm_live
    http = live.client()
    for i in range(clients):
        x = np.roll(DIGITS, -101 * i, axis=0)[:rows]
        base = i * rows * (64 + CODE_SIZE) * 4
        shm.put(x, offset=base)
        body = {"key": shm.key, "offset": base, "byte_size": rows * (64 + CODE_SIZE) * 4}
        assert http.post(f"{SHM}/region/c{i}/register", json=body).status_code == 200

    async def one(i: int, http: httpx.AsyncClient) -> httpx.Response:
        body = {
            "inputs": [shm_input(f"c{i}", rows)],
            "outputs": [
                {
                    "name": "codings",
                    "parameters": shm_params(f"c{i}", rows * CODE_SIZE * 4, rows * 256),
                }
            ],
        }
        return await http.post(INFER, json=body)

    async def all_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live.base_url, timeout=60) as http:
            return await asyncio.gather(*[one(i, http) for i in range(clients)])

    for response in asyncio.run(all_at_once()):
        assert response.status_code == 200, response.text
    for i in range(clients):
        x = shm.get((rows, 64), i * rows * (64 + CODE_SIZE) * 4)
        codings = shm.get((rows, CODE_SIZE), i * rows * (64 + CODE_SIZE) * 4 + rows * 256)
        expected = http.post(
            "/v1/models/digits-ae/versions/1/encode", json={"inputs": x.tolist()}
        ).json()["codings"]
        np.testing.assert_allclose(codings, expected, atol=1e-5)
    assert http.post(f"{SHM}/unregister").status_code == 200
    assert http.get(f"{SHM}/status").json() == []
