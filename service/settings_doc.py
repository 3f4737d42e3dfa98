"""docs/configuration.md, generated from `Settings` (aesvc settings-doc; checked in CI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from service.config import SETTING_GROUPS, Settings, group_of

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
HEADER = """# Configuration reference

Generated from `Settings` in `service/config.py` by `aesvc settings-doc` (`make openapi`
runs it too); `make lint` fails when this file is out of date. Every setting is read from
the environment with the prefix `AESVC_` (pydantic-settings); `aesvc serve --host --port
--workers` override three of them. A tuple is given as JSON, e.g.
`AESVC_WARMUP_BATCH_ROWS='[1, 32]'`. The settings come in groups, one section each
below; the group is only where a setting is documented, never part of its name.
"""
TABLE_HEAD = """| variable | type | default | meaning |
|---|---|---|---|
"""


def _default(field: Any) -> str:
    value = field.default
    if value is PydanticUndefined:
        return "(required)"
    if value is None:
        return "unset"
    if isinstance(value, Path):
        return f"`{value if value.is_absolute() else f'./{value}'}`"
    if isinstance(value, tuple):
        return f"`{json.dumps(list(value))}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int) and value >= 1 << 20 and value & (value - 1) == 0:
        return f"`{value}` ({_bytes(value)})"
    return f"`{value}`"


def _bytes(value: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20)):
        if value >= 1 << shift:
            return f"{value >> shift} {unit}"
    return f"{value} B"


def _type(field: Any) -> str:
    text = str(field.annotation).replace("typing.", "").replace("pathlib.", "")
    return text.replace("<class '", "").replace("'>", "").replace("|", "\\|")


def _row(name: str, field: Any) -> str:
    meaning = (field.description or "").replace("\n", " ").replace("|", "\\|")
    return f"| `AESVC_{name.upper()}` | {_type(field)} | {_default(field)} | {meaning} |"


def render() -> str:
    ungrouped = [name for name in Settings.model_fields if group_of(name) is None]
    if ungrouped:  # it would be missing from the page
        raise ValueError(f"settings without a group (service.config.setting): {ungrouped}")
    sections = []
    for group, title in SETTING_GROUPS.items():
        rows = [
            _row(name, field)
            for name, field in Settings.model_fields.items()
            if group_of(name) == group
        ]
        sections.append(f"## {title}\n\n" + TABLE_HEAD + "\n".join(rows) + "\n")
    return HEADER + "\n" + "\n".join(sections)
