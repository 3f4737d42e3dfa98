"""Download a version as safetensors (the stored blob), ONNX or TorchScript.

ONNX and TorchScript graphs take RAW inputs in the dataset's units, like the API: the
preprocessing (and, for outputs, its inverse) is inside the graph. The batch dimension is
dynamic. Each export is built once per (artifact sha256, format, part) and kept in the
artifact store. A download names the blob to send and its ETag from the database; the route
checks the blob (and an export's weights) and streams it a chunk at a time.
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from typing import Literal

import torch
from safetensors.torch import load as load_safetensors
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from torch import nn

from service.artifacts import ArtifactStore
from service.blob_guard import lock_blob
from service.errors import Gone, ServiceError, ServiceUnavailable, Unprocessable
from service.registry.schemas import ExportFormat, ExportPart
from service.registry.service import resolve_version
from service.registry.tables import ModelExport, ModelVersion
from service.zoo.serving import ServingModel, load_serving_model

log = logging.getLogger(__name__)
SUFFIXES = {"safetensors": "safetensors", "onnx": "onnx", "torchscript": "pt"}
ONNX_OPSET = 18
# The ONNX exporter (torch.export) and tracing are not safe to run in parallel threads.
_EXPORT_LOCK = threading.Lock()
# Builds running or waiting for _EXPORT_LOCK at once; past it a quick 503 with Retry-After.
# Each holds a threadpool thread for a second or more, and the API's synchronous routes
# (a version's GET, /readyz) share those threads: 60 waiting builds held them for 15 s.
MAX_QUEUED_BUILDS = 4
_BUILD_SLOTS = threading.BoundedSemaphore(MAX_QUEUED_BUILDS)


class ExportFailed(ServiceError):
    status, title, slug = 500, "Export Failed", "export-failed"


@dataclass(frozen=True)
class ExportedArtifact:
    sha256: str  # the blob sent, and its ETag
    filename: str
    weights_sha256: str  # the version's weights: checked on every download of an export


class EncoderGraph(nn.Module):
    """x_raw (B, F) -> codings (B, code_size); a VAE gives the mean."""

    def __init__(self, model: ServingModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x_raw: torch.Tensor) -> torch.Tensor:
        return self.model.encode(x_raw)


class DecoderGraph(nn.Module):
    """codings (B, code_size) -> outputs (B, F) in raw units."""

    def __init__(self, model: ServingModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, codings: torch.Tensor) -> torch.Tensor:
        return self.model.decode(codings)


class FullGraph(nn.Module):
    """x_raw (B, F) -> reconstruction (B, F) in raw units (a VAE decodes its mean)."""

    def __init__(self, model: ServingModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x_raw: torch.Tensor) -> torch.Tensor:
        return self.model.reconstruct(x_raw)


# part -> (graph, input name, output name)
GRAPHS: dict[str, tuple[type[nn.Module], str, str]] = {
    "encoder": (EncoderGraph, "x_raw", "codings"),
    "decoder": (DecoderGraph, "codings", "outputs"),
    "full": (FullGraph, "x_raw", "reconstruction"),
}


def export_version(
    *,
    session: Session,
    store: ArtifactStore,
    name: str,
    ref: str,
    format: ExportFormat,
    part: ExportPart,
) -> ExportedArtifact:
    """What a download sends (built now where it is an export not built yet); nothing else
    is read."""
    mv = resolve_version(session=session, name=name, ref=ref)
    stem = f"{name}-v{mv.version}"
    if format == "safetensors":
        if part != "full":
            raise Unprocessable(
                "part",
                "safetensors holds the whole model (the preprocessing and, for tied "
                "weights, the encoder's weights are shared by both halves); ask for "
                "part=full, or format onnx or torchscript for an encoder or a decoder",
            )
        return ExportedArtifact(mv.artifact_sha256, f"{stem}.safetensors", mv.artifact_sha256)
    filename = f"{stem}-{part}.{SUFFIXES[format]}"
    cached = _cached_export(session, store, mv.artifact_sha256, format, part)
    if cached is not None:
        return ExportedArtifact(cached, filename, mv.artifact_sha256)
    if not _BUILD_SLOTS.acquire(blocking=False):
        raise ServiceUnavailable(
            f"{MAX_QUEUED_BUILDS} exports are being built or wait for it; retry shortly",
            retry_after_s=2,
        )
    try:
        return _build(session, store, mv, format, part, filename, name)
    finally:
        _BUILD_SLOTS.release()


def _build(
    session: Session,
    store: ArtifactStore,
    mv: ModelVersion,
    format: Literal["onnx", "torchscript"],
    part: ExportPart,
    filename: str,
    name: str,
) -> ExportedArtifact:
    """The export built (once at a time: the exporter is not thread-safe) and kept."""
    artifact_sha256, config, version = mv.artifact_sha256, mv.config, mv.version
    with _EXPORT_LOCK:
        # A fresh read: the request's transaction began before the builder we waited for
        # committed, and would not see its export (each waiter built its own)
        session.rollback()
        cached = _cached_export(session, store, artifact_sha256, format, part)
        if cached is not None:
            return ExportedArtifact(cached, filename, artifact_sha256)
        blob = store.get_bytes(artifact_sha256)  # checked: a corrupt file is never exported
        try:
            model = load_serving_model(config, load_safetensors(blob))
        except (ValueError, KeyError, RuntimeError) as exc:
            raise ExportFailed(f"version {version} of {name!r} cannot be loaded: {exc}") from exc
        built = build_export(model, format=format, part=part)
        sha256 = _keep_export(session, store, artifact_sha256, format, part, built)
    return ExportedArtifact(sha256, filename, artifact_sha256)


def build_export(
    model: ServingModel, *, format: Literal["onnx", "torchscript"], part: ExportPart
) -> bytes:
    graph_type, input_name, output_name = GRAPHS[part]
    graph = graph_type(model).eval()
    width = model.autoencoder.code_size if part == "decoder" else model.autoencoder.n_features
    example = torch.zeros(2, width)  # (B, width); B is dynamic in the export
    try:
        if format == "torchscript":
            return _torchscript_bytes(graph, example)
        return _onnx_bytes(graph, example, input_name, output_name)
    except Exception as exc:  # the exporters raise many types; a failure here is ours
        log.exception("export of %s/%s failed", format, part)
        raise ExportFailed(f"could not export the {part} as {format}: {exc}") from exc


def _torchscript_bytes(graph: nn.Module, example: torch.Tensor) -> bytes:
    with torch.no_grad():
        traced = torch.jit.trace(graph, (example,), check_trace=False)
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer)
    return buffer.getvalue()


def _onnx_bytes(
    graph: nn.Module, example: torch.Tensor, input_name: str, output_name: str
) -> bytes:
    batch = torch.export.Dim("batch")
    program = torch.onnx.export(
        graph,
        (example,),
        dynamo=True,
        input_names=[input_name],
        output_names=[output_name],
        dynamic_shapes=({0: batch},),
        opset_version=ONNX_OPSET,
        verbose=False,
    )
    if program is None:
        raise RuntimeError("the ONNX exporter returned no program")
    return bytes(program.model_proto.SerializeToString())


def _cached_export(
    session: Session, store: ArtifactStore, artifact_sha256: str, format: str, part: str
) -> str | None:
    """The kept export's sha256, where its row and its blob are there."""
    row = session.scalars(
        select(ModelExport).where(
            ModelExport.artifact_sha256 == artifact_sha256,
            ModelExport.format == format,
            ModelExport.part == part,
        )
    ).first()
    if row is None:
        return None
    if store.exists(row.export_sha256):
        return row.export_sha256
    session.delete(row)  # the cache is only a cache: rebuild
    session.commit()
    return None


