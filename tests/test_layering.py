"""STYLE.md's layering, checked on the source: ``engine`` never imports ``api``; ASL and Flows never import each other."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

FORBIDDEN = {  # package (folder under the root) -> packages it must not import
    "engine": ("api",),
    "engine/asl": ("engine.flows",),
    "engine/flows": ("engine.asl",),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in a module, relative imports resolved, lazy ones included."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        package = ".".join(path.relative_to(ROOT).parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found += [(node.lineno, f"{base}.{alias.name}" if base else alias.name) for alias in node.names]
    return found


def violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for line, module in imported_modules(path):
            if any(module == name or module.startswith(name + ".") for name in forbidden):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize(("folder", "forbidden"), FORBIDDEN.items(), ids=list(FORBIDDEN))
def test_layering(folder: str, forbidden: tuple[str, ...]) -> None:
    assert violations(folder, forbidden) == []


def test_the_check_sees_absolute_relative_and_lazy_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    package = tmp_path / "engine" / "asl"
    package.mkdir(parents=True)
    (package / "x.py").write_text(
        "import api.app\n"
        "from ..flows import nodes\n"
        "def f():\n    from api import errors\n")
    assert violations("engine", ("api",)) == ["engine/asl/x.py:1 imports api.app", "engine/asl/x.py:4 imports api.errors"]
    assert violations("engine/asl", ("engine.flows",)) == ["engine/asl/x.py:2 imports engine.flows.nodes"]
