"""The plan: which backend runs a loaded version, on which device, and why; chosen by
configuration (AESVC_INFERENCE_BACKEND) at load, never by a timing race."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Literal

import torch

from service.inference.backends.base import Backend, BackendUnavailable
from service.inference.backends.onnxruntime import OnnxRuntimeBackend
from service.inference.backends.torch import TorchBackend
from service.zoo import ServingModel

log = logging.getLogger(__name__)
BackendSetting = Literal["auto", "onnxruntime", "torch"]


@dataclass(frozen=True)
class Plan:
    backend: str  # the runtime that serves: "onnxruntime" | "torch"
    device: str
    asked: str  # the runtime the configuration asked for on this device
    fallback: str = ""  # why `backend` is not `asked`; "" where it is
    cuda_graph_sizes: tuple[int, ...] = ()  # batch sizes replayed from CUDA graphs


@dataclass(frozen=True)
class BackendOptions:
    setting: BackendSetting = "auto"
    cuda_graph_rows: int = 0
    # ONNX Runtime's intra-op threads: torch's count where the engine is made (versions load
    # under one_torch_thread, where torch answers 1)
    threads: int = field(default_factory=torch.get_num_threads)


def load_backend(
    model: ServingModel, *, label: str, device: str, options: BackendOptions
) -> tuple[Backend, Plan]:
    """The version's backend on `device` (`model` already there), and its plan."""
    asked = options.setting
    if asked == "auto":
        asked = "onnxruntime" if device == "cpu" else "torch"
    fallback = ""
    if asked == "onnxruntime":
        try:
            on_cpu = model if device == "cpu" else copy.deepcopy(model).cpu()  # to export
            backend: Backend = OnnxRuntimeBackend(on_cpu, device=device, threads=options.threads)
            return backend, Plan(backend.name, device, asked)
        except BackendUnavailable as exc:
            fallback = f"onnxruntime cannot run it: {exc}"
            log.warning("%s runs on torch on %s: %s", label, device, fallback)
    backend = TorchBackend(model, device=device, cuda_graph_rows=options.cuda_graph_rows)
    return backend, Plan(backend.name, device, asked, fallback, backend.cuda_graph_sizes)
