"""Source ``ast`` cannot parse whole, read into a tree anyway, every line where it was.

A file that does not parse on the scanner's Python is no proof that it never runs: it may be
Python 2, or use syntax newer than the scanner's (a ``type`` alias, a function's type
parameters, f-strings nesting their own quotes: Python 3.12; t-strings: 3.14). One line of
that is enough for ``ast`` to reject the whole file, and a payload beside it would go unread.
(A file that parses on no Python never runs: one broken statement keeps the whole module from
compiling.) In order:

1. Python 2 rewritten into Python 3 (``print x``, ``except E, e:``, ``exec code``);
2. newer statements rewritten into what they mean to a reader (``type X = Y`` as ``X = Y``, a
   function's or class's type parameters dropped);
3. f- and t-strings written as ``str.format`` calls (``fstrings``: a field may hold the
   string's own quotes from 3.12 on);
4. the top-level statements that still do not parse, when each holds an f- or t-string,
   blanked, and the rest parsed.

Only the reading changes: lines keep their numbers, so findings name the right ones.
"""

from __future__ import annotations

import ast
import re

from .fstrings import older_strings

_PY2 = re.compile(
    r"^[ \t]*(?:print[ \t]+[^\s(=]|exec[ \t]+[^\s(=]|except[^:\n]*,[ \t]*\w+[ \t]*:)", re.M
)
_PY2_REWRITES = (
    (re.compile(r"^([ \t]*)print[ \t]*>>[ \t]*[\w.]+[ \t]*,?(.*)$", re.M), r"\1print(\2)"),
    (re.compile(r"^([ \t]*)print(?:[ \t]+([^\s(=].*?))?[ \t]*$", re.M), r"\1print(\2)"),
    (re.compile(r"^([ \t]*)exec[ \t]+([^\s(=].*?)(?:[ \t]+in[ \t]+[^\n]*)?$", re.M), r"\1exec(\2)"),
    (re.compile(r"^([ \t]*except[^:\n]*?)[ \t]*,[ \t]*(\w+)[ \t]*:", re.M), r"\1 as \2:"),
    (re.compile(r"^([ \t]*raise[ \t]+[\w.]+)[ \t]*,[ \t]*(.+?)[ \t]*$", re.M), r"\1(\2)"),
    (re.compile(r"(?<![\w.])0([0-7]+)\b"), r"0o\1"),
    (re.compile(r"(?<![\w.])(\d+)[lL]\b"), r"\1"),
    (re.compile(r"\b[uU]([rR]?['\"])"), r"\1"),
    (re.compile(r"<>"), "!="),
)
#: Python 3.12's statements a 3.11 parser rejects, as the assignments and definitions they are.
_NEWER_REWRITES = (
    (re.compile(r"^([ \t]*)type[ \t]+(\w+)[ \t]*(?:\[[^\]\n]*\])?[ \t]*=", re.M), r"\1\2 ="),
    (re.compile(r"^([ \t]*(?:async[ \t]+)?def[ \t]+\w+)[ \t]*\[[^\]\n]*\][ \t]*\(", re.M), r"\1("),
    (re.compile(r"^([ \t]*class[ \t]+\w+)[ \t]*\[[^\]\n]*\]", re.M), r"\1"),
)
#: An f- or t-string's opening (Python 3.12 reads f-strings anew; 3.14 adds t-strings).
_NEWER_STRING = re.compile(r"(?<!\w)(?:[rR]?[fFtT]|[fFtT][rR])['\"]")
#: Lines at the left margin that go on the statement before them.
_CONTINUES = re.compile(r"(?:else|elif|except|finally)\b|[)\]}]")
#: Past these, a file is read by ``source``'s line reading instead (a parse per block).
_MAX_BLOCKS = 2000


def parse_recovered(text: str) -> tuple[ast.Module, str] | None:
    """A tree of ``text`` (which ``ast.parse`` rejects) by the steps above, and the text of
    the statements it leaves out (every other line blank: for a coarser reading), or
    ``None``."""
    if _PY2.search(text):
        text = _rewritten(text, _PY2_REWRITES)
        tree = _parse(text)
        if tree is not None:
            return tree, ""
    newer = _rewritten(text, _NEWER_REWRITES)
    if newer != text:
        tree = _parse(newer)
        if tree is not None:
            return tree, ""
    if _NEWER_STRING.search(newer):
        older = older_strings(newer)
        if older is not None:
            tree = _parse(older)
            if tree is not None:
                return tree, ""
            return _salvaged(older, newer)
    return _salvaged(newer, newer)


def _rewritten(text: str, rewrites: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    for pattern, replacement in rewrites:
        text = pattern.sub(replacement, text)
    return text


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _salvaged(text: str, original: str) -> tuple[ast.Module, str] | None:
    """``text`` with each top-level statement that does not parse on its own blanked (its
    decorators with it), parsed; ``None`` when nothing was blanked, a statement that does
    not parse held no f- or t-string in ``original`` (broken, not newer), or the rest does
    not parse. ``original`` has ``text``'s lines (``text`` is it with its f-strings
    rewritten, or itself); the left-out statements are given as ``original`` spells them."""
    lines = text.splitlines(keepends=True)
    before = original.splitlines(keepends=True)
    if len(before) != len(lines):
        before = lines
    starts = [
        number
        for number, line in enumerate(lines)
        if line[:1] not in ("", " ", "\t", "\r", "\n", "#", "\f")
        and not _CONTINUES.match(line)
        and not (number and lines[number - 1].startswith("@"))  # a decorated definition
    ]
    if not starts or len(starts) > _MAX_BLOCKS:
        return None
    kept = list(lines[: starts[0]])
    left = ["\n"] * starts[0]
    for first, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        block = lines[first:end]
        blank = ["\n"] * len(block)
        broken = _parse("".join(block)) is None
        if broken and not _NEWER_STRING.search("".join(before[first:end])):
            return None
        kept += blank if broken else block
        left += before[first:end] if broken else blank
    if kept == lines:
        return None
    tree = _parse("".join(kept))
    return None if tree is None else (tree, "".join(left))
