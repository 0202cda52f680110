"""Literals read where they are used: constants propagated through names and tables.

Obfuscators (and hand-written evasions) take every string out of the code that uses it:
into one list or dict used by index (``T = ["aW1wb3J0IG9z...", "python", "-c"]``, then
``exec(b64decode(T[0]))`` or ``[T[1], T[2], code]``), into a name each (``S1 = "python"``,
then ``Popen([S1, "-c", code])``), or into bytes decoded where used
(``b"python".decode()``). To a reader each use is that literal; to a rule that looks for a
literal fed to a decoder, a command or an address, it is a subscript, a name or a call.
``propagate_constants`` puts the literal in place of each such use, at the use's position,
before the facts are collected, so every rule reads it.

What is propagated:

- an entry of a *table*: a list, tuple or dict literal bound to a name, used as ``T[0]``,
  ``T["key"]`` or ``T.get("key")`` (an index or key written in) where the entry is a text or
  bytes literal;
- a *name* bound to a text or bytes literal of at most ``MAX_NAMED`` characters (also by
  unpacking: ``url, path = "https://...", "~/.aws/credentials"``; longer
  ones, payloads, are followed by name where they matter: ``source`` reads them as such);
- a table of text literals looped over (``for path in STORES:``): the literals themselves;
- ``b"...".decode()`` (UTF-8, ASCII or Latin-1, or no encoding given), ``"".join([...])``
  and ``"{}{}".format(...)`` of literals: the text.

A name (of a table or a literal) qualifies only when the whole module binds it once (no
other assignment, parameter, loop or ``with`` variable, import, definition, ``global`` or
exception name of that name anywhere) and never changes it in place (no item assignment or
deletion, no ``append``, ``update`` and the like).
"""

from __future__ import annotations

import ast

from .folding import decoded_bytes, joined_literals

