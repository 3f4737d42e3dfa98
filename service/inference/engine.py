"""The torch side of each operation, and the batchers that feed it.

Every operation is a function from a batch of validated rows (numpy, float32) to a tuple
of outputs with one row per input row; it runs on the version's device under
inference_mode, in that device's one inference thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

from service.config import Settings
from service.inference.batching import Batcher, RowBudget
from service.inference.cache import LoadedModel
from service.inference.device import BatchFn, Device, Outputs
from service.metrics import ServiceMetrics

OPERATIONS = ("encode", "decode", "reconstruct", "score")


def inference_devices(setting: str) -> tuple[str, ...]:
    if setting == "cpu" or (setting == "auto" and not torch.cuda.is_available()):
        return ("cpu",)
    if not torch.cuda.is_available():
        raise RuntimeError("AESVC_INFERENCE_DEVICE is 'cuda' but torch sees no CUDA device")
    return tuple(f"cuda:{i}" for i in range(torch.cuda.device_count()))


def batch_fn(loaded: LoadedModel, operation: str) -> BatchFn:
    model = loaded.model
    pre, net = model.preprocessor, model.autoencoder
    device = torch.device(loaded.device)

    on_cpu = device.type == "cpu"  # no device copies to dispatch (each costs a few µs)

    def tensor(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(x)
        return t if on_cpu else t.to(device)

    def array(t: torch.Tensor) -> np.ndarray:
        if on_cpu and t.dtype == torch.float32:
            return t.numpy()
        return t.float().cpu().numpy()

    def encode(x: np.ndarray) -> Outputs:  # (B, code_size), VAE: and log_var (B, code_size)
        if loaded.variational:
            mean, log_var = model.encode_stats(tensor(x))
            return array(mean), array(log_var)
        return (array(model.encode(tensor(x))),)

    def decode(z: np.ndarray) -> Outputs:  # (B, n_features) raw units
        return (array(model.decode(tensor(z))),)

    def reconstruct(x: np.ndarray) -> Outputs:  # (B, n_features), (B,)
        xp = pre(tensor(x))  # one forward gives both the rows and their errors
        out = net(xp)
        return array(pre.inverse(out)), array((out - xp).square().mean(dim=1))

    def score(x: np.ndarray) -> Outputs:  # (B,)
        return (array(model.row_errors(tensor(x))),)

    fns = {"encode": encode, "decode": decode, "reconstruct": reconstruct, "score": score}
    return fns[operation]


def input_width(loaded: LoadedModel, operation: str) -> int:
    return loaded.code_size if operation == "decode" else loaded.n_features


def warm_up(loaded: LoadedModel, batch_rows: Iterable[int]) -> None:
    """Run every operation once at each batch size, so the first request pays no setup."""
    with torch.inference_mode():
        for operation in OPERATIONS:
            fn = batch_fn(loaded, operation)
            for rows in sorted(set(batch_rows)):
                fn(np.zeros((rows, input_width(loaded, operation)), dtype=np.float32))


class InferenceEngine:
    """Devices (one thread each), the shared row budget, one batcher per (version, op)."""

    def __init__(self, settings: Settings, metrics: ServiceMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.device_names = inference_devices(settings.inference_device)
        self.devices = {
            name: Device(
                name,
                parallel_rows=settings.inference_parallel_rows,
                inline_rows=settings.inference_inline_rows,
            )
            for name in self.device_names
        }
        self.budget = RowBudget(settings.max_queue_rows, metrics)
        self._batchers: dict[tuple[str, str], Batcher] = {}
        self.live_keys: Callable[[], Iterable[str]] | None = None  # the cache's loaded keys

    @property
    def warmup_batch_rows(self) -> list[int]:
        sizes = {*self.settings.warmup_batch_rows, self.settings.max_batch_rows}
        return sorted(s for s in sizes if 1 <= s <= self.settings.max_batch_rows)

    def warm_up(self, loaded: LoadedModel) -> None:
        warm_up(loaded, self.warmup_batch_rows)

    def batcher(self, loaded: LoadedModel, operation: str) -> Batcher:
        key = (loaded.key, operation)
        found = self._batchers.get(key)
        if found is None:
            if self.live_keys is not None:
                self.forget(self.live_keys())
            found = self._batchers[key] = Batcher(
                operation=operation,
                fn=batch_fn(loaded, operation),
                device=self.devices[loaded.device],
                budget=self.budget,
                metrics=self.metrics,
                max_batch_rows=self.settings.max_batch_rows,
                max_wait_s=self.settings.max_wait_ms / 1000,
                timeout_s=self.settings.request_timeout_s,
            )
        return found

    def forget(self, live_keys: Iterable[str]) -> None:
        """Close the idle batchers of versions no longer in the cache."""
        live = set(live_keys)
        for key in [k for k, b in self._batchers.items() if k[0] not in live and b.idle]:
            self._batchers.pop(key).close()

    def close(self) -> None:
        for batcher in self._batchers.values():
            batcher.close()
        self._batchers.clear()
        for device in self.devices.values():
            device.close()
