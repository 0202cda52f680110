"""Typosquat policy: quarantine a project whose name imitates a popular one.

The corpus of protected names is injected (``TyposquatIndex.build``, or a
prebuilt index with ``from_bytes``); loading it is the proxy's job. Everything
here is pure: no I/O, no clock.

The index finds every *resemblance* (``Match``) of a name to a protected one:
one edit (a letter substituted, inserted, doubled, left out; two swapped), two
edits, look-alike characters, separators, reordered words, affixes (``python-``
and friends, digits, any word glued on). Each carries what a person needs to
weigh it: the kind of edit, whether it is a slip of the hand (a neighbouring
key, a look-alike letter), whether the name reads as other words. A few kinds
are *strong*: a doubled letter, adjacent letters swapped, a homoglyph, a
separator inside a word, reordered words, a separated ``python-``/``-py``
affix, a letter dropped inside a long word or name. The others are weak:
legitimate neighbours of popular names look like that all the time.

The policy does not decide from the match alone: ``typosquat_score`` weighs it
with the target's popularity and length, how crowded its neighbourhood is, the
snapshot of PyPI (``typosquat_snapshot``: long-standing projects are
legitimate, names near a popular one missing from it are suspicious) and the
upstream facts (age, releases, files), and the total is compared with a
threshold per action. The reason names the target and the signals that
weighed most.

Words tell names apart from misspellings. With a dictionary injected
(``build(names, words=...)``), a resemblance counts less when the name is made
of dictionary words or reads as words where the protected name does not
(``unicorn``/``gunicorn``, ``workdays``/``workadays``): a typo rarely lands on
words, a legitimate neighbour is usually named with them.

Checking a name costs a few dozen look-ups: the index holds deletion
neighbourhoods (symmetric delete) for one edit over the whole corpus and for two
edits over the popular names, a skeleton map for homoglyphs and separators, a
sorted-words map for reordering, and the name set for affixes. The tables are
flat arrays of stable key hashes and name ids (``_Table``), not dicts of
strings: a few MiB for 15,000 names, and the same bytes in every process, so the
proxy ships the bundled corpus's index prebuilt.
"""

from __future__ import annotations

import copy
import enum
import json
import re
import struct
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from itertools import chain
from zlib import crc32

from packaging.utils import NormalizedName, canonicalize_name

from .decision import Action, Decision, Mode
from .subjects import FileSubject, ProjectFacts, ProjectSubject
from .typosquat_score import Score, Thresholds, score
from .typosquat_snapshot import Snapshot

# Protect a name against one insertion, deletion or swap only from this length:
# one edit turns most short names into other real short names (``rq``/``q``).
MIN_EDIT1_LENGTH = 4
MIN_DOUBLED_LENGTH = 4
MIN_TRANSPOSITION_LENGTH = 5
MIN_DELETION_WORD_LENGTH = 7
MIN_DELETION_NAME_LENGTH = 10
MIN_EDGE_DELETION_LENGTH = 9
# Two edits: only the most popular names. Legitimate projects within two edits
# of a popular name are the rule, so two edits are always a weak resemblance.
MIN_EDIT2_LENGTH = 5
MAX_EDIT2_LENGTH = 24
EDIT2_TOP = 3000
# Affix games are only worth it against names people actually type.
AFFIX_TOP = 5000
MIN_AFFIX_TARGET_LENGTH = 4
# A word glued to a name without a separator, from this many letters
# (``numpyx``); a glued piece must be a word or a single letter.
MIN_GLUED_AFFIX = 1
# An affix that is another protected name joins two projects (``tornado-uvloop``)
# unless many names use it as a generic word (``utils``, ``core``).
MAX_JOINED_USES = 3

SEPARATORS = "-"
# Keys next to each other on a QWERTY keyboard (rows offset as on a real one),
# and letters a reader confuses: the slips a hand or an eye makes.
_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_LOOK_ALIKE = frozenset(
    frozenset(pair)
    for pair in ("il", "lj", "ij", "mn", "uv", "vw", "ce", "ao", "oe", "gq", "bd", "pq", "hn")
)


@cache
def _key_neighbours() -> dict[str, frozenset[str]]:
    where = {ch: (r, c) for r, row in enumerate(_ROWS) for c, ch in enumerate(row)}
    # Each row sits about half a key right of the one above it.
    offset = {0: 0.0, 1: 0.5, 2: 0.75, 3: 1.25}
    return {
        a: frozenset(
            b
            for b, (rb, cb) in where.items()
            if b != a and abs(ra - rb) <= 1 and abs((ca + offset[ra]) - (cb + offset[rb])) <= 1.0
        )
        for a, (ra, ca) in where.items()
    }


def near_keys(a: str, b: str) -> bool:
    """``a`` and ``b`` are neighbouring keys on a QWERTY keyboard."""
    return b in _key_neighbours().get(a, ())


def _slip(meant: str, typed: str) -> str:
    """Why typing ``typed`` for ``meant`` is an easy slip, or ``""``."""
    if near_keys(meant, typed):
        return "neighbouring keys"
    if frozenset((meant, typed)) in _LOOK_ALIKE:
        return "look-alike letters"
    return ""


# What a reader cannot tell apart at a glance, mapped onto one representative.
# Names are lower-cased, so ``I`` (capital i) has already become ``i``.
_HOMOGLYPHS_MULTI = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_HOMOGLYPHS_SINGLE = str.maketrans({"1": "l", "i": "l", "|": "l", "0": "o", "5": "s"})

