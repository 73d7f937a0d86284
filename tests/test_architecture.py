"""The layering the design card promises, checked by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{module} imports {name}"
        for module, names in imported_modules(package).items()
        for name in sorted(names)
        if name.split(".")[0] in forbidden or name in forbidden
    ]


@pytest.mark.parametrize("package", ["bot", "storage"])
def test_core_and_storage_know_no_chat_platform_or_frontend(package: str) -> None:
    assert offenders(package, ("telegram", "discord", "handlers")) == []


@pytest.mark.parametrize("package", ["bot", "handlers"])
def test_only_storage_touches_sqlite(package: str) -> None:
    assert offenders(package, ("sqlite3", "aiosqlite")) == []


def test_every_module_has_a_docstring() -> None:
    missing = [
        str(path.relative_to(ROOT))
        for package in ("bot", "storage", "handlers", "bench")
        for path in (ROOT / package).rglob("*.py")
        if path.stat().st_size and ast.get_docstring(ast.parse(path.read_text("utf-8"))) is None
    ]
    assert missing == []


@pytest.mark.parametrize(("frontend", "other"), [("telegram", "discord"), ("discord", "telegram")])
def test_frontends_never_import_each_other(frontend: str, other: str) -> None:
    # What both need belongs in the core; a third platform should need neither.
    assert offenders(f"handlers/{frontend}", (f"handlers.{other}", other)) == []
