"""CI runs the quality benchmark's quick checks: each claim must hold in direction."""

from __future__ import annotations

import pytest

from benchmarks.quality import run_checks


@pytest.mark.slow
@pytest.mark.any_database
def test_quality_claims_hold_in_direction() -> None:
    checks = run_checks(quick=True)
    failed = {c.name: c.value for c in checks if not c.direction}
    assert not failed, f"quality checks failed: {failed}"
