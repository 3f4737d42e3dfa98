"""The torch backend, the default on a GPU: the operation modules run eagerly, or replay CUDA
graphs for small batches."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from service.inference.backends import cuda_graphs
from service.inference.backends.base import Outputs
from service.inference.backends.operations import OPERATIONS, input_width, operation
from service.zoo import ServingModel


class TorchBackend:
    name: ClassVar[str] = "torch"

    def __init__(self, model: ServingModel, *, device: str, cuda_graph_rows: int = 0) -> None:
        """`model` is already on `device`."""
        self.device = device
        self._device = torch.device(device)
        self._cpu = self._device.type == "cpu"
        self._ops = {op: operation(model, op) for op in OPERATIONS}
        self._graphs: dict[str, cuda_graphs.GraphedOperation] = {}
        for op, module in self._ops.items():
            graphed = cuda_graphs.graphed(
                module, device=self._device, width=input_width(model, op), max_rows=cuda_graph_rows
            )
            if graphed is not None:
                self._graphs[op] = graphed
        self.held_bytes = sum(g.pool_bytes for g in self._graphs.values())
        sizes = {size for g in self._graphs.values() for size in g.sizes}
        self.cuda_graph_sizes = tuple(sorted(sizes))

    def run(self, operation: str, rows: np.ndarray) -> Outputs:
        with torch.inference_mode():
            graphed = self._graphs.get(operation)
            outputs = graphed(rows) if graphed is not None else None
            if outputs is None:
                x = torch.from_numpy(rows)
                outputs = self._ops[operation](x if self._cpu else x.to(self._device))
            return cuda_graphs.to_numpy(outputs)
