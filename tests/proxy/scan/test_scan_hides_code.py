"""``hides_code`` finds its words in one Aho-Corasick pass and checks the context of the
few that need it; it must answer exactly as the one regular expression it replaces."""

from __future__ import annotations

import random
import re

import pytest

from pipgate.proxy.scan import triage
from pipgate.proxy.scan.triage import hides_code

#: The contract as one pattern: what ``hides_code`` answered before it was made fast.
REFERENCE = re.compile(
    rb"__import__|\b(?:eval|exec)\s*\(|globals\(\)|from builtins import \*|__builtins__|"
    rb"\[::-1\]|bytes\(\[\d|\b[Il1O0_]{10,}\b|marshal|b64decode|decompress|fromhex|unhexlify"
)


@pytest.mark.parametrize(
    ("source", "hides"),
    [
        (b"x = __import__('os')", True),
        (b"eval(x)", True),
        (b"exec \n (x)", True),
        (b"model.eval()", True),  # `.` is a word boundary, as in the pattern
        (b"my_eval(x)", False),
        (b"evaluate(x)", False),
        (b"exec_(x)", False),
        (b"execute = 1", False),
        (b"g = globals()", True),
        (b"from builtins import *", True),
        (b"s[::-1]", True),
        (b"bytes([1, 2])", True),
        (b"bytes([x])", False),
        (b"bytes([", False),
        (b"IlIlIlIlIl = 1", True),
        (b"IlIlIlIlI = 1", False),
        (b"aIlIlIlIlIl = 1", False),
        (b"# ____________", True),
        (b"import marshal", True),
        (b"base64.b64decode(s)", True),
        (b"zlib.decompress(s)", True),
        (b"bytes.fromhex(s)", True),
        (b"binascii.unhexlify(s)", True),
        (b"print('hello')", False),
        (b"", False),
    ],
)
def test_hides_code_answers_each_case(source: bytes, hides: bool) -> None:
    assert bool(REFERENCE.search(source)) is hides
    assert hides_code(source) is hides


@pytest.mark.parametrize("padding", [0, 1, 7, triage._WINDOW - 5, triage._WINDOW - 1])
@pytest.mark.parametrize("word", [b"eval (x)", b"bytes([4", b"marshal", b" exec("])
def test_a_word_across_a_window_edge_is_found(padding: int, word: bytes) -> None:
    source = b"x" * padding + b" " + word + b" " + b"y" * triage._WINDOW
    assert hides_code(source)
    assert bool(REFERENCE.search(source))


def test_hides_code_answers_as_the_pattern_on_random_text() -> None:
    pieces = [
        b"eval",
        b"exec",
        b"(",
        b" ",
        b"\n",
        b"_",
        b"I",
        b"l",
        b"1",
        b"O",
        b"0",
        b"a",
        b"x",
        b".",
        b"bytes([",
        b"7",
        b"__import__",
        b"globals",
        b"()",
        b"[::-1]",
        b"marshal",
        b"b64",
        b"decode",
        b"from builtins import *",
        b"=",
    ]
    rng = random.Random(14)
    found = 0
    for _ in range(4000):
        source = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        expected = bool(REFERENCE.search(source))
        found += expected
        assert hides_code(source) is expected, source
    assert 500 <= found <= 3500  # both answers were exercised
