"""Register a model trained elsewhere: strict checks first, then one blob and one row.

The upload is validated completely (config against ModelSpec, tensors against the network
the config builds) before anything is written; a refused import leaves no row and no blob.
The stored blob is canonical: float32 tensors with the normalised config and the metrics in
its metadata, exactly what a trained version stores.

The upload is read where it lies, its spooled file, a block of a tensor at a time: once to
check it, once more to write the blob, converted to float32 on the way. Neither the file
nor the network is ever whole in memory (the network is built on the meta device only).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import numpy as np
import torch
from pydantic import ValidationError
from safetensors import SafetensorError, safe_open
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.artifacts import ArtifactStore
from service.blob_guard import ensure_blob
from service.database import utcnow
from service.errors import Unprocessable, error_loc, error_message
from service.names import MODEL_NAME_PATTERN, model_name_problem
from service.registry.deletion import release_artifacts
from service.registry.service import service_version, weights_header
from service.registry.tables import Model, ModelVersion, split_coding_cov
from service.zoo.budget import meta_model, parameter_count
from service.zoo.metrics import SCORE_QUANTILE_LEVELS
from service.zoo.serving import (
    FORMAT_VERSION,
    READABLE_FORMATS,
    SCORE_BUFFERS,
    check_scale,
    check_tensor_names,
    check_tensor_type,
    check_tensor_values,
    neutral_score_buffers,
)
from service.zoo.spec import ModelSpec, SpecError, check_spec

MAX_HEADER_BYTES = 100 << 20  # safetensors' own limit on the JSON header
# JSON of an import's metrics besides the statistics serving reads (their shapes follow from
# the code size): every read of the version and every page of its model's versions holds them
MAX_OTHER_METRICS_BYTES = 64 << 10
BLOCK_VALUES = 1 << 20  # values of a tensor read (and converted) at a time: 4 MB as float32
SCALE = "preprocessor.scale"
# safetensors' dtype names, as safetensors.torch reads them (those torch has)
DTYPES: dict[str, torch.dtype] = {
    name: dtype
    for name, dtype in {
        "F64": torch.float64,
        "F32": torch.float32,
        "F16": torch.float16,
        "BF16": torch.bfloat16,
        "F8_E4M3": getattr(torch, "float8_e4m3fn", None),
        "F8_E4M3FNUZ": getattr(torch, "float8_e4m3fnuz", None),
        "F8_E5M2": getattr(torch, "float8_e5m2", None),
        "F8_E5M2FNUZ": getattr(torch, "float8_e5m2fnuz", None),
        "C64": torch.complex64,
        "I64": torch.int64,
        "I32": torch.int32,
        "I16": torch.int16,
        "I8": torch.int8,
        "U64": getattr(torch, "uint64", None),
        "U32": getattr(torch, "uint32", None),
        "U16": getattr(torch, "uint16", None),
        "U8": torch.uint8,
        "BOOL": torch.bool,
    }.items()
    if dtype is not None
}


def import_version(
    *,
    session: Session,
    store: ArtifactStore,
    max_parameters: int,
    name: str,
    upload: BinaryIO,
    config_json: str | None,
    metrics_json: str | None,
) -> ModelVersion:
    if not re.fullmatch(MODEL_NAME_PATTERN, name):
        raise Unprocessable("name", f"{name!r} does not match {MODEL_NAME_PATTERN}")
    if problem := model_name_problem(name):
        raise Unprocessable("name", problem)
    with read_safetensors(upload) as weights:
        config = _config_from(config_json, weights.metadata)
        spec, n_features, image_shape = check_config(config, max_parameters=max_parameters)
        # shapes against the meta network (no storage), then the values, a block at a time
        expected = meta_model(spec, n_features, image_shape).state_dict()
        neutral: dict[str, torch.Tensor] = {}
        if config["format_version"] == 1:  # no score statistics (see load_serving_model)
            neutral = neutral_score_buffers(spec.architecture.code_size)
            expected = {k: v for k, v in expected.items() if k not in SCORE_BUFFERS}
        try:
            check_weights(weights, {k: tuple(v.shape) for k, v in expected.items()})
        except ValueError as exc:
            raise Unprocessable("file", f"the tensors do not fit the config: {exc}") from exc
        metrics, where = _metrics_from(metrics_json, weights.metadata)
        check_metrics(metrics, code_size=spec.architecture.code_size, field=where)
        canonical = {
            "spec": spec.model_dump(mode="json"),
            "n_features": n_features,
            "image_shape": None if image_shape is None else list(image_shape),
            "format_version": FORMAT_VERSION,
        }
        shapes = {k: tuple(v.shape) for k, v in expected.items()}
        shapes.update({k: tuple(v.shape) for k, v in neutral.items()})

        def blob() -> Iterator[bytes]:
            """The canonical file (weights_blob's bytes), a block at a time."""
            yield weights_header(shapes, canonical, metrics)
            for key in sorted(shapes):
                if key in neutral:
                    yield neutral[key].numpy().tobytes()
                    continue
                for block in weights.blocks(key):
                    yield block.to(torch.float32).numpy().tobytes()

        stored = store.put_chunks(blob())
        try:
            mv = _add_version(
                session,
                name,
                canonical,
                spec,
                metrics,
                stored.sha256,
                stored.size_bytes,
                before_commit=lambda: ensure_blob(session, store, stored.sha256, blob),
            )
        except BaseException:
            session.rollback()
            release_artifacts(session=session, store=store, sha256s=[stored.sha256])
            raise
    return mv


def check_weights(weights: UploadedWeights, expected: dict[str, tuple[int, ...]]) -> None:
    """What load_serving_model checks of the tensors, in its order, without loading them:
    the names, each tensor's shape, dtype and values (finite as float32), then the scale."""
    check_tensor_names(expected, weights.entries)
    for name, shape in expected.items():
        check_tensor_type(name, weights.shape(name), weights.dtype(name), shape)
        for block in weights.blocks(name):
            check_tensor_values(name, block)
    check_scale(torch.cat([block.to(torch.float32) for block in weights.blocks(SCALE)]))


class UploadedWeights:
    """A safetensors file whose header safetensors has checked (the offsets tile the data,
    each entry's size is its shape's), read from its file descriptor a block at a time."""

    def __init__(self, fd: int, header: dict[str, Any], data_start: int, size: int) -> None:
        self.fd = fd
        self.data_start = data_start
        self.metadata: dict[str, str] = header.get("__metadata__") or {}
        self.entries: dict[str, dict[str, Any]] = {
            k: v for k, v in header.items() if k != "__metadata__"
        }
        for name in self.entries:  # what safetensors checked, as this parse of it reads
            start, end = self.entries[name]["data_offsets"]
            dtype = self.dtype(name)
            if isinstance(dtype, torch.dtype) and not (
                0 <= start <= end <= size - data_start
                and end - start == math.prod(self.shape(name)) * dtype.itemsize
            ):
                raise ValueError(f"the offsets of tensor {name!r} do not fit its shape")

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self.entries[name]["shape"])

    def dtype(self, name: str) -> torch.dtype | str:
        """The torch dtype, or the file's name for one that torch lacks."""
        dtype = self.entries[name]["dtype"]
        return DTYPES.get(dtype, dtype)

    def blocks(self, name: str) -> Iterator[torch.Tensor]:
        """The tensor's values, flat, BLOCK_VALUES at a time, in its own (float) dtype."""
        dtype = self.dtype(name)
        assert isinstance(dtype, torch.dtype)
        count = math.prod(self.shape(name))
        offset = self.data_start + int(self.entries[name]["data_offsets"][0])
        for first in range(0, count, BLOCK_VALUES):
            block = torch.empty(min(BLOCK_VALUES, count - first), dtype=dtype)
            raw = block.view(torch.uint8).numpy()
            _read_exactly(self.fd, raw, offset + first * dtype.itemsize)
            yield block