# (affix, kind) pairs; a candidate is "affix + target" or "target + affix".
# Separated affixes are a game; glued ``py``/``python`` are how half of PyPI is
# named (``pyyaml``, ``brotlipy``), so those count only when redundant.
PREFIXES = ("python3-", "python-", "py3-", "py-", "python", "py")
SUFFIXES = ("-python3", "-python", "-py3", "-py", "python", "py")
# Generic words: ``google-api``, ``boto3-client`` are what real wrappers are called.
WEAK_SUFFIXES = ("-lib", "-sdk", "-api", "-client", "-dev", "-tools")
# The packaging words of PyPI names: beside dictionary words, a name made of
# them still reads as dictionary words (``distribute-py``).
AFFIX_WORDS = frozenset({"py", "python", "py3", "python3"})
_DIGITS = re.compile(r"[0-9]+$")
# Reading a name as words: pieces are dictionary words or words of other
# protected names of at least this many letters; two-letter pieces only when
# several protected names use them as a word (``tf``, ``db``, ``io``).
MIN_PIECE_LENGTH = 3
MAX_PIECE_LENGTH = 24
PIECE_USES = 2
SHORT_PIECE_USES = 3
_WORD = re.compile(f"[a-z]{{{MIN_PIECE_LENGTH},{MAX_PIECE_LENGTH}}}")


class Technique(enum.Enum):
    """How a name imitates a protected one; the value is the machine name."""

    EDIT1 = "edit1"
    TRANSPOSITION = "transposition"
    HOMOGLYPH = "homoglyph"
    SEPARATOR = "separator"
    AFFIX = "affix"
    REORDER = "reorder"
    EDIT2 = "edit2"


# Techniques that change a name's spelling, where reading the result as real
# words tells a different name from a typo (affixes, separators and
# reordering keep the protected name's own letters).
_SPELLING = frozenset(
    {Technique.EDIT1, Technique.TRANSPOSITION, Technique.HOMOGLYPH, Technique.EDIT2}
)


@dataclass(frozen=True, slots=True)
class Match:
    """``name`` imitates ``target`` (popularity ``rank``, 1 = most popular).

    ``strong`` says whether the technique is one legitimate names rarely
    produce by accident (``typosquat_score`` starts it high); ``detail``
    describes the edit for a person; ``words`` says the name reads as words
    where the target does not.
    """

    name: NormalizedName
    target: NormalizedName
    rank: int
    technique: Technique
    detail: str
    strong: bool
    # What exactly was done: substituted, substituted-first, digit-changed,
    # inserted, doubled, digit-doubled, deleted, edge-deleted, swapped, edit2,
    # homoglyph, split, separator, reorder, or affix-(packaging, py-glued,
    # generic, digits, word, glued, dropped); and whether it is the kind of
    # slip a hand or an eye makes (a neighbouring key, a look-alike letter).
    kind: str = ""
    typo: bool = False
    words: bool = False
    # In a multi-word name, the one word that differs is itself a word of
    # other protected names (``mypy-boto3-ssm``/``mypy-boto3-sso``): a sibling
    # in a family of names, not a slip.
    sibling: bool = False
    # An affix that is itself a protected name (``tornado-uvloop``): an
    # integration of two projects, not a decoy.
    joins: bool = False
    # Two edits: how many were slips of a hand (``_slips``).
    slips: int = 0

    def describe(self) -> str:
        return (
            f"name {self.name!r} imitates popular project {self.target!r} "
            f"(rank {self.rank}; {self.detail})"
        )


# A table entry packs a key's 32-bit hash and a name id (24 bits) into one
# int, so that building a table is one sort of plain ints.
_ID_BITS = 24
_ID_MASK = (1 << _ID_BITS) - 1


def _key_hash(key: str) -> int:
    """A stable 32-bit hash of a key: tables built in one process are read in another."""
    return crc32(key.encode())


class _Keys:
    """Collects ``(key, id)`` pairs compactly while an index is being built."""

    __slots__ = ("packed",)

    def __init__(self) -> None:
        self.packed: array[int] = array("q")

    def add(self, keys: Iterable[str], value: int) -> None:
        self.packed.extend([_key_hash(key) << _ID_BITS | value for key in keys])


class _Table:
    """A read-only multimap from strings to name ids, in two flat arrays.

    Keys are kept only as 32-bit hashes, sorted, beside their ids (two bytes
    each for up to 65,535 names); a look-up is a binary search. Two keys with
    one hash only add candidates, and every caller verifies its candidates.
    """

    __slots__ = ("_bits", "_hashes", "_ids", "_mask")

    def __init__(self, keys: _Keys) -> None:
        packed = sorted(keys.packed)
        self._hashes = array("I", [entry >> _ID_BITS for entry in packed])
        self._ids = array(
            _id_code(max(packed, default=0) & _ID_MASK), [entry & _ID_MASK for entry in packed]
        )
        # A one-hash bitmap of the keys, about 8 bits a key: most look-ups
        # miss, and a bit test spares them the binary search (1 in 8 passes).
        size = 1 << max(10, (8 * len(packed)).bit_length())
        bits = bytearray(size >> 3)
        mask = size - 1
        for h in self._hashes:
            bit = h & mask
            bits[bit >> 3] |= 1 << (bit & 7)
        self._bits, self._mask = bytes(bits), mask

    @classmethod
    def _raw(cls, hashes: array[int], ids: array[int], bits: bytes) -> _Table:
        table = cls.__new__(cls)
        table._hashes, table._ids = hashes, ids
        table._bits, table._mask = bits, len(bits) * 8 - 1
        return table

    def _span(self, key: str) -> tuple[int, int]:
        hashes = self._hashes
        h = _key_hash(key)
        bit = h & self._mask
        if not self._bits[bit >> 3] & (1 << (bit & 7)):
            return 0, 0
        start = bisect_left(hashes, h)
        if start == len(hashes) or hashes[start] != h:
            return start, start  # most look-ups miss: one binary search
        return start, bisect_right(hashes, h, start)

    def get(self, key: str) -> list[int]:
        """The ids stored under ``key``."""
        start, end = self._span(key)
        return self._ids[start:end].tolist() if start != end else []

    def count(self, key: str) -> int:
        """How many ids are stored under ``key``."""
        start, end = self._span(key)
        return end - start

    def __len__(self) -> int:
        return len(self._hashes)