#: Only the first entries of a table are read (a word list of a legitimate module may hold
#: tens of thousands).
MAX_ENTRIES = 4096
#: Names of longer literals are left as they are (each use would copy the literal).
MAX_NAMED = 2048
#: Methods that change a list or a dict in place.
_MUTATORS = frozenset(
    {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"}
    | {"update", "setdefault", "popitem", "__setitem__", "__delitem__"}
)


def propagate_constants(tree: ast.Module) -> int:
    """Replace, in ``tree``, each use of a name, table entry or bytes literal described
    above by the literal it stands for; returns how many were replaced."""
    return ScopedWalk(tree).propagate()


#: Where a literal may stand for a use: the use's parent, field, index in that field (-1:
#: the field holds it alone) and position in the walk's ``nodes``; and the use.
_Use = tuple[ast.AST, str, int, int, ast.AST]
#: Fields that never hold a node worth visiting: names, numbers, flags, contexts, operators.
_LEAF_FIELDS = frozenset(
    {"ctx", "op", "ops", "id", "attr", "name", "asname", "arg", "module", "level", "kind"}
    | {"conversion", "is_async", "type_comment"}
)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class ScopedWalk:
    """One pass over a tree, breadth first and without recursion (a chain of a thousand
    ``+`` nests a thousand deep): every node (``nodes``) with the id of the function it is in
    (``scopes``; ``0``: the module), expression contexts and operators left out; and for
    ``propagate``, what binds each name, which names change in place, the literal each name
    is assigned, and every use a literal may replace, with its place.

    ``source`` reads the facts off ``nodes`` after ``propagate``: a replaced use is replaced
    there too (what it was made of stays in the list: a table's name, the pieces of a join;
    each reads as the harmless fragment it is)."""

    def __init__(self, tree: ast.AST) -> None:
        self.bindings: dict[str, int] = {}
        self.assigned: dict[str, ast.AST] = {}
        self.changed: set[str] = set()
        self.uses: list[_Use] = []
        self.calls = 0  # uses that are calls (`.decode`, `.join`, `.format`, `.get`)
        self.nodes: list[ast.AST] = [tree]
        self.scopes: list[int] = [0]
        #: Ids of the literals ``propagate`` put in place of a name or a table's entry:
        #: copies of a literal the walk also found where it is written.
        self.copies: set[int] = set()
        uses, nodes, scopes, bindings = self.uses, self.nodes, self.scopes, self.bindings
        noted, name_kind, subscript_kind, call_kind, load = (
            _NOTED,
            ast.Name,
            ast.Subscript,
            ast.Call,
            ast.Load,
        )
        position = 0
        while position < len(nodes):
            node = nodes[position]
            kind = type(node)
            position += 1
            if kind is name_kind:
                # (The commonest node, and one with no children: bound here, not in `_note`.)
                if type(node.ctx) is not load:  # type: ignore[attr-defined]
                    bindings[node.id] = bindings.get(node.id, 0) + 1  # type: ignore[attr-defined]
                continue
            scope = id(node) if kind in _FUNCTIONS else scopes[position - 1]
            if kind in noted:
                self._note(node, kind)
            fields = _FIELDS.get(kind)
            if fields is None:
                fields = _FIELDS[kind] = tuple(f for f in kind._fields if f not in _LEAF_FIELDS)
            for field in fields:
                value = getattr(node, field, None)
                if type(value) is list:
                    pairs = enumerate(value)
                elif isinstance(value, ast.AST):
                    pairs = ((-1, value),)  # type: ignore[assignment]
                else:
                    continue
                for index, item in pairs:
                    child = type(item)
                    if child is name_kind or child is subscript_kind:
                        if type(item.ctx) is load:
                            uses.append((node, field, index, len(nodes), item))
                    elif child is call_kind:
                        func = item.func
                        if type(func) is ast.Attribute and func.attr in _CALLS:
                            uses.append((node, field, index, len(nodes), item))
                            self.calls += 1
                    elif not isinstance(item, ast.AST):
                        continue
                    nodes.append(item)
                    scopes.append(scope)

    def propagate(self) -> int:
        """Put each literal in place of its uses (in the tree and in ``nodes``); returns
        how many uses were replaced."""
        names, tables = self.bound_literals()
        if not (names or tables or self.calls):
            return 0
        sequences = {
            name: list(entries.values())
            for name, entries in tables.items()
            if type(self.assigned[name]) is not ast.Dict
            and len(entries) == len(self.assigned[name].elts)  # type: ignore[attr-defined]
        }
        replaced = 0
        # Children before their parents (the walk's order reversed): `"".join([S0, S1])`
        # joins the literals its names stand for.
        for parent, field, index, position, node in reversed(self.uses):
            if field == "iter" and type(node) is ast.Name and node.id in sequences:  # type: ignore[attr-defined]
                # `for path in STORES:` reads as `for path in ("~/.aws/credentials", ...)`.
                items = [ast.copy_location(ast.Constant(c.value), node) for c in sequences[node.id]]  # type: ignore[attr-defined]
                literal: ast.AST | None = ast.copy_location(ast.Tuple(items, ast.Load()), node)
            else:
                literal = _literal(node, names, tables)
            if literal is None:
                continue
            if index < 0:
                setattr(parent, field, literal)
            else:
                getattr(parent, field)[index] = literal
            self.nodes[position] = literal
            if type(node) is not ast.Call or node.func.attr == "get":  # type: ignore[attr-defined]
                self.copies.add(id(literal))
            replaced += 1
        return replaced

    def _bind(self, name: str) -> None:
        self.bindings[name] = self.bindings.get(name, 0) + 1

    def _note(self, node: ast.AST, kind: type) -> None:
        if kind is ast.Name:
            if type(node.ctx) is not ast.Load:  # type: ignore[attr-defined]
                self._bind(node.id)  # type: ignore[attr-defined]
        elif kind is ast.Assign:
            targets = node.targets  # type: ignore[attr-defined]
            value = node.value  # type: ignore[attr-defined]
            if len(targets) != 1:
                return
            if type(targets[0]) is ast.Name:
                self.assigned[targets[0].id] = value
            elif type(targets[0]) in _SEQUENCES and type(value) in _SEQUENCES:
                # `url, path = "https://...", "~/.aws/credentials"`: each name its literal.
                names, values = targets[0].elts, value.elts
                if len(names) == len(values):
                    for name, item in zip(names, values, strict=True):
                        if type(name) is ast.Name and type(item) is ast.Constant:
                            self.assigned[name.id] = item
        elif kind is ast.arg:
            self._bind(node.arg)  # type: ignore[attr-defined]
        elif kind is ast.alias:
            self._bind((node.asname or node.name).split(".")[0])  # type: ignore[attr-defined]
        elif kind in _DEFINITIONS:
            self._bind(node.name)  # type: ignore[attr-defined]
        elif kind in _NAMING:
            if node.name:  # type: ignore[attr-defined]
                self._bind(node.name)  # type: ignore[attr-defined]
        elif kind is ast.Global or kind is ast.Nonlocal:
            self.changed.update(node.names)  # type: ignore[attr-defined]
        elif kind in _CHANGING:
            name = _changed(node)
            if name:
                self.changed.add(name)

    def bound_literals(
        self,
    ) -> tuple[dict[str, ast.Constant], dict[str, dict[object, ast.Constant]]]:
        """(names bound once to a literal, names bound once to a table of literals)."""
        names: dict[str, ast.Constant] = {}
        tables: dict[str, dict[object, ast.Constant]] = {}
        for name, value in self.assigned.items():
            if self.bindings.get(name) != 1 or name in self.changed:
                continue
            kind = type(value)
            if kind is ast.Constant:
                if _is_text(value) and len(value.value) <= MAX_NAMED:  # type: ignore[attr-defined]
                    names[name] = value  # type: ignore[assignment]
            elif kind is ast.List or kind is ast.Tuple or kind is ast.Dict:
                entries = _entries(value)  # type: ignore[arg-type]
                if entries:
                    tables[name] = entries
        return names, tables


_CALLS = frozenset({"get", "decode", "join", "format"})
_SEQUENCES = frozenset({ast.Tuple, ast.List})
_DEFINITIONS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})
_NAMING = frozenset({ast.ExceptHandler, ast.MatchAs, ast.MatchStar})
_CHANGING = frozenset({ast.AugAssign, ast.Subscript, ast.Attribute})
#: Nodes that bind or change a name (``ScopedWalk._note``).
_NOTED = frozenset(
    {ast.Name, ast.Assign, ast.arg, ast.alias, ast.Global, ast.Nonlocal}
    | _DEFINITIONS
    | _NAMING
    | _CHANGING
)
_FIELDS: dict[type, tuple[str, ...]] = {ast.Constant: ()}


