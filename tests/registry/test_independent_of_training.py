"""The registry registers versions and knows nothing of jobs: no module of service/registry
imports service.training (at the top, inside a function, or for typing only), so the
import cycle between the two cannot come back."""

from __future__ import annotations

import ast
from pathlib import Path

import service.registry

REGISTRY = Path(service.registry.__file__).parent
FORBIDDEN = "service.training"


def imported_modules(source: str, package: str) -> set[str]:
    """Every module an import statement in `source` names (relative ones resolved
    against `package`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def names_training(module: str) -> bool:
    return module == FORBIDDEN or module.startswith(FORBIDDEN + ".")


def test_the_check_sees_every_form_of_import() -> None:
    samples = [
        "from service.training.tables import Job",
        "import service.training.service",
        "from service import training",
        "def f():\n    from service.training import lifecycle\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from service.training import x\n",
        "from ..training import schemas",
    ]
    for source in samples:
        modules = imported_modules(source, "service.registry")
        assert any(names_training(m) for m in modules), source
    assert not any(
        names_training(m)
        for m in imported_modules("from service.trainingwheels import x", "service.registry")
    )


def test_no_registry_module_imports_training() -> None:
    files = sorted(REGISTRY.rglob("*.py"))
    assert len(files) >= 5  # the package is where this test looks for it
    offenders = {
        str(path.relative_to(REGISTRY)): sorted(
            m for m in imported_modules(path.read_text(), "service.registry") if names_training(m)
        )
        for path in files
    }
    assert {path: found for path, found in offenders.items() if found} == {}