def _id_code(largest: int) -> str:
    return "H" if largest < 1 << 16 else "I"


class _WordSet:
    """A read-only set of words, kept as one sorted array of their hashes.

    A dictionary of 60,000 words costs about 0.5 MiB this way instead of
    several as a set of strings. A hash collision (about 1 in 60,000 for a
    non-word against this dictionary) can only make a non-word count as a
    word, which makes the check more lenient, never stricter.
    """

    __slots__ = ("_hashes",)

    def __init__(self, words: Iterable[str] = ()) -> None:
        # Duplicates are harmless to a binary search: no set of ints is built.
        self._hashes = array("I", sorted(map(_key_hash, words)))

    def union(self, words: Iterable[str]) -> _WordSet:
        merged = _WordSet()
        merged._hashes = array("I", sorted(chain(self._hashes, map(_key_hash, words))))
        return merged

    def __contains__(self, word: str) -> bool:
        hashes, key = self._hashes, _key_hash(word)
        at = bisect_left(hashes, key)
        return at < len(hashes) and hashes[at] == key

    def __len__(self) -> int:
        return len(self._hashes)


_INDEX_MAGIC = b"PGTSQ1\n\0"


class IndexFormatError(ValueError):
    """Bytes that are not a prebuilt index this version of the matcher reads."""


def _layout() -> list[int]:
    """The parameters a prebuilt index depends on; another set means another index."""
    return [
        2,  # format
        _ID_BITS,
        MIN_EDIT1_LENGTH,
        EDIT2_TOP,
        MIN_EDIT2_LENGTH,
        MAX_EDIT2_LENGTH,
        MIN_PIECE_LENGTH,
        MAX_PIECE_LENGTH,
        PIECE_USES,
        SHORT_PIECE_USES,
    ]


def _little(values: array[int]) -> bytes:
    if sys.byteorder == "big":  # pragma: no cover
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _deletes(word: str) -> Iterator[tuple[int, str]]:
    for i in range(len(word)):
        yield i, word[:i] + word[i + 1 :]


def _deletion_keys(word: str, edits: int) -> set[str]:
    """``word`` with exactly one (``edits=1``) or at most two characters removed."""
    ones = {word[:i] + word[i + 1 :] for i in range(len(word))}
    if edits == 1:
        return ones
    keys = {word} | ones
    for one in ones:
        keys.update(one[:i] + one[i + 1 :] for i in range(len(one)))
    return keys


def skeleton(name: str) -> str:
    """``name`` without separators and with look-alike characters folded together."""
    s = name.replace("-", "")
    for many, one in _HOMOGLYPHS_MULTI:
        s = s.replace(many, one)
    return s.translate(_HOMOGLYPHS_SINGLE)


def _words(name: str) -> list[str]:
    return name.split("-")


