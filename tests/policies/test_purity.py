"""policies/ stays pure: standard library and packaging only, no proxy, no clock, no files."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

POLICIES = Path(__file__).resolve().parents[2] / "policies"
MODULES = sorted(POLICIES.glob("*.py"))
FORBIDDEN_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("time", "time"), ("date", "today")}


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_only_stdlib_and_packaging(module: Path) -> None:
    tree = ast.parse(module.read_text())
    foreign = {name for name in _imports(tree) if name not in sys.stdlib_module_names}
    assert foreign <= {"packaging"}, f"{module.name} imports {foreign - {'packaging'}}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_no_clock_and_no_files(module: Path) -> None:
    tree = ast.parse(module.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                assert func.id != "open", f"{module.name}:{node.lineno} opens a file"
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                assert (func.value.id, func.attr) not in FORBIDDEN_CALLS, (
                    f"{module.name}:{node.lineno} reads the clock; inject `now` instead"
                )


def test_the_check_sees_the_modules() -> None:
    assert {"engine.py", "typosquat.py", "release_age.py"} <= {m.name for m in MODULES}
