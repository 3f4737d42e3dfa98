"""`make test-fast` skips the slow tests; `make test` (and so CI, .ci/run) runs them all,
and every fault test is one of the slow ones."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def recipe(target: str) -> str:
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert found, f"no {target} target"
    return found.group(1)


def marks_module(source: str, marker: str) -> bool:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            return f"pytest.mark.{marker}" in ast.unparse(node.value)
    return False


def test_test_fast_skips_the_slow_tests_and_test_runs_everything() -> None:
    fast = recipe("test-fast")
    assert "not slow" in fast and "not cluster" in fast
    # every test (TEST_ENV sets only PYTHONDONTWRITEBYTECODE, no selection)
    assert recipe("test").split() == ["$(TEST_ENV)", "$(PY)", "-m", "pytest", "$(PYTEST_ARGS)"]
    test_env = re.search(r"^TEST_ENV := (.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert test_env and test_env.group(1).split() == ["PYTHONDONTWRITEBYTECODE="]
    ci = (ROOT / ".ci" / "run").read_text()
    runs = re.findall(r"^make test\b.*$", ci, flags=re.MULTILINE)
    assert runs and all("test-fast" not in r for r in runs)
    # each database's run is three parts, `-m 'not (X)'`, `-m '(X) and not alone'` and
    # `-m '(X) and alone'`: the first (SQLite) the whole suite, the second (PostgreSQL) all but
    # the tests marked any_database
    selections = [m.group(1) if (m := re.search(r"-m '([^']*)'", r)) else None for r in runs]
    slow = "(slow or cluster or ray)"
    assert selections == [
        f"not {slow}",
        f"{slow} and not alone",
        f"{slow} and alone",
        f"not {slow} and not any_database",
        f"{slow} and not alone and not any_database",
        f"{slow} and alone and not any_database",
    ]
    # the tests marked alone run one at a time: no -n
    assert [("-n 2" in r) for r in runs] == [True, True, False, True, True, False]


def test_every_fault_module_is_marked_slow() -> None:
    modules = sorted((ROOT / "tests" / "fault").glob("test_*.py"))
    assert modules
    unmarked = [m.name for m in modules if not marks_module(m.read_text(), "slow")]
    assert unmarked == []


def test_the_module_check_can_fail() -> None:
    assert marks_module("import pytest\npytestmark = pytest.mark.slow\n", "slow")
    assert marks_module("pytestmark = [pytest.mark.slow, pytest.mark.gpu]\n", "slow")
    assert not marks_module("pytestmark = pytest.mark.cluster\n", "slow")
    assert not marks_module("def test_x() -> None:\n    pass\n", "slow")
