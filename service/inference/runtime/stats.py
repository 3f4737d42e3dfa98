"""Per-version inference statistics, as the Open Inference Protocol's statistics extension
reports them (docs/inference.md); updated on the event loop only, so lock-free."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Duration:
    count: int = 0
    ns: int = 0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.ns += int(seconds * 1e9)


@dataclass
class VersionStats:
    last_inference_ms: int = 0
    inference_count: int = 0
    execution_count: int = 0
    success: Duration = field(default_factory=Duration)
    fail: Duration = field(default_factory=Duration)
    queue: Duration = field(default_factory=Duration)
    compute_infer: Duration = field(default_factory=Duration)
    batches: defaultdict[int, Duration] = field(default_factory=lambda: defaultdict(Duration))

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
        self.batches[rows].add(seconds)

    def public(self, name: str, version: int) -> dict[str, Any]:
        # no separate input or output step: rows reach the model as they are, or move to
        # the GPU inside the forward, which compute_infer times
        zero = asdict(Duration())
        timed = ("success", "fail", "queue", "compute_infer")
        return {
            "name": name,
            "version": str(version),
            "last_inference": self.last_inference_ms,
            "inference_count": self.inference_count,
            "execution_count": self.execution_count,
            "inference_stats": {
                **{key: asdict(getattr(self, key)) for key in timed},
                **{key: zero for key in ("compute_input", "compute_output", "cache_hit")},
            },
            "batch_stats": [
                {
                    "batch_size": rows,
                    "compute_input": {"count": d.count, "ns": 0},
                    "compute_infer": asdict(d),
                    "compute_output": {"count": d.count, "ns": 0},
                }
                for rows, d in sorted(self.batches.items())
            ],
        }
