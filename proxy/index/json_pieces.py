"""Decode a large PEP 691 page in pieces, so no single call holds the GIL for long.

``orjson.loads`` of a 10,000-file page (4 MB) takes 10-25 ms in one C call that never
lets another thread run: an event loop waiting for the GIL meanwhile answers nothing.
``loads`` decodes the top-level ``files`` array a few hundred kilobytes at a time,
each piece on its own, and the rest of the document apart; the result is exactly what
``orjson.loads(body)`` returns (and whatever is not such a page is decoded whole).

Why a split is never wrong: a piece is cut only where ``}`` ``,`` ``{`` meet, and each is
decoded as ``[`` + piece + ``]``. A cut inside a string leaves that string unterminated,
and a cut inside a nested value leaves a bracket open, so either makes its piece invalid
JSON; the array's end is taken only where both the last piece and the document around
the array decode. Any doubt (an invalid piece, a second ``"files"`` key, a document that
does not start as an object) falls back to one ``orjson.loads`` of the whole body, which
also raises the usual error for a body that is not JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

D = TypeVar("D")

#: Bodies smaller than this are decoded whole (a few milliseconds at most).
WHOLE_BELOW = 256 * 1024
#: About how many bytes of the ``files`` array one piece holds.
PIECE = 128 * 1024
#: How far into the body the ``files`` key is looked for.
PREFIX_LIMIT = 64 * 1024

_BETWEEN_ENTRIES = re.compile(rb"\}\s*,\s*\{")
_ARRAY_END = re.compile(rb"\}\s*\]")
_FILES_KEY = b'"files"'


def loads(body: bytes) -> Any:
    """``orjson.loads(body)``, in pieces when ``body`` is a large page (see module doc)."""
    if len(body) < WHOLE_BELOW:
        return orjson.loads(body)
    split = split_files(body, _orjson_array, _orjson_document)
    if split is None:
        return orjson.loads(body)
    entries, document = split
    document["files"] = entries
    return document


def split_files(
    body: bytes,
    decode_array: Callable[[bytes], list[Any] | None],
    decode_document: Callable[[bytes], D | None],
) -> tuple[list[Any], D] | None:
    """The entries of ``body``'s top-level ``files`` array, decoded a piece at a time,
    and the document around the array, or ``None`` when ``body`` cannot be split so (then
    decode it whole). ``decode_array`` decodes a JSON array (``None``: not valid JSON, so
    the cut was not between entries); ``decode_document`` decodes the document with an
    empty ``files`` array (``None``: not such a document). Whatever else they raise
    goes to the caller."""
    start = _files_array_start(body)
    if start is None:
        return None
    entries: list[Any] = []
    position = start
    while True:
        cut = _BETWEEN_ENTRIES.search(body, position + PIECE)
        if cut is None:
            break
        piece = decode_array(b"[" + body[position : cut.start() + 1] + b"]")
        if piece is None:  # the cut fell inside a string or a nested value: try the next
            cut = _next_valid_cut(body, position, cut.end(), decode_array)
            if cut is None:
                break
            piece, end = cut
        else:
            end = cut.end() - 1
        entries += piece
        position = end  # at the "{" of the next entry
    rest = _last_piece(body, position, start, decode_array, decode_document)
    if rest is None:
        return None
    piece, document = rest
    entries += piece
    return entries, document


def _orjson_array(text: bytes) -> list[Any] | None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def _orjson_document(text: bytes) -> dict[str, Any] | None:
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict) or document.get("files") != []:
        return None
    return document


def _files_array_start(body: bytes) -> int | None:
    """The offset just past the ``[`` of the top-level ``"files"`` array, found by a
    scan of the document's opening (strings and nesting followed), or ``None``."""
    depth, i, limit = 0, 0, min(len(body), PREFIX_LIMIT)
    key_end = -1  # just past a "files" string in the top-level object
    while i < limit:
        c = body[i]
        if depth == 0 and c != 0x7B:
            if c in _WHITESPACE:
                i += 1
                continue
            return None  # not an object, or past its end
        if c == 0x22:  # a string: skip it, escapes included
            end = body.find(b'"', i + 1)
            while end >= 0 and _escaped(body, end):
                end = body.find(b'"', end + 1)
            if end < 0:
                return None
            if depth == 1 and body[i : end + 1] == _FILES_KEY:
                key_end = end + 1
            i = end + 1
            continue
        if c == 0x5B and depth == 1 and key_end >= 0 and body[key_end:i].strip() == b":":
            return i + 1
        if c in (0x7B, 0x5B):
            depth += 1
        elif c in (0x7D, 0x5D):
            depth -= 1
        i += 1
    return None


_WHITESPACE = frozenset(b" \t\r\n")


def _escaped(body: bytes, quote: int) -> bool:
    """Whether the ``"`` at ``quote`` is escaped (an odd run of backslashes before it)."""
    run = 0
    while body[quote - 1 - run] == 0x5C:
        run += 1
    return run % 2 == 1


def _next_valid_cut(
    body: bytes, start: int, after: int, decode_array: Callable[[bytes], list[Any] | None]
) -> tuple[list[Any], int] | None:
    """The entries from ``start`` up to the first later cut that decodes, and where the
    next piece starts; ``None`` when no later cut does."""
    for cut in _BETWEEN_ENTRIES.finditer(body, after):
        piece = decode_array(b"[" + body[start : cut.start() + 1] + b"]")
        if piece is not None:
            return piece, cut.end() - 1
    return None


def _last_piece(
    body: bytes,
    start: int,
    array_start: int,
    decode_array: Callable[[bytes], list[Any] | None],
    decode_document: Callable[[bytes], D | None],
) -> tuple[list[Any], D] | None:
    """The entries from ``start`` to the end of the array, and the document around the
    array (decoded with ``"files": []``), or ``None``."""
    tail = body.rfind(b"]")
    for end in _array_ends(body, start, tail):
        piece = decode_array(b"[" + body[start:end] + b"]")
        if piece is None:
            continue
        outside = body[:array_start] + body[end:]
        if outside.count(_FILES_KEY) != 1:
            return None  # "files" twice: a decoder keeps the last; decode it whole
        document = decode_document(outside)
        return None if document is None else (piece, document)
    return None


def _array_ends(body: bytes, start: int, tail: int) -> list[int]:
    """Candidate offsets of the array's closing ``]``, last first (the array usually
    ends near the document's end, after a short ``versions`` list)."""
    ends = [m.end() - 1 for m in _ARRAY_END.finditer(body, start, tail + 1)]
    ends.reverse()
    return ends
