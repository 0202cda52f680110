"""The statement lists of a tree, found without walking its expressions.

Rewrites that work on whole statements (``inlining``, ``spelled_imports``) need every list
of statements a module holds (a body, an ``else``, a ``finally``, a handler's or a
``case``'s body) and nothing else; walking every expression node to find them costs several
times more than the statements themselves.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def statement_lists(tree: ast.AST) -> Iterator[tuple[ast.AST, str, list[ast.stmt]]]:
    """``(holder, field, statements)`` for each list of statements under ``tree``, outer
    lists first; a list may be replaced (``setattr(holder, field, ...)``) or changed in
    place while the walk is paused at it (what it then holds is walked)."""
    todo: list[ast.AST] = [tree]
    while todo:
        holder = todo.pop()
        for field in _FIELDS:
            items = getattr(holder, field, None)
            if type(items) is not list or not items:
                continue
            if field in ("handlers", "cases"):
                todo.extend(items)  # an except handler or a match case: its body
                continue
            yield holder, field, items
            todo.extend(getattr(holder, field))  # (as it is after the caller's change)