class TyposquatIndex:
    """A precomputed index over protected names, most popular first.

    ``match(name)`` answers as if ``name`` itself were not protected (so a
    corpus name can be checked as if it were new); the policy exempts names the
    index contains with ``in``.
    """

    def __init__(self) -> None:  # use build()
        self._rank: dict[str, int] = {}
        self._names: list[str] = []
        empty = _Table(_Keys())
        self._del1 = self._skeleton = self._reorder = self._vocabulary = empty
        # Words a name can be read as: dictionary words and the words of
        # protected names (``_known``), and which of them are not in the
        # dictionary (``_corpus_only``: their uses must be recounted when
        # the name that uses them is checked as if absent).
        self._known = self._corpus_only = _WordSet()
        self._has_dictionary = False
        # The first three letters of every known word, and the two-letter
        # words: most positions of a misspelling start no word at all, so
        # these spare most look-ups in ``_known``.
        self._starts: frozenset[str] = frozenset()
        self._short: frozenset[str] = frozenset()
        # Built on first use and shared with every ``without`` view.
        self._lazy: dict[str, _Table] = {}
        self._memo: dict[tuple[str, str, str | None], bool] = {}
        self._hidden: str | None = None

    @classmethod
    def build(cls, names: Iterable[str], *, words: Iterable[str] = ()) -> TyposquatIndex:
        """Index ``names`` (in rank order); duplicates keep their first rank.

        ``words`` is an optional dictionary (ordinary lower-case words, such
        as an English word list). With it, a name that reads as real words is
        told apart from a misspelling (``unicorn``/``gunicorn`` against
        ``solna``/``solana``); without it only the words of the protected
        names themselves are known.
        """
        index = cls()
        starts: set[str] = set()

        def dictionary_words() -> Iterator[str]:
            for word in map(str.lower, words):
                if _WORD.fullmatch(word):
                    starts.add(word[:MIN_PIECE_LENGTH])
                    yield word

        dictionary = _WordSet(dictionary_words())
        uses: Counter[str] = Counter()
        del1, skeletons, reorder, vocabulary = (_Keys() for _ in range(4))
        for raw in names:
            name = canonicalize_name(raw)
            if not name or name in index._rank:
                continue
            i = len(index._names)
            index._names.append(name)
            index._rank[name] = i + 1
            skeletons.add((skeleton(name),), i)
            parts = _words(name)
            vocabulary.add(set(parts), i)
            uses.update(set(parts))
            if len(parts) > 1:
                reorder.add(("-".join(sorted(parts)),), i)
            if len(name) >= MIN_EDIT1_LENGTH:
                del1.add(_deletion_keys(name, 1), i)
        index._del1 = _Table(del1)
        index._skeleton, index._reorder = _Table(skeletons), _Table(reorder)
        index._vocabulary = _Table(vocabulary)
        pieces = [
            word
            for word, count in uses.items()
            if word.isalpha()
            and len(word) <= MAX_PIECE_LENGTH
            and count >= (PIECE_USES if len(word) >= MIN_PIECE_LENGTH else SHORT_PIECE_USES)
            and len(word) >= 2
        ]
        index._known = dictionary.union(pieces)
        index._has_dictionary = len(dictionary) > 0
        starts.update(word[:MIN_PIECE_LENGTH] for word in pieces if len(word) >= MIN_PIECE_LENGTH)
        index._starts = frozenset(starts)
        index._short = frozenset(word for word in pieces if len(word) < MIN_PIECE_LENGTH)
        index._corpus_only = _WordSet(word for word in pieces if word not in dictionary)
        return index

    # -- a prebuilt index, shipped as package data -------------------------

    def to_bytes(self) -> bytes:
        """The whole index, two-edit table included, for ``from_bytes`` in another process."""
        tables = {"del2": self._del2, **self._tables()}
        header = {
            "layout": _layout(),
            "names": self._names,
            "has_dictionary": self._has_dictionary,
            "starts": sorted(self._starts),
            "short": sorted(self._short),
            "tables": {
                k: [len(t._hashes), t._ids.typecode, len(t._bits)] for k, t in tables.items()
            },
            "words": [len(self._known._hashes), len(self._corpus_only._hashes)],
        }
        raw = json.dumps(header, separators=(",", ":")).encode()
        parts = [_INDEX_MAGIC, struct.pack("<I", len(raw)), raw]
        for table in tables.values():
            parts += [_little(table._hashes), _little(table._ids), table._bits]
        parts += [_little(self._known._hashes), _little(self._corpus_only._hashes)]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> TyposquatIndex:
        """An index written by ``to_bytes``; ``IndexFormatError`` if it is not one this code reads.

        The layout records the matcher's parameters: an index built with
        other ones is refused (the caller then builds one afresh).
        """
        view = memoryview(data)
        if bytes(view[: len(_INDEX_MAGIC)]) != _INDEX_MAGIC:
            raise IndexFormatError("not a prebuilt typosquat index (bad magic)")
        at = len(_INDEX_MAGIC)
        try:
            (size,) = struct.unpack_from("<I", view, at)
            header = json.loads(bytes(view[at + 4 : at + 4 + size]))
        except (struct.error, ValueError) as exc:
            raise IndexFormatError(f"unreadable prebuilt typosquat index: {exc}") from exc
        if header.get("layout") != _layout():
            raise IndexFormatError("prebuilt typosquat index was built with other parameters")
        at += 4 + size
        index = cls()

        def take(code: str, count: int) -> array[int]:
            nonlocal at
            values = array(code)
            end = at + count * values.itemsize
            if end > len(view):
                raise IndexFormatError("prebuilt typosquat index is truncated")
            values.frombytes(view[at:end])
            if sys.byteorder == "big":  # pragma: no cover
                values.byteswap()
            at = end
            return values

        tables = {}
        for key, (count, code, nbits) in header["tables"].items():
            hashes = take("I", count)
            ids = take(code, count)
            tables[key] = _Table._raw(hashes, ids, bytes(take("B", nbits)))
        known, corpus_only = _WordSet(), _WordSet()
        known._hashes = take("I", header["words"][0])
        corpus_only._hashes = take("I", header["words"][1])
        if at != len(view):
            raise IndexFormatError("prebuilt typosquat index has trailing bytes")
        index._names = header["names"]
        index._rank = {name: i + 1 for i, name in enumerate(index._names)}
        index._lazy["del2"] = tables.pop("del2")
        index._del1, index._skeleton = tables["del1"], tables["skeleton"]
        index._reorder, index._vocabulary = tables["reorder"], tables["vocabulary"]
        index._known, index._corpus_only = known, corpus_only
        index._has_dictionary = bool(header["has_dictionary"])
        index._starts, index._short = frozenset(header["starts"]), frozenset(header["short"])
        return index

    def _tables(self) -> dict[str, _Table]:
        return {
            "del1": self._del1,
            "skeleton": self._skeleton,
            "reorder": self._reorder,
            "vocabulary": self._vocabulary,
        }

    @property
    def names(self) -> list[str]:
        """The protected names, most popular first."""
        return list(self._names)

    @property
    def _del2(self) -> _Table:
        """Two-deletion neighbourhoods of long popular names; only weak look-ups need them."""
        table = self._lazy.get("del2")
        if table is None:
            keys = _Keys()
            for i, name in enumerate(self._names[:EDIT2_TOP]):
                if MIN_EDIT2_LENGTH <= len(name) <= MAX_EDIT2_LENGTH:
                    keys.add(_deletion_keys(name, 2), i)
            table = self._lazy["del2"] = _Table(keys)
        return table

    def __contains__(self, name: str) -> bool:
        name = canonicalize_name(name)
        return name in self._rank and name != self._hidden

    def without(self, name: str) -> TyposquatIndex:
        """This index with ``name`` unprotected, in O(1): shares every table.

        Equivalent to rebuilding without ``name``, except that the ranks of
        the other names stay as they were.
        """
        view = copy.copy(self)
        view._hidden = canonicalize_name(name)
        return view

    def __len__(self) -> int:
        return len(self._names)

    def rank(self, name: str) -> int | None:
        return self._rank.get(canonicalize_name(name))

    def _word_uses(self, word: str, exclude: str) -> int:
        """How many protected names other than ``exclude`` have ``word`` as a word."""
        count = self._vocabulary.count(word)
        if count:
            for name in {exclude, self._hidden}:
                if name is not None and name in self._rank and word in _words(name):
                    count -= 1
        return count

    def _is_word(self, word: str, exclude: str) -> bool:
        """``word`` is a word of some protected name other than ``exclude``."""
        return self._word_uses(word, exclude) > 0

    # -- reading a name as words --------------------------------------------

    def _in_dictionary(self, word: str) -> bool:
        return word in self._known and word not in self._corpus_only

    def _is_piece(self, piece: str, exclude: str) -> bool:
        if piece.isdigit():
            return True
        if len(piece) < 2 or piece not in self._known:
            return False
        if piece not in self._corpus_only:
            return True  # a dictionary word
        if not any(n is not None and piece in _words(n) for n in (exclude, self._hidden)):
            return True  # counted without the names checked as if absent
        need = PIECE_USES if len(piece) >= MIN_PIECE_LENGTH else SHORT_PIECE_USES
        return self._word_uses(piece, exclude) >= need

    def _segments(self, part: str, exclude: str) -> bool:
        """``part`` (no separators) is a run of words: ``getname`` = get + name."""
        n = len(part)
        reached = [True] + [False] * n
        for i in range(n):
            if not reached[i]:
                continue
            if part[i].isdigit():  # a number is a word: 2, 22, 3.x
                j = i + 1
                while j < n and part[j].isdigit():
                    reached[j] = True
                    j += 1
                reached[j] = True
                continue
            ends = []
            if part[i : i + MIN_PIECE_LENGTH] in self._starts:
                ends = list(range(min(n, i + MAX_PIECE_LENGTH), i + MIN_PIECE_LENGTH - 1, -1))
            if part[i : i + 2] in self._short:
                ends.append(i + 2)
            for j in ends:
                if not reached[j] and self._is_piece(part[i:j], exclude):
                    reached[j] = True
        return reached[n]

    def _reads_as_words(self, name: str, exclude: str) -> bool:
        """Every word of ``name`` is a dictionary word or a compound of known words.

        Known words are dictionary words and the words of protected names
        (other than ``exclude`` and a hidden name) used by at least two of
        them. A typo rarely lands on real words; a legitimate neighbour of a
        popular name is usually named with them (``unicorn``, ``workdays``,
        ``eventkit``), while a misspelling is not (``reqeusts``, ``solna``).
        """
        key = (name, exclude, self._hidden)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= 4096:
                self._memo.clear()
            found = all(self._segments(part, exclude) for part in _words(name) if part)
            self._memo[key] = found
        return found

    def is_dictionary_name(self, name: str) -> bool:
        """Every word of ``name`` is a dictionary word (``distribute``, ``deep-merge``)."""
        parts = _words(name)
        known = [self._in_dictionary(p) for p in parts]
        return any(known) and all(k or p in AFFIX_WORDS for k, p in zip(known, parts, strict=True))

    def _reads_as_other_words(self, c: NormalizedName, t: NormalizedName) -> bool:
        """``c`` is spelled with real words where ``t`` is not: a different name, not a typo.

        Either ``c`` is made of dictionary words (no malicious name in the
        evaluation data is), or ``c`` reads as words and ``t`` does not
        (``unicorn``/``gunicorn``, ``workdays``/``workadays``).
        """
        if self.is_dictionary_name(c):
            return True
        return self._reads_as_words(c, c) and not self._reads_as_words(t, c)

    def match(self, name: str, *, weak: bool = True) -> Match | None:
        """The most convincing protected name that ``name`` imitates, if any.

        Strong resemblances win over weak ones, then more popular targets.
        With ``weak=False`` only strong ones are returned (and two-edit
        look-ups, which are always weak, are skipped). ``name`` itself is
        never its own target.
        """
        best: Match | None = None
        for found in self.matches(name, weak=weak):
            if not (weak or found.strong):
                continue
            if best is None or (not best.strong, best.rank) > (not found.strong, found.rank):
                best = found
        return best

    def matches(self, name: str, *, weak: bool = True) -> list[Match]:
        """Every resemblance of ``name`` to a protected name, strong and weak.

        A strong resemblance is downgraded (``words=True``) when ``name``
        reads as real words where the target does not. ``weak=False`` skips
        the two-edit look-up, which only finds weak resemblances.
        """
        candidate = canonicalize_name(name)
        found_all: list[Match] = []
        for found in self._candidates(candidate, weak):
            if found.target == candidate or found.target == self._hidden:
                continue
            if (
                self._has_dictionary
                and found.technique in _SPELLING
                and self._reads_as_other_words(candidate, found.target)
            ):
                found = replace(
                    found, strong=False, words=True, detail=f"{found.detail}; reads as words"
                )
            if found.technique in _SPELLING:
                if self._sibling(candidate, found.target):
                    found = replace(found, sibling=True)
            found_all.append(found)
        return found_all

    def _sibling(self, c: NormalizedName, t: NormalizedName) -> bool:
        """``c`` is ``t`` with one of its several words replaced by another known word."""
        mine, theirs = _words(c), _words(t)
        if len(mine) < 2 or len(mine) != len(theirs):
            return False
        changed = [w for w, v in zip(mine, theirs, strict=True) if w != v]
        if len(changed) != 1:
            return False
        word = changed[0]
        return self._word_uses(word, c) >= PIECE_USES or self._in_dictionary(word)

    def _target(self, i: int) -> tuple[NormalizedName, int]:
        return NormalizedName(self._names[i]), i + 1

    def _candidates(self, c: NormalizedName, weak: bool) -> Iterator[Match]:
        yield from self._edit1(c)
        yield from self._skeletons(c)
        yield from self._reordered(c)
        yield from self._affixes(c)
        if weak:
            yield from self._edit2(c)

    # -- one edit -----------------------------------------------------------

    def _edit1(self, c: NormalizedName) -> Iterator[Match]:
        # c is the target with one character removed.
        for i in self._del1.get(c):
            target, rank = self._target(i)
            pos = next((k for k in range(len(c)) if c[k] != target[k]), len(c))
            if len(target) == len(c) + 1 and target[pos + 1 :] == c[pos:]:
                yield self._classify_deletion(c, target, rank, pos)
        for pos, d in _deletes(c):
            # c is the target with one character added.
            rank = self._rank.get(d)
            if rank is not None and len(d) >= MIN_EDIT1_LENGTH:
                yield self._classify_insertion(c, NormalizedName(d), rank, pos)
            # c is the target with one character changed, or two swapped.
            for i in self._del1.get(d):
                target, rank = self._target(i)
                if len(target) == len(c):
                    found = self._classify_same_length(c, target, rank)
                    if found is not None:
                        yield found

    def _span(self, t: str, pos: int) -> tuple[int, int]:
        """The word of ``t`` around position ``pos``, as ``(start, end)``."""
        start = t.rfind("-", 0, pos) + 1
        end = t.find("-", pos)
        return start, len(t) if end < 0 else end

    def _real_words(self, c: NormalizedName, t: NormalizedName) -> bool:
        """``c`` is a single word used in other protected names, ``t`` is not.

        A typo rarely lands on another real word; a legitimate project named
        after a neighbouring word (``make``/``mbake``, ``path``/``dpath``) does.
        Only single-word names are judged so: inside a longer name, swapping
        one short word for another is exactly the game (``scikit-lean``).
        """
        return "-" not in c and self._is_word(c, c) and not self._is_word(t, c)

    def _classify_insertion(
        self, c: NormalizedName, t: NormalizedName, rank: int, pos: int
    ) -> Match:
        ch = c[pos]
        if ch in SEPARATORS:
            return self._separator(c, t, rank)
        doubled = (pos > 0 and c[pos - 1] == ch) or (pos + 1 < len(c) and c[pos + 1] == ch)
        if doubled and ch.isalpha():
            strong = len(t) >= MIN_DOUBLED_LENGTH and not self._real_words(c, t)
            return Match(
                c, t, rank, Technique.EDIT1, f"letter {ch!r} doubled", strong, "doubled", True
            )
        if doubled and ch.isdigit():
            # A digit of the name typed twice (``beautifulsoup44``), or another version.
            detail = f"digit {ch!r} doubled"
            return Match(c, t, rank, Technique.EDIT1, detail, False, "digit-doubled", True)
        typo = any(0 <= k < len(c) and k != pos and near_keys(ch, c[k]) for k in (pos - 1, pos + 1))
        detail = f"{ch!r} inserted" + (" next to a neighbouring key" if typo else "")
        return Match(c, t, rank, Technique.EDIT1, detail, False, "inserted", typo)

    def _classify_deletion(
        self, c: NormalizedName, t: NormalizedName, rank: int, pos: int
    ) -> Match:
        ch = t[pos]
        if ch in SEPARATORS:
            return self._separator(c, t, rank)
        # Dropping a letter from the middle of a name long enough to be typed
        # from memory is a typo. Dropping the first or last letter, or a digit,
        # usually yields another real name (``rq``/``q``, ``websocket``).
        start, end = self._span(t, pos)
        long_word = end - start >= MIN_DELETION_WORD_LENGTH
        # In a long hyphenated name, any word but a short one (``mypy-boto3-rds``
        # and ``-ds`` are different services, not a typo).
        long_name = "-" in t and len(t) >= MIN_DELETION_NAME_LENGTH and end - start >= 4
        plural = pos == len(t) - 1 and ch == "s"
        if 0 < pos < len(t) - 1:
            strong = long_word or long_name
        else:
            strong = len(t) >= MIN_EDGE_DELETION_LENGTH and not plural
        strong = strong and ch.isalpha() and not self._real_words(c, t)
        kind = "deleted" if 0 < pos < len(t) - 1 else "edge-deleted"
        return Match(c, t, rank, Technique.EDIT1, f"{ch!r} left out", strong, kind, True)

    def _classify_same_length(
        self, c: NormalizedName, t: NormalizedName, rank: int
    ) -> Match | None:
        diff = [k for k in range(len(c)) if c[k] != t[k]]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1
        if swapped and c[diff[0]] == t[diff[1]] and c[diff[1]] == t[diff[0]]:
            strong = (
                c[diff[0]] not in SEPARATORS
                and c[diff[1]] not in SEPARATORS
                and len(t) >= MIN_TRANSPOSITION_LENGTH
                and self._span(t, diff[0]) == self._span(t, diff[1])
                and self._span(t, diff[0])[1] - self._span(t, diff[0])[0] >= 4
                and not self._real_words(c, t)
            )
            return Match(
                c,
                t,
                rank,
                Technique.TRANSPOSITION,
                "adjacent letters swapped",
                strong,
                "swapped",
                True,
            )
        if len(diff) == 1:
            k = diff[0]
            if skeleton(c) == skeleton(t):
                return None  # reported by the skeleton check
            if c[k].isdigit() and t[k].isdigit():
                # Another number is another version or variant (``cu12``/``cu13``).
                detail = f"{t[k]!r} replaced by {c[k]!r}"
                return Match(c, t, rank, Technique.EDIT1, detail, False, "digit-changed")
            how = _slip(t[k], c[k])
            detail = f"{t[k]!r} replaced by {c[k]!r}" + (f" ({how})" if how else "")
            kind = "substituted-first" if k == 0 else "substituted"
            return Match(c, t, rank, Technique.EDIT1, detail, False, kind, bool(how))
        return None

    def _separator(self, c: NormalizedName, t: NormalizedName, rank: int) -> Match:
        """``c`` and ``t`` differ only in separators.

        Splitting a name into real words (``config-parser``) or joining them is
        how legitimate forks are named; splitting inside a word is a game.
        """
        words = _words(c)
        split_inside_word = not any(
            self._is_word(w, c) or self._in_dictionary(w) for w in words if w not in _words(t)
        )
        if len(words) > len(_words(t)):
            return Match(
                c, t, rank, Technique.SEPARATOR, "separator added", split_inside_word, "split"
            )
        return Match(c, t, rank, Technique.SEPARATOR, "separators changed", False, "separator")

    # -- look-alikes and reordering ---------------------------------------

    def _skeletons(self, c: NormalizedName) -> Iterator[Match]:
        shape = skeleton(c)
        for i in self._skeleton.get(shape):
            t, rank = self._target(i)
            if skeleton(t) != shape:
                continue  # another key with the same hash
            if t.replace("-", "") == c.replace("-", ""):
                if abs(len(t) - len(c)) != 1:  # one separator: edit1 reports it
                    yield self._separator(c, t, rank)
            else:
                yield Match(
                    c,
                    t,
                    rank,
                    Technique.HOMOGLYPH,
                    "look-alike characters",
                    True,
                    "homoglyph",
                    True,
                )

    def _reordered(self, c: NormalizedName) -> Iterator[Match]:
        words = _words(c)
        if len(words) < 2:
            return
        key = sorted(words)
        for i in self._reorder.get("-".join(key)):
            t, rank = self._target(i)
            if sorted(_words(t)) != key:
                continue  # another key with the same hash
            yield Match(c, t, rank, Technique.REORDER, "words reordered", True, "reorder")

    # -- affixes ------------------------------------------------------------

    def _affixes(self, c: NormalizedName) -> Iterator[Match]:
        for prefix in PREFIXES:
            if c.startswith(prefix):
                yield from self._affix(c, c[len(prefix) :], f"prefix {prefix!r} added")
            yield from self._affix(c, prefix + c, f"prefix {prefix!r} dropped", added=False)
        for suffix in SUFFIXES:
            if c.endswith(suffix):
                yield from self._affix(c, c[: -len(suffix)], f"suffix {suffix!r} added")
            yield from self._affix(c, c + suffix, f"suffix {suffix!r} dropped", added=False)
        for suffix in WEAK_SUFFIXES:
            if c.endswith(suffix):
                detail = f"suffix {suffix!r} added"
                yield from self._affix(c, c[: -len(suffix)], detail, strong=False, kind="generic")
        digits = _DIGITS.search(c)
        if digits and digits.start() > 0:
            stem = c[: digits.start()].rstrip("-")
            yield from self._affix(c, stem, "digits appended", strong=False, kind="digits")
        yield from self._glued(c)

    def _glued(self, c: NormalizedName) -> Iterator[Match]:
        """Any word or number glued to a protected name (``requests-utils``, ``numpyx``).

        This is how plugins are named as well as how squats are, so these are
        always weak: the snapshot and the upstream facts decide.
        """
        parts = _words(c)
        for i in range(1, len(parts)):
            head, tail = "-".join(parts[:i]), "-".join(parts[i:])
            kind = "digits" if tail.isdigit() else "word"
            yield from self._affix(c, head, f"{tail!r} appended", strong=False, kind=kind)
            kind = "digits" if head.isdigit() else "word"
            yield from self._affix(c, tail, f"{head!r} prepended", strong=False, kind=kind)
        for k in range(MIN_AFFIX_TARGET_LENGTH, len(c) - MIN_GLUED_AFFIX + 1):
            head, tail = c[:k], c[k:]
            if "-" in (c[k - 1], c[k]):
                continue  # a separated word: reported above
            # Digits are reported above; the dictionary look-up only for a protected head.
            if head in self._rank and not tail.isdigit() and self._glue(tail, c):
                yield from self._affix(c, head, f"{tail!r} glued on", strong=False, kind="glued")
        for k in range(MIN_GLUED_AFFIX, len(c) - MIN_AFFIX_TARGET_LENGTH + 1):
            head, tail = c[:k], c[k:]
            if "-" in (c[k - 1], c[k]):
                continue
            if tail in self._rank and self._glue(head, c):
                yield from self._affix(
                    c, tail, f"{head!r} glued in front", strong=False, kind="glued"
                )

    def _glue(self, piece: str, c: str) -> bool:
        """``piece`` glued to a name is a word or a letter, not the rest of another word."""
        if len(piece) == 1:
            return True
        return piece.isalpha() and (piece in self._known or self._segments(piece, c))

    def _affix(
        self,
        c: NormalizedName,
        target: str,
        detail: str,
        *,
        added: bool = True,
        strong: bool = True,
        kind: str = "",
    ) -> Iterator[Match]:
        rank = self._rank.get(target)
        if rank is None or rank > AFFIX_TOP or len(target) < MIN_AFFIX_TARGET_LENGTH:
            return
        affix = c.replace(target, "", 1) if added else target.replace(c, "", 1)
        if not kind:
            kind = "dropped" if not added else "packaging" if "-" in affix else "py-glued"
        if "-" not in affix and "py" not in target:
            strong = False
        joins = any(
            len(word) >= MIN_AFFIX_TARGET_LENGTH
            and word in self._rank
            and word != self._hidden
            and self._word_uses(word, c) <= MAX_JOINED_USES
            and not self._in_dictionary(word)
            for word in (affix.strip("-"), *_words(affix.strip("-")))
        )
        yield Match(
            c,
            NormalizedName(target),
            rank,
            Technique.AFFIX,
            detail,
            strong and added,
            f"affix-{kind}",
            joins=joins,
        )

    # -- two edits ----------------------------------------------------------

    def _edit2(self, c: NormalizedName) -> Iterator[Match]:
        if not MIN_EDIT2_LENGTH - 2 <= len(c) <= MAX_EDIT2_LENGTH + 2:
            return
        table = self._del2
        keys = _deletion_keys(c, 2)
        seen: set[int] = set()
        for key in keys:
            for i in table.get(key):
                if i in seen:
                    continue
                seen.add(i)
                t, rank = self._target(i)
                if _osa_distance(c, t, 2) == 2:
                    slips = _slips(c, t)
                    detail = "two characters changed" + (
                        f" ({slips} of them easy slips)" if slips else ""
                    )
                    yield Match(c, t, rank, Technique.EDIT2, detail, False, "edit2", slips=slips)