def _literal(
    node: ast.AST, names: dict[str, ast.Constant], tables: dict[str, dict[object, ast.Constant]]
) -> ast.Constant | None:
    """The literal ``node`` stands for, placed where ``node`` is; or ``None``."""
    value: object = None
    kind = type(node)
    if kind is ast.Name:
        literal = names.get(node.id)  # type: ignore[attr-defined]
        value = None if literal is None else literal.value
    elif kind is ast.Subscript:
        key = node.slice  # type: ignore[attr-defined]
        if type(key) is ast.Constant:
            entry = _entry(tables, node.value, key.value)  # type: ignore[attr-defined]
            value = None if entry is None else entry.value
    elif not node.keywords:  # type: ignore[attr-defined]
        func = node.func  # type: ignore[attr-defined]
        args = node.args  # type: ignore[attr-defined]
        if func.attr == "get":
            if len(args) == 1 and type(args[0]) is ast.Constant:
                entry = _entry(tables, func.value, args[0].value)
                value = None if entry is None else entry.value
        elif func.attr == "decode":
            value = decoded_bytes(node)  # type: ignore[arg-type]
        else:
            value = joined_literals(node)  # type: ignore[arg-type]
    if value is None:
        return None
    return ast.copy_location(ast.Constant(value), node)


def _entry(
    tables: dict[str, dict[object, ast.Constant]], table: ast.AST, key: object
) -> ast.Constant | None:
    if type(table) is not ast.Name or type(key) not in (int, str):
        return None
    entries = tables.get(table.id)  # type: ignore[attr-defined]
    return None if entries is None else entries.get(key)


def _changed(node: ast.AST) -> str:
    """The name whose value ``node`` changes in place (``T[0] = ...``, ``T.append``,
    ``T += ...``), or ""."""
    if isinstance(node, ast.AugAssign):
        target = node.target
    elif (isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load)) or (
        isinstance(node, ast.Attribute) and node.attr in _MUTATORS
    ):
        target = node.value
    else:
        return ""
    return target.id if isinstance(target, ast.Name) else ""


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str | bytes)


def _entries(value: ast.List | ast.Tuple | ast.Dict) -> dict[object, ast.Constant]:
    if isinstance(value, ast.Dict):
        pairs = [
            (key.value, item)
            for key, item in zip(value.keys, value.values, strict=True)
            if isinstance(key, ast.Constant)
        ]
    else:
        pairs = list(enumerate(value.elts))
    return {
        key: item
        for key, item in pairs[:MAX_ENTRIES]
        if isinstance(key, int | str) and _is_text(item)
    }  # type: ignore[misc]
