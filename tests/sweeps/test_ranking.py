"""`best` and `recommended` (service.sweeps.values): the smallest code size within the
tolerance of the best, for a metric lower or higher is better."""

from __future__ import annotations

from typing import Any

from service.sweeps.values import best_of, recommended_of


def trials(*rows: tuple[int, float | None]) -> list[dict[str, Any]]:
    return [{"number": n, "code_size": k, "value": v} for n, (k, v) in enumerate(rows)]


def test_lower_is_better_picks_the_smallest_code_size_within_the_tolerance() -> None:
    rows = trials((2, 20.0), (4, 10.9), (8, 10.2), (16, 10.0), (4, None))
    assert best_of(rows, "val_mse")["number"] == 3  # type: ignore[index]
    assert recommended_of(rows, "val_mse", 0.1)["code_size"] == 4  # type: ignore[index]
    assert recommended_of(rows, "val_mse", 0.05)["code_size"] == 8  # type: ignore[index]
    assert recommended_of(rows, "val_mse", 0.0)["code_size"] == 16  # type: ignore[index]
    assert recommended_of(rows, "val_mse", 1.0)["code_size"] == 2  # type: ignore[index]


def test_higher_is_better_for_auroc() -> None:
    rows = trials((2, 0.70), (4, 0.88), (8, 0.95), (16, 0.96))
    assert best_of(rows, "auroc")["code_size"] == 16  # type: ignore[index]
    assert recommended_of(rows, "auroc", 0.1)["code_size"] == 4  # type: ignore[index]
    assert recommended_of(rows, "auroc", 0.02)["code_size"] == 8  # type: ignore[index]


def test_of_two_trials_at_the_recommended_size_the_better_one_and_none_without_values() -> None:
    rows = trials((4, 11.0), (4, 10.5), (8, 10.0))
    assert recommended_of(rows, "val_mse", 0.1)["number"] == 1  # type: ignore[index]
    assert best_of(trials((4, None)), "val_mse") is None
    assert recommended_of(trials((4, None)), "val_mse", 0.1) is None