def _slips(c: str, t: str) -> int:
    """How many edits of one cheapest way from ``t`` to ``c`` are slips of a hand.

    A slip is a neighbouring or look-alike key for another, a letter doubled
    or typed next to its neighbour's key, a doubled letter typed once, or two
    letters swapped.
    """
    rows, cols = len(c) + 1, len(t) + 1
    d = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        d[i][0] = i
    for j in range(cols):
        d[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (c[i - 1] != t[j - 1])
            )
            if i > 1 and j > 1 and c[i - 1] == t[j - 2] and c[i - 2] == t[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    slips, i, j = 0, len(c), len(t)
    while i > 0 or j > 0:
        here = d[i][j]
        if i and j and c[i - 1] == t[j - 1] and here == d[i - 1][j - 1]:
            i, j = i - 1, j - 1
        elif (
            i > 1
            and j > 1
            and c[i - 1] == t[j - 2]
            and c[i - 2] == t[j - 1]
            and (here == d[i - 2][j - 2] + 1)
        ):
            slips += 1
            i, j = i - 2, j - 2
        elif i and j and here == d[i - 1][j - 1] + 1:
            slips += bool(_slip(t[j - 1], c[i - 1]))
            i, j = i - 1, j - 1
        elif i and here == d[i - 1][j] + 1:
            ch = c[i - 1]
            near = [c[k] for k in (i - 2, i) if 0 <= k < len(c)]
            slips += any(ch == n or near_keys(ch, n) for n in near)
            i -= 1
        else:
            ch = t[j - 1]
            slips += any(0 <= k < len(t) and t[k] == ch for k in (j - 2, j))
            j -= 1
    return slips


def _osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class TyposquatPolicy:
    """Quarantine (or block) a project whose name imitates a protected one.

    Names the index contains, and ``exempt`` names, are never flagged. Every
    resemblance the index finds is weighed (``typosquat_score.score``) with
    the snapshot of PyPI, if given, and upstream facts, if consulted; the best
    score is compared with ``thresholds``. The reason names the target ("did
    you mean ...?") and the signals that weighed most.
    """

    name = "typosquat"
    needs_facts = True
    judges_files = False  # see ``check_file``
    overrides: frozenset[str] = frozenset()

    def __init__(
        self,
        index: TyposquatIndex,
        *,
        action: Action = Action.QUARANTINE,
        mode: Mode = Mode.ENFORCE,
        exempt: Iterable[str] = (),
        snapshot: Snapshot | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.index = index
        self.action = action
        self.mode = mode
        self.exempt = frozenset(canonicalize_name(name) for name in exempt)
        self.snapshot = snapshot
        self.thresholds = thresholds or Thresholds()

    def best(self, name: str, facts: ProjectFacts | None, now: datetime) -> Score | None:
        """The highest-scoring resemblance of ``name``, if it has any."""
        best: Score | None = None
        for match in self.index.matches(name):
            found = score(match, now=now, snapshot=self.snapshot, facts=facts)
            if best is None or (found.total, -found.match.rank) > (best.total, -best.match.rank):
                best = found
        return best

    def check_project(self, subject: ProjectSubject, now: datetime) -> Decision:
        name = canonicalize_name(subject.name)
        if name in self.exempt:
            return Decision(Action.ALLOW, self.name, f"{name!r} is exempt from the typosquat check")
        if name in self.index:
            return Decision(Action.ALLOW, self.name, f"{name!r} is a protected popular project")
        found = self.best(name, subject.facts, now)
        if found is None:
            return Decision(Action.ALLOW, self.name, "no popular project has a similar name")
        total, flag = found.total, self.thresholds.flag
        if total < flag:
            return Decision(
                Action.ALLOW,
                self.name,
                f"{found.match.describe()}, but its score {total:g} is below {flag:g}: "
                f"{found.explain()}",
            )
        block = self.thresholds.block
        action = Action.BLOCK if block is not None and total >= block else self.action
        # The question first: a reason phrase may be cut short.
        return Decision(
            action,
            self.name,
            f"{found.match.describe()}. Did you mean {found.match.target!r}? "
            f"Score {total:g} (flagged from {flag:g}): {found.explain()}",
        )

    def check_file(self, subject: FileSubject, now: datetime) -> Decision:
        """Always allows: names are judged per project."""
        return _PER_PROJECT


_PER_PROJECT = Decision(Action.ALLOW, TyposquatPolicy.name, "judged per project, not per file")