def _read_exactly(fd: int, into: np.ndarray, offset: int) -> None:
    view = into.data.cast("B")
    done = 0
    while done < len(view):
        n = os.preadv(fd, [view[done:]], offset + done)
        if n == 0:
            raise OSError(f"the upload ended {len(view) - done} bytes early")
        done += n


@contextlib.contextmanager
def read_safetensors(upload: BinaryIO) -> Iterator[UploadedWeights]:
    """The upload's header, checked; safetensors never runs code, nothing is unpickled."""
    with _on_disk(upload) as (fd, path):
        size = os.fstat(fd).st_size
        try:
            header_len = int.from_bytes(os.pread(fd, 8, 0), "little")
            if size < 8 or header_len > min(MAX_HEADER_BYTES, size - 8):
                raise ValueError("the header length does not fit the file")
            header = json.loads(os.pread(fd, header_len, 8))
            if not isinstance(header, dict):
                raise ValueError("the header is not a JSON object")
            metadata = header.get("__metadata__") or {}
            with safe_open(path, framework="numpy"):
                pass  # safetensors' own checks of the header against the file's size
            if not isinstance(metadata, dict):
                raise Unprocessable("file", "the safetensors metadata is not a JSON object")
            weights = UploadedWeights(fd, header, 8 + header_len, size)
        except (ValueError, SafetensorError, RecursionError) as exc:  # deep nesting: recursion
            raise Unprocessable("file", f"not a safetensors file: {exc}") from exc
        yield weights


