"""Code already known as malware's: near-copies of payloads seen before.

Campaigns re-upload the same install- or import-time code under new names for months,
changing the parts a rule reads (the server's address, the webhook, the paths it steals)
and little else. Each payload file is reduced to a *print* that ignores those parts:

- its code as words: comments and layout dropped, every string literal ``S``, every number
  ``0``, names and operators as written;
- ``exact``: a hash of those words with local names renamed ``v0, v1, ...`` in order of
  first appearance (keywords, builtins, imported names and attributes kept), so a copy
  re-obfuscated with fresh variable names is still the same;
- ``sketch``: a one-permutation MinHash (CRC-32) of the words' 5-word shingles with every
  local name ``v`` (a name added or renamed moves no other), whose agreement estimates the
  Jaccard similarity of two files' shingle sets.

A file matches a known payload when its ``exact`` is one, or its sketch agrees with one's
in at least ``NEAR`` of their bins. The prints shipped with pipgate
(``proxy/data/known-payloads.bin``, built by ``benchmarks/build_known_payloads.py``) come
from the development half of a public malware dataset and exclude any print that resembles
a legitimate package's file. The format is a magic line, then per print 8 bytes of
``exact`` and ``BINS`` 4-byte bins (little-endian; ``EMPTY`` for an empty bin).
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from pipgate.policies.scan import Finding
from pipgate.proxy.config.corpus import read_bundled_bytes

from .rules import finding

BUNDLED_PAYLOADS = "known-payloads.bin"
MAGIC = b"pipgate known payloads 1\n"
BINS = 64
BANDS = 16  # of BINS // BANDS bins each, for finding candidates
SHINGLE = 5
EMPTY = 0xFFFFFFFF
#: Estimated Jaccard similarity at which a file is a copy of a known payload.
NEAR = 0.8
#: Files with fewer words are too generic to tell apart (a setup call, an import line);
#: files with more are libraries, not payloads, and cost too much to read.
MIN_WORDS = 60
MAX_WORDS = 20_000

_TOKEN = re.compile(
    r"""(?P<skip>\#[^\n]*|\\\n|[ \t\r\f]+)"""
    r"""|(?P<string>[rRbBuUfF]{0,2}(?:'''(?:[^'\\]|\\.|'(?!''))*(?:'''|$)"""
    r'''|"""(?:[^"\\]|\\.|"(?!""))*(?:"""|$)'''
    r"""|'(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?))"""
    r"""|(?P<name>[^\W\d]\w*)"""
    r"""|(?P<number>\d[\w.]*|\.\d[\w]*)"""
    r"""|(?P<newline>\n)"""
    r"""|(?P<op>\*\*=?|//=?|->|:=|<<=?|>>=?|[-+*/%&|^@=<>!]=|[^\s\w])""",
    re.S,
)
_KEEP = frozenset(keyword.kwlist) | frozenset(dir(builtins))
_IMPORT_GLUE = frozenset({".", ",", "(", ")", "*"})


def code_words(text: str) -> list[str]:
    """``text``'s code as words: ``S`` for a string, ``0`` for a number, ``;`` for a line
    break, names and operators as written; comments and layout dropped."""
    words: list[str] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "skip":
            continue
        if kind == "string":
            words.append("S")
        elif kind == "number":
            words.append("0")
        elif kind == "newline":
            if words and words[-1] != ";":
                words.append(";")
        else:
            words.append(match.group())
    return words


def renamed(words: Sequence[str], numbered: bool = True) -> list[str]:
    """``words`` with local names renamed ``v0, v1, ...`` in order of first appearance (all
    ``v`` unless ``numbered``); keywords, builtins, imported names and attribute names kept
    (they say what code does)."""
    kept = set(_KEEP)
    importing = False
    for index, word in enumerate(words):
        if word in ("import", "from"):
            importing = True
        elif importing and _is_name(word) and word != "as" and words[index - 1] != "as":
            kept.add(word)
        elif importing and not _is_name(word) and word not in _IMPORT_GLUE:
            importing = False
        elif index and words[index - 1] == "." and _is_name(word):
            kept.add(word)
    names: dict[str, str] = {}
    return [
        (names.setdefault(word, f"v{len(names)}") if numbered else "v")
        if _is_name(word) and word not in kept
        else word
        for word in words
    ]


def _is_name(word: str) -> bool:
    return word[:1].isidentifier() and word != "S"


@dataclass(frozen=True, slots=True)
class Print:
    """A file's print (see the module docstring)."""

    exact: bytes  # 8 bytes
    sketch: tuple[int, ...]  # BINS values, EMPTY for an empty bin


def print_of(text: str) -> Print | None:
    """The print of a Python file's ``text``; ``None`` when it has fewer than ``MIN_WORDS``
    or more than ``MAX_WORDS`` words of code."""
    words = code_words(text)
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return None
    exact = hashlib.blake2b(" ".join(renamed(words)).encode(), digest_size=8).digest()
    return Print(exact, _sketch(renamed(words, numbered=False)))


