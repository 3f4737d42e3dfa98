"""The bad-input matrix (tests/bad_input.py) for the dashboard's static files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bad_input import (
    UNKNOWN,
    Case,
    World,
    assert_refused_and_unchanged,
)


def ui_cases() -> Iterator[Case]:
    route = "/ui/static/{filename}"
    yield Case("GET", route, "/ui/static/no-such-file.js", UNKNOWN, "file", 404)
    yield Case("GET", route, "/ui/static/index.html", UNKNOWN, "not-an-asset", 404)
    yield Case("GET", route, "/ui/static/..%2F__init__.py", UNKNOWN, "traversal", 404)


CASES: list[Case] = [*ui_cases()]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(bad_input_world: World, case: Case) -> None:
    assert_refused_and_unchanged(bad_input_world, case)
