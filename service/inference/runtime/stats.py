"""Per-version inference statistics, as the Open Inference Protocol's statistics extension
reports them (docs/inference.md); updated on the event loop only, so lock-free."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Duration:
    count: int = 0
    ns: int = 0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.ns += int(seconds * 1e9)

    def public(self) -> dict[str, int]:
        return {"count": self.count, "ns": self.ns}


@dataclass
class VersionStats:
    last_inference_ms: int = 0
    inference_count: int = 0
    execution_count: int = 0
    success: Duration = field(default_factory=Duration)
    fail: Duration = field(default_factory=Duration)
    queue: Duration = field(default_factory=Duration)
    compute_infer: Duration = field(default_factory=Duration)
    batches: dict[int, Duration] = field(default_factory=dict)  # batch rows -> compute

    def answered(self, rows: int, seconds: float) -> None:
        self.success.add(seconds)
        self.inference_count += rows
        self.last_inference_ms = int(time.time() * 1000)

    def failed(self, seconds: float) -> None:
        self.fail.add(seconds)
        self.last_inference_ms = int(time.time() * 1000)

    def executed(self, rows: int, seconds: float) -> None:
        self.execution_count += 1
        self.compute_infer.add(seconds)
        self.batches.setdefault(rows, Duration()).add(seconds)

    def public(self, name: str, version: int) -> dict[str, Any]:
        zero = Duration().public()
        return {
            "name": name,
            "version": str(version),
            "last_inference": self.last_inference_ms,
            "inference_count": self.inference_count,
            "execution_count": self.execution_count,
            "inference_stats": {
                "success": self.success.public(),
                "fail": self.fail.public(),
                "queue": self.queue.public(),
                # no separate input or output step: rows reach the model as they are, or
                # move to the GPU inside the forward, which compute_infer times
                "compute_input": zero,
                "compute_infer": self.compute_infer.public(),
                "compute_output": zero,
                "cache_hit": zero,
            },
            "batch_stats": [
                {
                    "batch_size": rows,
                    "compute_input": {"count": d.count, "ns": 0},
                    "compute_infer": d.public(),
                    "compute_output": {"count": d.count, "ns": 0},
                }
                for rows, d in sorted(self.batches.items())
            ],
        }


class InferenceStats:
    """Every version's statistics in this process, kept across unloads and reloads."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, int], VersionStats] = {}

    def of(self, name: str, version: int) -> VersionStats:
        found = self._versions.get((name, version))
        if found is None:
            found = self._versions[(name, version)] = VersionStats()
        return found

    def public(self, name: str, version: int) -> dict[str, Any]:
        found = self._versions.get((name, version)) or VersionStats()
        return found.public(name, version)