def _sketch(words: Sequence[str]) -> tuple[int, ...]:
    bins = [EMPTY] * BINS
    encoded = [word.encode() for word in words]
    for start in range(len(encoded) - SHINGLE + 1):
        value = zlib.crc32(b" ".join(encoded[start : start + SHINGLE]))
        slot, rest = value % BINS, value // BINS  # below EMPTY: never taken for one
        if rest < bins[slot]:
            bins[slot] = rest
    return tuple(bins)


def similarity(one: Sequence[int], other: Sequence[int]) -> float:
    """The estimated Jaccard similarity of two sketches (bins empty in both ignored)."""
    both = [(a, b) for a, b in zip(one, other, strict=True) if a != EMPTY or b != EMPTY]
    if not both:
        return 0.0
    return sum(1 for a, b in both if a == b) / len(both)


class KnownPayloads:
    """Prints of known payloads, searchable by ``match``."""

    def __init__(self, prints: Iterable[Print] = ()) -> None:
        self.prints: list[Print] = []
        self._exact: dict[bytes, list[int]] = {}
        self._bands: dict[tuple[int, tuple[int, ...]], list[int]] = {}
        for item in prints:
            self.add(item)

    def add(self, item: Print) -> None:
        index = len(self.prints)
        self.prints.append(item)
        self._exact.setdefault(item.exact, []).append(index)
        for key in _band_keys(item.sketch):
            self._bands.setdefault(key, []).append(index)

    def match(self, item: Print) -> float:
        """How close ``item`` comes to a known payload: 1.0 for the same renamed code, else
        the best estimated similarity among the candidates sharing a band (0.0 for none)."""
        if item.exact in self._exact:
            return 1.0
        return max((closeness for _, closeness in self._candidates(item)), default=0.0)

    def near(self, item: Print, at: float) -> list[int]:
        """Indexes (in ``prints``) of the known payloads at least ``at`` close to ``item``."""
        found = {i for i in self._exact.get(item.exact, ())}
        found.update(i for i, closeness in self._candidates(item) if closeness >= at)
        return sorted(found)

    def _candidates(self, item: Print) -> Iterator[tuple[int, float]]:
        indexes = {i for key in _band_keys(item.sketch) for i in self._bands.get(key, ())}
        for index in indexes:
            yield index, similarity(item.sketch, self.prints[index].sketch)

    def to_bytes(self) -> bytes:
        layout = struct.Struct(f"<{BINS}I")
        return MAGIC + b"".join(p.exact + layout.pack(*p.sketch) for p in self.prints)

    @classmethod
    def from_bytes(cls, data: bytes) -> KnownPayloads:
        """Raises ``ValueError`` for data that is not a file ``to_bytes`` wrote."""
        if not data.startswith(MAGIC):
            raise ValueError("not a known-payloads file (its first line is not the magic one)")
        body = memoryview(data)[len(MAGIC) :]
        layout = struct.Struct(f"<{BINS}I")
        size = 8 + layout.size
        if len(body) % size:
            raise ValueError(f"known-payloads file truncated ({len(body)} bytes of prints)")
        return cls(
            Print(bytes(body[at : at + 8]), layout.unpack_from(body, at + 8))
            for at in range(0, len(body), size)
        )


def _band_keys(sketch: Sequence[int]) -> Iterable[tuple[int, tuple[int, ...]]]:
    rows = BINS // BANDS
    for band in range(BANDS):
        key = tuple(sketch[band * rows : (band + 1) * rows])
        if any(value != EMPTY for value in key):
            yield band, key


@cache
def bundled_payloads() -> KnownPayloads:
    """The known payloads shipped with pipgate, read once per process on first use."""
    return KnownPayloads.from_bytes(read_bundled_bytes(BUNDLED_PAYLOADS))


#: Characters of one file and of one archive's files read for prints: a payload is small,
#: and a library's import-time modules could otherwise cost more than the rest of its scan.
MAX_TEXT = 128 * 1024
ARCHIVE_TEXT = 256 * 1024


def check(
    texts: Mapping[str, str], paths: Iterable[str], known: KnownPayloads
) -> Iterator[Finding]:
    """``known-payload`` for each of ``paths`` (keys of ``texts``, in the order to read
    them) whose code is a copy or near-copy of one of ``known``; files past ``MAX_TEXT``
    are left out, and reading stops after ``ARCHIVE_TEXT`` characters."""
    if not known.prints:
        return
    budget = ARCHIVE_TEXT
    for path in paths:
        text = texts[path]
        if len(text) > MAX_TEXT:
            continue
        budget -= len(text)
        if budget < 0:
            return
        item = print_of(text)
        if item is None:
            continue
        closeness = known.match(item)
        if closeness >= NEAR:
            how = "a copy" if closeness == 1.0 else f"a near-copy ({closeness:.2f})"
            yield finding("known-payload", path, 1, f"{how} of a known malware payload's code")
