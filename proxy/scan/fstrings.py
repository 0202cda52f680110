"""f-strings (and t-strings) of Python 3.12 and later, rewritten as ``str.format`` calls a
3.11 parser reads.

Python 3.12 (PEP 701) lets an f-string's replacement fields hold anything an expression
may: the f-string's own quotes (``f"{d["key"]}"``), backslashes, comments, newlines, other
f-strings nested to any depth; 3.14 adds t-strings (``t"..."``, PEP 750). A 3.11 ``ast``
rejects the whole file over one of them, so a payload in the same function would go unread.

``older_strings(text)`` finds every f- and t-string in ``text`` with a small lexer (strings,
comments and brackets) and writes it as what it means to a reader:
``f"https://{host}/x?u={user!r}"`` becomes ``"https://{}/x?u={!r}".format(host, user)``.
Literal parts keep their source form and the expressions their text (each rewritten in turn),
so the scanner's rules see the same constants and calls; line breaks stay where they were,
so findings name the right lines. An f-string this Python parses as it is stays as it is. It
returns ``None`` when nothing needed rewriting, or when a string does not end (broken
source: the caller falls back).
"""

from __future__ import annotations

import ast
import re

#: A string's prefix and opening quote: group 1 the prefix, group 2 the quote.
_OPENING = re.compile(r"(?<![\w])([rRbBuUfFtT]{0,2})('''|\"\"\"|'|\")")
_TEMPLATE = frozenset("fFtT")
#: Nested f-strings past this depth are left to the caller's fallback.
_MAX_DEPTH = 32


class _Unended(Exception):
    """A string or a replacement field does not end before the text does."""


def older_strings(text: str, keep_readable: bool = True) -> str | None:
    """``text`` with its f- and t-strings written as ``str.format`` calls (those this Python
    parses as they are kept, unless ``keep_readable`` is false), or ``None``."""
    try:
        rewritten, changed = _code(text, 0, len(text), 0, keep_readable)
    except (_Unended, RecursionError):
        return None
    return rewritten if changed else None


def _code(
    text: str, start: int, end: int, depth: int, keep_readable: bool = True
) -> tuple[str, bool]:
    """Code between ``start`` and ``end`` with its f-strings rewritten; whether any was."""
    if depth > _MAX_DEPTH:
        raise _Unended
    out: list[str] = []
    changed = False
    position = start
    while position < end:
        char = text[position]
        if char == "#":
            newline = text.find("\n", position, end)
            stop = end if newline < 0 else newline
            out.append(text[position:stop])
            position = stop
            continue
        match = _OPENING.match(text, position) if char in "rRbBuUfFtT'\"" else None
        if match is None or (position and _word(text[position - 1])):
            out.append(char)
            position += 1
            continue
        prefix, quote = match.group(1), match.group(2)
        body = match.end()
        if _TEMPLATE.isdisjoint(prefix):
            close = _plain_end(text, body, end, quote, raw="r" in prefix.lower())
            out.append(text[position:close])
            position = close
            continue
        written, after = _template(text, body, end, prefix, quote, depth, keep_readable)
        as_written = text[position:after]
        if keep_readable and _reads(as_written):
            out.append(as_written)  # an f-string this Python reads itself: kept as it is
        else:
            out.append(written)
            changed = True
        position = after
    return "".join(out), changed


def _reads(source: str) -> bool:
    """Whether this Python parses ``source`` as an expression."""
    try:
        ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _plain_end(text: str, position: int, end: int, quote: str, raw: bool) -> int:
    """Where a string without replacement fields that opened before ``position`` ends
    (past its closing quote). A backslash keeps the next character, raw or not."""
    while position < end:
        if text.startswith(quote, position):
            return position + len(quote)
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == "\n" and len(quote) == 1 and not raw:
            raise _Unended
        position += 1
    raise _Unended


def _template(
    text: str, position: int, end: int, prefix: str, quote: str, depth: int, keep: bool
) -> tuple[str, int]:
    """The f-string whose body starts at ``position`` as ``"<literal>".format(...)``, and
    where it ends."""
    raw = "r" in prefix.lower()
    literal: list[str] = []
    fields: list[str] = []
    while True:
        if position >= end:
            raise _Unended
        if text.startswith(quote, position):
            position += len(quote)
            break
        char = text[position]
        if char == "\\" and not raw:
            literal.append(text[position : position + 2])
            position += 2
        elif char in "{}" and text.startswith(char * 2, position):
            literal.append(char * 2)
            position += 2
        elif char == "{":
            placeholder, position = _field(text, position + 1, end, fields, depth, keep)
            literal.append(placeholder)
        else:
            literal.append(char)
            position += 1
    text_of = "".join(literal)
    if not fields:
        text_of = text_of.replace("{{", "{").replace("}}", "}")  # no format() to undo them
    plain = "".join(ch for ch in prefix if ch.lower() == "r") + quote + text_of + quote
    if not fields:
        return plain, position
    return f"{plain}.format({', '.join(fields)})", position


def _field(
    text: str, position: int, end: int, fields: list[str], depth: int, keep: bool
) -> tuple[str, int]:
    """A replacement field whose expression starts at ``position``: its expression (with
    its own f-strings rewritten) added to ``fields``, its placeholder (``{}``, ``{!r}``,
    ``{:>{}}``) and where it ends (past its ``}``)."""
    start = position
    brackets = 0
    while True:
        if position >= end:
            raise _Unended
        char = text[position]
        if char in "([{":
            brackets += 1
        elif char in ")]" or (char == "}" and brackets):
            brackets -= 1
        elif char == "#":
            newline = text.find("\n", position, end)
            position = end if newline < 0 else newline
            continue
        elif char in "'\"" or (
            char in "rRbBuUfFtT"
            and _OPENING.match(text, position)
            and not _word(text[position - 1])
        ):
            match = _OPENING.match(text, position)
            if match is None:
                raise _Unended
            if _TEMPLATE.isdisjoint(match.group(1)):
                position = _plain_end(
                    text, match.end(), end, match.group(2), raw="r" in match.group(1).lower()
                )
            else:
                position = _template(
                    text, match.end(), end, match.group(1), match.group(2), depth + 1, keep
                )[1]
            continue
        elif not brackets and (
            char == "}"
            or (char == "!" and not text.startswith("!=", position))
            or (char == ":")
            or (char == "=" and _debug_equals(text, position))
        ):
            break
        position += 1
    expression, _ = _code(text, start, position, depth + 1, keep)
    fields.append(expression.strip() or "None")
    placeholder = ["{"]
    if text[position] == "=":
        position += 1  # `f"{x=}"`: the text "x=" then the value; read as the value
        while position < end and text[position] in " \t":
            position += 1
    if text[position] == "!":
        placeholder.append(text[position : position + 2])
        position += 2
    if text[position] == ":":
        placeholder.append(":")
        position += 1
        while position < end and text[position] != "}":
            if text[position] == "{":
                inner, position = _field(text, position + 1, end, fields, depth + 1, keep)
                placeholder.append(inner)
            else:
                placeholder.append(text[position])
                position += 1
    if position >= end or text[position] != "}":
        raise _Unended
    placeholder.append("}")
    return "".join(placeholder), position + 1


def _debug_equals(text: str, position: int) -> bool:
    """Whether the ``=`` at ``position`` ends a self-documenting field (``{x=}``,
    ``{x = !r}``) rather than being part of ``==``, ``<=``, ``>=`` or ``!=``."""
    if text.startswith("==", position) or text[position - 1] in "=<>!":
        return False
    rest = text[position + 1 : position + 40].lstrip(" \t")
    return rest[:1] in ("}", "!", ":")
