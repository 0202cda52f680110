"""Code a module runs from its own literals, read as the module's own statements.

``exec("import os\\nos.system('...')")`` runs the literal's statements where the call
stands: at import when the call is at module level, inside a function when it is there.
``inline_literal_exec`` puts the parsed statements right after such a call, so every rule
reads them as it reads the rest of the module: with the same place, the same time of
running and the same names. The call itself stays (what feeds it is still ``literal``).

What counts as such a call: ``exec``, ``builtins.exec`` or ``eval`` of ``compile`` of the
text, where the text is a string or bytes literal, or a module-level name bound once to one
(``code = '''...'''`` then ``exec(code)``). A literal written over several lines keeps
its lines (a finding names the line of the literal it is on); one written on one line puts
every node on the line of the call. Inlined code is read the same way (a literal in a
literal), ``MAX_DEPTH`` levels deep and ``MAX_INLINED`` characters in all: past those the
literal is still read as nested source (``source._merge_nested``), only coarser.
"""

from __future__ import annotations

import ast
import re

from .statements import statement_lists

MAX_DEPTH = 3
MAX_INLINED = 256 * 1024


#: ``exec(``, ``builtins.exec(`` or ``__builtins__.exec(`` (not a method: ``cursor.exec(``):
#: a text without it has nothing to inline, and is not walked for it.
_EXEC_CALL = re.compile(r"(?:(?<![\w.])|builtins(?:__)?\.)exec\s*\(")


def may_run_literals(text: str) -> bool:
    """Whether ``text`` calls ``exec`` at all (cheap: a look at the text, no tree)."""
    return "exec" in text and _EXEC_CALL.search(text) is not None


def inline_literal_exec(tree: ast.Module) -> int:
    """Splice into ``tree``, after each statement that runs a literal as code, that
    literal's statements; returns how many were spliced."""
    budget = MAX_INLINED
    spliced = 0
    bound: dict[str, ast.Constant] | None = None
    for _ in range(MAX_DEPTH):
        found = 0
        for holder, field, statements in list(statement_lists(tree)):
            out: list[ast.stmt] = []
            for statement in statements:
                out.append(statement)
                if getattr(statement, "_pg_inlined", False):
                    continue
                target = _target(statement)
                if target is None:
                    continue
                statement._pg_inlined = True  # type: ignore[attr-defined]
                if isinstance(target, ast.Name):
                    if bound is None:
                        bound = _bound_once(tree)
                    literal = bound.get(target.id)
                else:
                    literal = target
                text = _text(literal) if literal is not None else None
                if text is None or len(text) > budget:
                    continue
                body = _parsed(text, literal, statement.lineno)  # type: ignore[arg-type]
                if body:
                    budget -= len(text)
                    out.extend(body)
                    found += 1
            if len(out) != len(statements):
                setattr(holder, field, out)
        spliced += found
        if not found:
            break
        bound = None  # (inlined code may bind names too)
    return spliced


def runs_built_text(tree: ast.Module) -> bool:
    """Whether a statement hands ``exec`` text built by an expression (``T[0]``,
    ``"".join([...])``), which ``constants`` may turn into a literal to inline first."""
    for _holder, _field, statements in statement_lists(tree):
        for statement in statements:
            argument = _argument(statement)
            if isinstance(argument, ast.Subscript | ast.Call):
                return True
    return False


def _bound_once(tree: ast.Module) -> dict[str, ast.Constant]:
    """Module-level names bound exactly once in the whole module, to a text literal."""
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            counts[node.id] = counts.get(node.id, 0) + 1
    bound: dict[str, ast.Constant] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and counts.get(node.targets[0].id) == 1
            and _text(node.value) is not None
        ):
            bound[node.targets[0].id] = node.value  # type: ignore[assignment]
    return bound


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return node.value
        if isinstance(node.value, bytes):
            return node.value.decode("utf-8", "replace")
    return None


def _target(statement: ast.stmt) -> ast.Constant | ast.Name | None:
    """What a statement hands ``exec`` (or ``eval`` of ``compile``) to run, when that is a
    literal or a name (``None`` for anything else)."""
    argument = _argument(statement)
    if isinstance(argument, ast.Name):
        return argument
    return argument if _text(argument) is not None else None  # type: ignore[return-value]


def _argument(statement: ast.stmt) -> ast.expr | None:
    """What a statement hands ``exec`` (or ``eval`` of ``compile``) to run."""
    if not isinstance(statement, ast.Expr | ast.Assign | ast.AnnAssign | ast.AugAssign):
        return None
    call = statement.value
    if not isinstance(call, ast.Call) or not call.args:
        return None
    name = _callee(call.func)
    argument = call.args[0]
    if name not in ("exec", "eval"):
        return None
    if isinstance(argument, ast.Call) and _callee(argument.func) == "compile" and argument.args:
        return argument.args[0]
    return None if name == "eval" else argument  # (eval of text: an expression, no statements)


def _callee(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in ("builtins", "__builtins__")
    ):
        return func.attr
    return ""


def _parsed(text: str, literal: ast.Constant, line: int) -> list[ast.stmt]:
    """``text``'s statements on the lines of ``literal`` (all on ``line``, the call's, for a
    literal on one line); none if it is no Python."""
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    first, last = literal.lineno, literal.end_lineno or literal.lineno
    for statement in body:
        for node in ast.walk(statement):
            if hasattr(node, "lineno"):
                at = min(first + node.lineno - 1, last) if last > first else line  # type: ignore[attr-defined]
                node.lineno = node.end_lineno = at  # type: ignore[attr-defined]
    return body
