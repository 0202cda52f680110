"""Imports spelled as calls, read as the import statements they are.

``subprocess = __import__("subprocess")`` and ``os = importlib.import_module("os")`` bind
the same module as ``import subprocess`` and ``import os``; only a reader (or a scanner
resolving ``subprocess.run`` through the module's imports) is kept from seeing it. Before
the facts are collected, ``respell_imports`` rewrites each such assignment of one name into
that ``import`` statement, at the same place and line, so ``subprocess.run`` resolves
(``run = __import__("subprocess").run``: ``from subprocess import run as run``).

``__import__("a.b")`` returns the package ``a`` (``import a``); ``import_module("a.b")``
returns ``a.b`` itself (``import a.b as name``). Only a literal module name, no package
argument for a relative one, and one name assigned.
"""

from __future__ import annotations

import ast

from .statements import statement_lists

_IMPORTERS = frozenset({"__import__", "import_module"})


def may_spell_imports(text: str) -> bool:
    """Whether ``text`` has an import spelled as a call at all (a look at the text)."""
    return "__import__(" in text or "import_module(" in text


def respell_imports(tree: ast.Module) -> int:
    """Rewrite, in ``tree``, ``name = __import__("x")`` and ``name =
    importlib.import_module("x")`` into ``import`` statements; returns how many."""
    count = 0
    for _holder, _field, statements in statement_lists(tree):
        for index, statement in enumerate(statements):
            spelled = _spelled(statement) if isinstance(statement, ast.Assign) else None
            if spelled is not None:
                # (Every node in place: the import's names take its line too.)
                statements[index] = ast.fix_missing_locations(ast.copy_location(spelled, statement))
                count += 1
    return count


def _spelled(statement: ast.Assign) -> ast.Import | ast.ImportFrom | None:
    if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
        return None
    name = statement.targets[0].id
    value = statement.value
    if isinstance(value, ast.Attribute):
        # `run = __import__("subprocess").run`: `from subprocess import run`.
        module = _imported(value.value)
        if module is None:
            return None
        return ast.ImportFrom(
            module=module, names=[ast.alias(name=value.attr, asname=name)], level=0
        )
    module = _imported(value)
    if module is None:
        return None
    return ast.Import(names=[ast.alias(name=module, asname=name)])


def _imported(call: ast.AST) -> str | None:
    """The module an import spelled as a call binds (``__import__("a.b")``: ``a``)."""
    if (
        not isinstance(call, ast.Call)
        or len(call.args) != 1
        or call.keywords
        or not isinstance(call.args[0], ast.Constant)
        or not isinstance(call.args[0].value, str)
    ):
        return None
    func = call.func
    # (`import importlib as il; il.import_module("os")`: any receiver of `import_module`.)
    importer = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
    module = call.args[0].value
    if importer not in _IMPORTERS or not module or module.startswith("."):
        return None
    if importer == "__import__":
        module = module.split(".")[0]
    if not all(part.isidentifier() for part in module.split(".")):
        return None
    return module