@contextlib.contextmanager
def _on_disk(upload: BinaryIO) -> Iterator[tuple[int, str]]:
    """A descriptor and a path of the upload's bytes (safe_open takes a path): its spooled
    file, named under /proc/self/fd, or else a copy in a temporary file."""
    rollover = getattr(upload, "rollover", None)
    if rollover is not None:  # a SpooledTemporaryFile still in memory (a small upload)
        rollover()
    upload.flush()
    try:
        fd = upload.fileno()
    except (OSError, io.UnsupportedOperation):
        fd = -1
    if fd >= 0 and os.path.exists(path := f"/proc/self/fd/{fd}"):
        yield fd, path
        return
    with tempfile.NamedTemporaryFile(prefix="aesvc-import-") as copy:
        upload.seek(0)
        shutil.copyfileobj(upload, copy, 1 << 20)
        copy.flush()
        yield copy.fileno(), copy.name


def check_metrics(metrics: dict[str, Any], *, code_size: int, field: str = "metrics") -> None:
    """The figures inference reads from a version's metrics (score's threshold, generate's
    Gaussian) are finite and of the right shape: an imported version cannot break its
    operations, nor a decode batch it shares. `field`: where the metrics came from."""
    shapes: dict[str, tuple[int, ...]] = {
        "threshold": (),
        "contamination": (),
        "coding_mean": (code_size,),
        "coding_cov": (code_size, code_size),
        "score_quantiles": (len(SCORE_QUANTILE_LEVELS),),
    }
    for key, shape in shapes.items():
        if key not in metrics:
            continue
        value = metrics[key]
        try:  # finite as the float32 that inference computes in
            with np.errstate(over="ignore"):
                array = np.asarray(value, dtype=np.float64).astype(np.float32)
            ok = not isinstance(value, (bool, str)) and array.shape == shape
            ok = ok and bool(np.isfinite(array).all())
        except (ValueError, TypeError, OverflowError):
            ok = False
        if not ok:
            what = "a finite number" if not shape else f"finite numbers of shape {list(shape)}"
            raise Unprocessable(f"{field}.{key}", f"{value!r:.80} is not {what}")
    others = {k: v for k, v in metrics.items() if k not in shapes}
    try:
        size = len(json.dumps(others, separators=(",", ":")))
    except RecursionError:  # nested deeper than the encoder goes: past any sensible size
        size = MAX_OTHER_METRICS_BYTES + 1
    if size > MAX_OTHER_METRICS_BYTES:
        raise Unprocessable(
            field,
            f"the metrics besides {', '.join(shapes)} are {size} bytes of JSON; the limit is "
            f"{MAX_OTHER_METRICS_BYTES} (every read of the version holds them)",
        )


