"""The core imports only the standard library, itself, and the IC's value modules (DESIGN section 5).

``icp_client.principal`` is allowed because a principal is a plain value the core's rules are about, and
``icp_client.management`` for the IC's limits (one definition of ``MAX_CONTROLLERS`` and the module size); the
last test proves those modules (and the error module they use) import only the standard library in turn.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import canister_factory._core as core
import icp_client.errors
import icp_client.management
import icp_client.principal

CORE_DIR = Path(core.__file__).parent
CORE_FILES = sorted(CORE_DIR.rglob("*.py"))


def imported_modules(source: str) -> list[str]:
    """Every absolute module an import statement of ``source`` names (relative imports as ``.name``)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


def is_allowed(module: str) -> bool:
    if module.startswith("."):
        return True  # relative: stays inside canister_factory._core
    top = module.split(".")[0]
    return (
        top in sys.stdlib_module_names
        or top == "__future__"
        or module.split(".")[:2] == ["canister_factory", "_core"]
        or module in VALUE_MODULES
    )


VALUE_MODULES = {"icp_client.principal", "icp_client.management"}


def test_core_has_modules() -> None:
    assert {p.name for p in CORE_FILES} >= {
        "config.py",
        "access.py",
        "uploads.py",
        "lifecycle.py",
        "errors.py",
    }


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_module_imports_only_stdlib_and_core(path: Path) -> None:
    bad = [m for m in imported_modules(path.read_text(encoding="utf-8")) if not is_allowed(m)]
    assert bad == [], f"{path.name} imports outside the standard library and the core: {bad}"


@pytest.mark.parametrize(
    ("source", "allowed"),
    [
        ("import hashlib", True),
        ("from canister_factory._core.errors import FactoryError", True),
        ("import sqlalchemy", False),
        ("from canister_factory.store import db", False),
        ("import canister_factory", False),
        ("from icp_client.principal import Principal", True),
        ("from icp_client.candid import encode", False),
        ("def f():\n    import httpx\n", False),
    ],
)
def test_checker_catches_outside_imports(source: str, allowed: bool) -> None:
    assert all(is_allowed(m) for m in imported_modules(source)) is allowed


@pytest.mark.parametrize(
    "module", [icp_client.principal, icp_client.errors, icp_client.management], ids=lambda m: m.__name__
)
def test_the_value_modules_import_only_stdlib(module: object) -> None:
    source = Path(module.__file__).read_text(encoding="utf-8")  # type: ignore[attr-defined]
    bad = [
        m
        for m in imported_modules(source)
        if m.split(".")[0] not in sys.stdlib_module_names
        and m not in {"__future__", "icp_client.errors", "icp_client.principal"}
    ]
    assert bad == []