def _keep_export(
    session: Session,
    store: ArtifactStore,
    artifact_sha256: str,
    format: str,
    part: str,
    data: bytes,
) -> str:
    """The export kept (its sha256): ours, or the one another process cached first, so
    that every client gets the file the cache serves from then on."""
    stored = store.put_bytes(data)
    if session.in_transaction():
        session.rollback()
    # The weights' lock, shared (service.blob_guard): an archive that would drop this
    # export's row waits for our commit, or has already archived the version.
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    lock_blob(session, artifact_sha256, exclusive=False)
    still_ready = session.scalar(
        select(func.count())
        .select_from(ModelVersion)
        .where(ModelVersion.artifact_sha256 == artifact_sha256, ModelVersion.status == "ready")
    )
    if not still_ready:  # archived while we exported: keep nothing that nobody references
        session.rollback()
        store.delete(stored.sha256)
        raise Gone("the version was archived while it was exported", code="version_archived")
    session.add(
        ModelExport(
            artifact_sha256=artifact_sha256,
            format=format,
            part=part,
            export_sha256=stored.sha256,
            size_bytes=stored.size_bytes,
            torch_version=torch.__version__,
        )
    )
    try:
        if not store.exists(stored.sha256):  # an equal export dropped since our put
            store.put_bytes(data)
        session.commit()
    except IntegrityError:  # another process cached the same export first: keep theirs
        session.rollback()
        winner = session.scalar(
            select(ModelExport.export_sha256).where(
                ModelExport.artifact_sha256 == artifact_sha256,
                ModelExport.format == format,
                ModelExport.part == part,
            )
        )
        if winner is not None and winner != stored.sha256:
            store.delete(stored.sha256)
            return winner
    return stored.sha256
