"""The text that an expression built of literals spells, computed without running it.

``fold`` reads the pieces a payload hides its strings in: sums of literals and character
codes (``"ht" + "tp"``, ``chr(104) + ...``), ``%`` and ``format``, joins, f-strings of
literals, text read backwards (``[::-1]``), ROT13, and ``b64decode``/``unhexlify``/base32
of a literal followed by ``.decode()``; a name stands for what ``bound(name)`` says.
``joined_literals`` and ``decoded_bytes`` are the narrow cases the constants pass
(``constants.py``) rewrites in the tree itself: ``"".join([...])``/``"{}".format(...)`` of
plain literals and ``b"...".decode()``; nothing wider, so that the calls the rules look for
(a decoder before ``exec``) stay in the tree. All of it is pure data transformation of
bounded size.
"""

from __future__ import annotations

import ast
import base64
import binascii
import codecs
import re
import string

#: Text that grows past this many characters is not folded (``None``).
MAX_FOLD = 4096

#: Decoders of text written into the code, by the last part of their name (``b64decode``,
#: ``base64.b64decode``, an alias's ``_b.b64decode``), and what each does.
LITERAL_DECODERS = {
    "b64decode": lambda raw: base64.b64decode(raw + b"=" * (-len(raw) % 4)),
    "urlsafe_b64decode": lambda raw: base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4)),
    "b32decode": base64.b32decode,
    "unhexlify": binascii.unhexlify,
    "fromhex": lambda raw: binascii.unhexlify(raw.replace(b" ", b"")),
}


def fold(node: ast.AST, bound, depth: int = 0) -> str | None:  # type: ignore[no-untyped-def]
    """The text an expression of literals spells (``bound(name)``: a name's literal), or
    ``None`` where any part is not a literal or the text grows past ``MAX_FOLD``."""
    kind = type(node)
    if kind is ast.Constant:
        return node.value if type(node.value) is str else None  # type: ignore[attr-defined]
    if depth > 16:
        return None
    if kind is ast.Name:
        return bound(node.id)  # type: ignore[attr-defined]
    if kind is ast.BinOp and type(node.op) is ast.Add:  # type: ignore[attr-defined]
        # A chain of pieces (`chr(105) + chr(109) + ...`, thousands long) nests to the left:
        # its pieces are taken in a loop, not by recursion.
        pieces: list[ast.AST] = []
        while type(node) is ast.BinOp and type(node.op) is ast.Add and len(pieces) < MAX_FOLD:  # type: ignore[attr-defined]
            pieces.append(node.right)  # type: ignore[attr-defined]
            node = node.left  # type: ignore[attr-defined]
        pieces.append(node)
        texts = []
        for piece in reversed(pieces):
            text = fold(piece, bound, depth + 1)
            if text is None:
                return None
            texts.append(text)
        joined = "".join(texts)
        return joined if len(joined) <= MAX_FOLD else None
    if kind is ast.Call and is_chr_of_code(node):
        return chr(node.args[0].value)  # type: ignore[attr-defined]
    if kind is ast.Call and is_call_of(node, "str") and len(node.args) == 2:  # type: ignore[attr-defined]
        return byte_codes(node.args[0])  # type: ignore[attr-defined]  # str(bytes([...]), "utf-8")
    if kind is ast.BinOp:
        op = type(node.op)  # type: ignore[attr-defined]
        left = fold(node.left, bound, depth + 1)  # type: ignore[attr-defined]
        if left is None:
            return None
        if op is ast.Add:
            right = fold(node.right, bound, depth + 1)  # type: ignore[attr-defined]
            text = None if right is None else left + right
        elif op is ast.Mod:
            right_node = node.right  # type: ignore[attr-defined]
            items = right_node.elts if type(right_node) is ast.Tuple else [right_node]
            # `"%c%c" % (104, 105)`: character codes formatted as characters.
            parts = [
                item.value
                if type(item) is ast.Constant and type(item.value) is int
                else fold(item, bound, depth + 1)
                for item in items
            ]
            text = None if None in parts else percent_formatted(left, tuple(parts))
        else:
            return None
        return text if text is None or len(text) <= MAX_FOLD else None
    if kind is ast.Subscript and reverses(node.slice):  # type: ignore[attr-defined]
        text = fold(node.value, bound, depth + 1)  # type: ignore[attr-defined]
        return None if text is None else text[::-1]
    if kind is ast.JoinedStr:
        pieces = []
        for value in node.values:  # type: ignore[attr-defined]
            if type(value) is ast.Constant:
                pieces.append(str(value.value))
            elif type(value) is ast.FormattedValue and value.format_spec is None:
                piece = fold(value.value, bound, depth + 1)
                if piece is None:
                    return None
                pieces.append(piece)
            else:
                return None
        text = "".join(pieces)
        return text if len(text) <= MAX_FOLD else None
    if kind is ast.Call and type(node.func) is ast.Attribute and not node.keywords:  # type: ignore[attr-defined]
        method = node.func.attr  # type: ignore[attr-defined]
        rotated = rot13_text(node)  # type: ignore[arg-type]
        if rotated is not None:
            text = fold(rotated, bound, depth + 1)
            return None if text is None else codecs.encode(text, "rot13")
        if method == "decode":
            decoded = _decoded_literal(node.func.value, bound, depth + 1)  # type: ignore[attr-defined]
            if decoded is not None:
                return decoded
            codes = byte_codes(node.func.value)  # type: ignore[attr-defined]
            if codes is not None:
                return codes
        if method not in ("join", "format"):
            return None
        head = fold(node.func.value, bound, depth + 1)  # type: ignore[attr-defined]
        if head is None:
            return None
        args = node.args  # type: ignore[attr-defined]
        if method == "join":
            if len(args) == 1 and is_call_of(args[0], "reversed") and head == "":
                # `"".join(reversed("ptth"))`: the text read backwards.
                inner = fold(args[0].args[0], bound, depth + 1)  # type: ignore[attr-defined]
                return None if inner is None else inner[::-1]
            if len(args) != 1 or type(args[0]) not in (ast.List, ast.Tuple):
                return None
            items = args[0].elts
        else:
            items = args
        parts = [fold(item, bound, depth + 1) for item in items]
        if None in parts:
            return None
        text = head.join(parts) if method == "join" else brace_formatted(head, tuple(parts))
        return text if text is None or len(text) <= MAX_FOLD else None
    return None