def _json_object(text: str, field: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past the parser
        raise Unprocessable(field, f"is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise Unprocessable(field, f"must be a JSON object, not {type(value).__name__}")
    return value


def _config_from(config_json: str | None, embedded: dict[str, str]) -> dict[str, Any]:
    """The form field wins over the config embedded in the file's metadata."""
    if config_json:
        return _json_object(config_json, "config")
    if "config" in embedded:
        return _json_object(embedded["config"], "file.metadata.config")
    raise Unprocessable(
        "config",
        "is required: give it as a form field, or embed it in the safetensors metadata "
        "under the key 'config'",
    )


def _metrics_from(metrics_json: str | None, embedded: dict[str, str]) -> tuple[dict[str, Any], str]:
    """The metrics, and the field they came from: the form field wins over the metrics
    embedded in the file's metadata (the service's own exports hold them); neither: none."""
    if metrics_json:
        return _json_object(metrics_json, "metrics"), "metrics"
    if "metrics" in embedded:
        where = "file.metadata.metrics"
        return _json_object(embedded["metrics"], where), where
    return {}, "metrics"


def check_config(
    config: dict[str, Any], *, max_parameters: int
) -> tuple[ModelSpec, int, tuple[int, int, int] | None]:
    """ModelSpec, n_features, image_shape: each refusal names the field. The network is
    built on the meta device (no storage) and its size capped before anything is built."""
    if config.get("format_version") not in READABLE_FORMATS:
        raise Unprocessable(
            "config.format_version",
            f"is {config.get('format_version')!r}; this service reads {list(READABLE_FORMATS)}",
        )
    try:
        spec = ModelSpec.stored(config.get("spec"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("config", "spec", *error_loc(first)))
        raise Unprocessable(where, error_message(first)) from exc
    try:
        check_spec(spec)
    except SpecError as exc:
        raise Unprocessable(("config", "spec", *exc.loc), exc.message) from exc
    n_features = config.get("n_features")
    if not isinstance(n_features, int) or isinstance(n_features, bool) or n_features < 1:
        raise Unprocessable("config.n_features", f"must be a positive integer, not {n_features!r}")
    shape = config.get("image_shape")
    image_shape: tuple[int, int, int] | None = None
    if shape is not None:
        if not (isinstance(shape, list) and len(shape) == 3 and all(_positive(v) for v in shape)):
            raise Unprocessable(
                "config.image_shape", f"must be [height, width, channels] or null, not {shape!r}"
            )
        image_shape = (shape[0], shape[1], shape[2])
        if math.prod(image_shape) != n_features:
            raise Unprocessable(
                "config.image_shape",
                f"{shape} holds {math.prod(image_shape)} values a row; the model takes "
                f"n_features {n_features}",
            )
    try:
        parameters = parameter_count(meta_model(spec, n_features, image_shape))
    except ValueError as exc:
        raise Unprocessable("config", str(exc)) from exc
    if parameters > max_parameters:
        raise Unprocessable(
            "config.spec.architecture",
            f"the network would have {parameters} parameters; the limit is {max_parameters} "
            "(AESVC_MAX_MODEL_PARAMETERS)",
        )
    return spec, n_features, image_shape


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _add_version(
    session: Session,
    name: str,
    config: dict[str, Any],
    spec: ModelSpec,
    metrics: dict[str, Any],
    sha256: str,
    size_bytes: int,
    before_commit: Callable[[], None],
) -> ModelVersion:
    """The next number of `name` (created if new), under the model's write lock."""
    for _ in range(5):
        if session.in_transaction():
            session.rollback()
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        model = session.scalars(select(Model).where(Model.name == name).with_for_update()).first()
        try:
            if model is None:
                model = Model(name=name, description="", tags={}, last_version=0)
                session.add(model)
                session.flush()
            model.last_version += 1
            model.updated_at = utcnow()
            rest, coding_cov = split_coding_cov(metrics)
            mv = ModelVersion(
                model_id=model.id,
                version=model.last_version,
                status="ready",
                source_job_id=None,
                dataset_id=None,
                dataset_sha256=None,
                spec=config["spec"],
                config=config,
                metrics=rest,
                coding_cov=coding_cov,
                history=[],
                artifact_sha256=sha256,
                size_bytes=size_bytes,
                n_features=config["n_features"],
                code_size=spec.architecture.code_size,
                kind=spec.architecture.kind,
                service_version=service_version(),
                torch_version=torch.__version__,
            )
            session.add(mv)
            before_commit()  # the blob is there when the row is (service.blob_guard)
            session.commit()
            return mv
        except IntegrityError:
            session.rollback()  # a concurrent first version of a new model: try again
    raise RuntimeError(f"could not register an imported version of {name!r}")