#: A ``%`` conversion, with its width and precision (``%-12s``, ``%.*f``, ``%(name)s``).
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.S)


def percent_formatted(template: str, parts: tuple[object, ...]) -> str | None:
    """``template % parts``, or ``None`` when it fails or a width or precision could make
    the text long (``"%999999999s"``, ``"%*s"``): the scanner builds no text a file asks
    for beyond ``MAX_FOLD``."""
    for match in _PERCENT_SPEC.finditer(template):
        if any(_too_wide(size) for size in match.group(1, 2)):
            return None
    try:
        return template % parts
    except (ValueError, TypeError, KeyError, OverflowError):
        return None


def brace_formatted(template: str, parts: tuple[str, ...]) -> str | None:
    """``template.format(*parts)`` of plain fields (``{}``, ``{0}``, ``{:>8}``), or ``None``
    when it fails, a field reads an attribute or item of an argument (``{0.real}``,
    ``{0[x]}``), nests a field in its spec, or a width or precision could make the text
    long (``{:>999999999}``)."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return None
    for _, field, spec, _ in fields:
        if field and ("." in field or "[" in field):
            return None
        if spec and ("{" in spec or any(_too_wide(n) for n in re.findall(r"\d+", spec))):
            return None
    try:
        return template.format(*parts)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError):
        return None


def _too_wide(size: str | None) -> bool:
    return size is not None and (size == "*" or (size.isdigit() and int(size) > MAX_FOLD))


def is_call_of(node: ast.AST, name: str) -> bool:
    """Whether ``node`` calls the builtin ``name`` with one or more positional arguments."""
    return (
        type(node) is ast.Call
        and type(node.func) is ast.Name  # type: ignore[attr-defined]
        and node.func.id == name  # type: ignore[attr-defined]
        and bool(node.args)  # type: ignore[attr-defined]
    )


def is_chr_of_code(node: ast.Call) -> bool:
    """``chr(105)``: one character spelled as its code."""
    func, args = node.func, node.args
    return (
        type(func) is ast.Name
        and func.id == "chr"
        and len(args) == 1
        and not node.keywords
        and type(args[0]) is ast.Constant
        and type(args[0].value) is int
        and 0 <= args[0].value < 0x110000
    )


def byte_codes(node: ast.AST) -> str | None:
    """The text of ``bytes([104, 105])`` or ``bytearray((104, 105))`` read as UTF-8 (for the
    ``.decode()`` after it), or ``None``."""
    if not (is_call_of(node, "bytes") or is_call_of(node, "bytearray")):
        return None
    codes = node.args[0]  # type: ignore[attr-defined]
    if type(codes) not in (ast.List, ast.Tuple) or len(codes.elts) > MAX_FOLD:  # type: ignore[attr-defined]
        return None
    values = [e.value for e in codes.elts if type(e) is ast.Constant]  # type: ignore[attr-defined]
    if len(values) != len(codes.elts) or not all(type(v) is int and 0 <= v < 256 for v in values):  # type: ignore[attr-defined]
        return None
    try:
        return bytes(values).decode("utf-8")
    except UnicodeDecodeError:
        return None


def reverses(index: ast.AST) -> bool:
    """Whether a subscript's index is ``[::-1]``: the text read backwards."""
    if type(index) is not ast.Slice or index.lower is not None or index.upper is not None:  # type: ignore[attr-defined]
        return False
    step = index.step  # type: ignore[attr-defined]
    if type(step) is ast.UnaryOp and type(step.op) is ast.USub:
        step = step.operand
        return type(step) is ast.Constant and step.value == 1
    return type(step) is ast.Constant and step.value == -1


def rot13_text(call: ast.Call) -> ast.AST | None:
    """The text argument of a ROT13 call (``codecs.decode(text, "rot13")``; ``encode`` is
    the same cipher), or ``None``."""
    func = call.func
    if (
        type(func) is ast.Attribute
        and func.attr in ("decode", "encode")  # type: ignore[attr-defined]
        and type(func.value) is ast.Name  # type: ignore[attr-defined]
        and len(call.args) == 2
    ):
        codec = call.args[1]
        if type(codec) is ast.Constant and type(codec.value) is str:
            if codec.value.lower().replace("-", "_") in ("rot13", "rot_13"):
                return call.args[0]
    return None


def _decoded_literal(node: ast.AST, bound, depth: int) -> str | None:  # type: ignore[no-untyped-def]
    """The text of ``b64decode("aHR0cHM6...")`` (or hex, base32) of a literal, or of text
    ``fold`` reads, for the ``.decode()`` after it; ``None`` otherwise. Pure data
    transformation of bounded size."""
    if type(node) is not ast.Call or len(node.args) != 1:  # type: ignore[attr-defined]
        return None
    func = node.func  # type: ignore[attr-defined]
    last = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else ""
    decode = LITERAL_DECODERS.get(last)
    if decode is None:
        return None
    text = fold(node.args[0], bound, depth + 1)  # type: ignore[attr-defined]
    if text is None or len(text) > MAX_FOLD:
        return None
    try:
        return decode(text.encode("latin-1")).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeError):
        return None


#: Joins of more pieces are left as they are (a program spelled a character at a time is
#: tens of thousands).
MAX_JOINED = 256 * 1024

#: Codecs ``decoded_bytes`` reads bytes literals with (text in, text out).
_TEXT_CODECS = frozenset({"utf-8", "utf8", "ascii", "latin-1", "latin1"})


def joined_literals(call: ast.Call) -> str | None:
    """The text of ``"".join([...])`` or ``"{}{}".format(...)`` of literals, or ``None``."""
    func = call.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr in ("join", "format")
        and isinstance(func.value, ast.Constant)
        and isinstance(func.value.value, str)
    ):
        return None
    items = call.args
    if func.attr == "join":
        if len(items) != 1 or not isinstance(items[0], ast.List | ast.Tuple):
            return None
        items = items[0].elts
    if len(items) > MAX_JOINED or not all(
        isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items
    ):
        return None
    parts = [i.value for i in items]  # type: ignore[attr-defined]
    if func.attr == "join":
        return func.value.value.join(parts)
    return brace_formatted(func.value.value, tuple(parts))


def decoded_bytes(call: ast.Call) -> str | None:
    """The text of ``b"...".decode()`` (``"utf-8"``, ``"ascii"``, ``"latin-1"``, with any
    error handling), or ``None``."""
    func = call.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr == "decode"
        and isinstance(func.value, ast.Constant)
        and isinstance(func.value.value, bytes)
        and len(call.args) <= 2
        and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)
    ):
        return None
    codec = call.args[0].value.lower() if call.args else "utf-8"  # type: ignore[attr-defined]
    if codec not in _TEXT_CODECS:
        return None
    return func.value.value.decode(codec, "replace")
