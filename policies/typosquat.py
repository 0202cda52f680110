"""Typosquat policy: quarantine a project whose name imitates a popular one.

The corpus of protected names is injected (``TyposquatIndex.build``); loading it
is the proxy's job. Everything here is pure: no I/O, no clock.

A resemblance is either *strong* (a technique that legitimate projects rarely
produce by accident: a doubled letter, adjacent letters swapped, a homoglyph, a
separator inside a word, reordered words, ``python-`` and friends, a letter
dropped from a long name or from any name at the very top of the corpus, a
name's own version digit stuttered, its ``py`` word mangled) or *weak* (a
single substituted letter, a trailing digit, a dropped first or last letter:
legitimate neighbours of popular names look like that all the time). Name
alone, strong resemblances are flagged and weak ones are not; upstream facts
move the line both ways: an established project (old and with many releases) is
never flagged, a brand-new one is flagged for weak resemblances too.

Words tell names apart from misspellings. With a dictionary injected
(``build(names, words=...)``), a strong resemblance becomes weak when the name
is made of dictionary words or reads as words where the protected name does not
(``unicorn``/``gunicorn``, ``workdays``/``workadays``): a typo rarely lands on
words, a legitimate neighbour is usually named with them. Conversely, a letter
dropped inside a six-letter word is strong when what is left is no words
(``solna``/``solana``). Without a dictionary, names are judged by spelling alone.

Checking a name costs a handful of hash-table look-ups: the index holds
deletion neighbourhoods (symmetric delete) for one edit over the whole corpus and
for two edits over long, popular names, a skeleton map for homoglyphs and
separators, a sorted-words map for reordering, and the name set for affixes.
The tables are flat arrays of key hashes and name ids (``_Table``), not dicts
of strings: a few MiB for 15,000 names instead of tens, and quick to build.
"""

from __future__ import annotations

import copy
import enum
import operator
import re
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import chain, repeat

from packaging.utils import NormalizedName, canonicalize_name

from .decision import Action, Decision, Mode
from .subjects import FileSubject, ProjectFacts, ProjectSubject

# Protect a name against one insertion, deletion or swap only from this length:
# one edit turns most short names into other real short names (``rq``/``q``).
MIN_EDIT1_LENGTH = 4
MIN_DOUBLED_LENGTH = 4
MIN_TRANSPOSITION_LENGTH = 5
MIN_DELETION_WORD_LENGTH = 7
MIN_DELETION_NAME_LENGTH = 10
# A letter dropped from inside a shorter word still counts when what is left
# does not read as words (``solana``/``solna``, but not ``postgrest``/``postgres``).
MIN_NONWORD_DELETION_LENGTH = 6
MIN_EDGE_DELETION_LENGTH = 9
# The very top of the corpus is what people type every day and what
# typosquatters target; few legitimate projects sit one letter away from it
# (they would be drowned by the popular name), so a dropped letter anywhere
# counts from this length on.
TOP_RANK = 500
MIN_TOP_DELETION_LENGTH = 5
# Two edits: only long names, and only the most popular ones. Legitimate
# projects within two edits of a popular name are the rule, so two edits are
# a weak resemblance (flagged only for a fresh project).
MIN_EDIT2_LENGTH = 9
MAX_EDIT2_LENGTH = 24
EDIT2_TOP = 1000
# Affix games are only worth it against names people actually type.
AFFIX_TOP = 5000
MIN_AFFIX_TARGET_LENGTH = 4

# Facts: malicious uploads are removed within days, so a project that has been
# around for months with several releases is not a typosquat in practice.
ESTABLISHED_AGE = timedelta(days=180)
ESTABLISHED_RELEASES = 3
FRESH_AGE = timedelta(days=30)

SEPARATORS = "-"
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
# The packaging words of PyPI names: mangling one inside a longer name
# (``discord-yp``) is a typo of the name, not a different project.
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

    ``strong`` says whether the resemblance is suspicious by itself or only for
    a brand-new project. ``detail`` describes the edit for a person.
    """

    name: NormalizedName
    target: NormalizedName
    rank: int
    technique: Technique
    detail: str
    strong: bool

    def describe(self) -> str:
        return (
            f"name {self.name!r} imitates popular project {self.target!r} "
            f"(rank {self.rank}; {self.detail})"
        )


# A table entry packs the high 40 bits of a key's hash and a name id (24 bits)
# into one int, so that building a table is one sort of plain ints.
_ID_BITS = 24
_ID_MASK = (1 << _ID_BITS) - 1
_HASH_MASK = ~_ID_MASK


class _Keys:
    """Collects ``(key, id)`` pairs compactly while an index is being built."""

    __slots__ = ("packed",)

    def __init__(self) -> None:
        self.packed: array[int] = array("q")

    def add(self, keys: Iterable[str], value: int) -> None:
        hashes = map(operator.and_, map(hash, keys), repeat(_HASH_MASK))
        self.packed.extend(map(operator.or_, hashes, repeat(value)))


class _Table:
    """A read-only multimap from strings to name ids, in one flat array.

    Keys are kept only as hashes, sorted, with their ids; a look-up is a
    binary search. Hashes are per process, so a table never leaves the
    process that built it. Two keys with one hash (vanishingly rare) only add
    candidates, and every caller verifies its candidates.
    """

    __slots__ = ("_packed",)

    def __init__(self, keys: _Keys) -> None:
        self._packed = array("q", sorted(keys.packed))

    def _span(self, key: str) -> tuple[int, int]:
        packed = self._packed
        low = hash(key) & _HASH_MASK
        start = bisect_left(packed, low)
        if start == len(packed) or packed[start] > low | _ID_MASK:
            return start, start  # most look-ups miss: one binary search
        return start, bisect_right(packed, low | _ID_MASK, start)

    def get(self, key: str) -> list[int]:
        """The ids stored under ``key``."""
        start, end = self._span(key)
        if start == end:
            return []
        return [entry & _ID_MASK for entry in self._packed[start:end]]

    def count(self, key: str) -> int:
        """How many ids are stored under ``key``."""
        start, end = self._span(key)
        return end - start

    def __len__(self) -> int:
        return len(self._packed)


class _WordSet:
    """A read-only set of words, kept as one sorted array of their hashes.

    A dictionary of 60,000 words costs about 0.5 MiB this way instead of
    several as a set of strings. A hash collision can only make a non-word
    count as a word, which makes the check more lenient, never stricter.
    """

    __slots__ = ("_hashes",)

    def __init__(self, words: Iterable[str] = ()) -> None:
        # Duplicates are harmless to a binary search: no set of ints is built.
        self._hashes = array("q", sorted(map(hash, words)))

    def union(self, words: Iterable[str]) -> _WordSet:
        merged = _WordSet()
        merged._hashes = array("q", sorted(chain(self._hashes, map(hash, words))))
        return merged

    def __contains__(self, word: str) -> bool:
        hashes, key = self._hashes, hash(word)
        at = bisect_left(hashes, key)
        return at < len(hashes) and hashes[at] == key

    def __len__(self) -> int:
        return len(self._hashes)


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

    def _is_dictionary_name(self, name: str) -> bool:
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
        if self._is_dictionary_name(c):
            return True
        return self._reads_as_words(c, c) and not self._reads_as_words(t, c)

    def match(self, name: str, *, weak: bool = True) -> Match | None:
        """The most convincing protected name that ``name`` imitates, if any.

        Strong resemblances win over weak ones, then more popular targets.
        With ``weak=False`` only strong ones are returned (and two-edit
        look-ups, which are always weak, are skipped). ``name`` itself is
        never its own target.
        """
        candidate = canonicalize_name(name)
        best: Match | None = None
        for found in self._candidates(candidate, weak):
            if found.target == candidate or found.target == self._hidden:
                continue
            if (
                found.strong
                and self._has_dictionary
                and found.technique in _SPELLING
                and self._reads_as_other_words(candidate, found.target)
            ):
                found = replace(found, strong=False, detail=f"{found.detail}; reads as words")
            if not (weak or found.strong):
                continue
            if best is None or (not best.strong, best.rank) > (not found.strong, found.rank):
                best = found
        return best

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
            return Match(c, t, rank, Technique.EDIT1, f"letter {ch!r} doubled", strong)
        if doubled and ch.isdigit() and t[-1] == ch and pos >= len(t) - 1:
            # A version digit that is part of the name, stuttered
            # (``beautifulsoup44``); a new major version would change it.
            strong = len(t) >= MIN_DOUBLED_LENGTH and t[-2:-1].isalpha()
            return Match(c, t, rank, Technique.EDIT1, f"digit {ch!r} doubled", strong)
        return Match(c, t, rank, Technique.EDIT1, f"{ch!r} inserted", False)

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
        long_name = (
            "-" in t
            and len(t) >= MIN_DELETION_NAME_LENGTH
            and (end - start >= 4 or t[start:end] in AFFIX_WORDS)
        )
        plural = pos == len(t) - 1 and ch == "s"
        if 0 < pos < len(t) - 1:
            strong = (
                long_word
                or long_name
                or (
                    self._has_dictionary
                    and end - start >= MIN_NONWORD_DELETION_LENGTH
                    and t[start:end].isalpha()
                    and not self._reads_as_words(c, c)
                )
            )
        else:
            strong = len(t) >= MIN_EDGE_DELETION_LENGTH and not plural
        top = rank <= TOP_RANK and len(t) >= MIN_TOP_DELETION_LENGTH and not plural
        strong = (strong or top) and ch.isalpha() and not self._real_words(c, t)
        return Match(c, t, rank, Technique.EDIT1, f"{ch!r} left out", strong)

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
                and (
                    self._span(t, diff[0])[1] - self._span(t, diff[0])[0] >= 4
                    or (
                        len(t) >= MIN_DELETION_NAME_LENGTH
                        and "-" in t
                        and t[slice(*self._span(t, diff[0]))] in AFFIX_WORDS
                    )
                )
                and not self._real_words(c, t)
            )
            return Match(c, t, rank, Technique.TRANSPOSITION, "adjacent letters swapped", strong)
        if len(diff) == 1:
            k = diff[0]
            if skeleton(c) == skeleton(t):
                return None  # reported by the skeleton check
            return Match(c, t, rank, Technique.EDIT1, f"{t[k]!r} replaced by {c[k]!r}", False)
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
            return Match(c, t, rank, Technique.SEPARATOR, "separator added", split_inside_word)
        return Match(c, t, rank, Technique.SEPARATOR, "separators changed", False)

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
                yield Match(c, t, rank, Technique.HOMOGLYPH, "look-alike characters", True)

    def _reordered(self, c: NormalizedName) -> Iterator[Match]:
        words = _words(c)
        if len(words) < 2:
            return
        key = sorted(words)
        for i in self._reorder.get("-".join(key)):
            t, rank = self._target(i)
            if sorted(_words(t)) != key:
                continue  # another key with the same hash
            yield Match(c, t, rank, Technique.REORDER, "words reordered", True)

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
                yield from self._affix(c, c[: -len(suffix)], detail, strong=False)
        digits = _DIGITS.search(c)
        if digits and digits.start() > 0:
            stem = c[: digits.start()].rstrip("-")
            yield from self._affix(c, stem, "digits appended", strong=False)

    def _affix(
        self,
        c: NormalizedName,
        target: str,
        detail: str,
        *,
        added: bool = True,
        strong: bool = True,
    ) -> Iterator[Match]:
        rank = self._rank.get(target)
        if rank is None or rank > AFFIX_TOP or len(target) < MIN_AFFIX_TARGET_LENGTH:
            return
        affix = c.replace(target, "", 1) if added else target.replace(c, "", 1)
        if "-" not in affix and "py" not in target:
            strong = False
        yield Match(c, NormalizedName(target), rank, Technique.AFFIX, detail, strong and added)

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
                    yield Match(c, t, rank, Technique.EDIT2, "two characters changed", False)


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


def _age(facts: ProjectFacts, now: datetime) -> timedelta | None:
    return None if facts.first_upload is None else now - facts.first_upload


def _established(facts: ProjectFacts, now: datetime) -> bool:
    """Old and released many times: typosquats are taken down within days."""
    age = _age(facts, now)
    return (
        age is not None
        and age >= ESTABLISHED_AGE
        and facts.release_count is not None
        and facts.release_count >= ESTABLISHED_RELEASES
    )


def _days(delta: timedelta) -> str:
    return f"{delta.days} d" if delta.days else f"{int(delta.total_seconds() // 3600)} h"


class TyposquatPolicy:
    """Quarantine (or block) a project whose name imitates a protected one.

    Names the index contains, and ``exempt`` names, are never flagged. Without
    facts (offline), only strong resemblances are flagged. With facts, an
    established project (first upload at least ``ESTABLISHED_AGE`` ago and
    ``ESTABLISHED_RELEASES`` releases) is allowed, and a fresh one (first
    upload less than ``FRESH_AGE`` ago) is flagged for weak resemblances too.
    """

    name = "typosquat"
    needs_facts = True
    overrides: frozenset[str] = frozenset()

    def __init__(
        self,
        index: TyposquatIndex,
        *,
        action: Action = Action.QUARANTINE,
        mode: Mode = Mode.ENFORCE,
        exempt: Iterable[str] = (),
    ) -> None:
        self.index = index
        self.action = action
        self.mode = mode
        self.exempt = frozenset(canonicalize_name(name) for name in exempt)

    def check_project(self, subject: ProjectSubject, now: datetime) -> Decision:
        name = canonicalize_name(subject.name)
        if name in self.exempt:
            return Decision(Action.ALLOW, self.name, f"{name!r} is exempt from the typosquat check")
        if name in self.index:
            return Decision(Action.ALLOW, self.name, f"{name!r} is a protected popular project")
        facts = subject.facts
        age = None if facts is None else _age(facts, now)
        fresh = age is not None and age < FRESH_AGE
        # Weak resemblances only matter for a fresh project; not looking for
        # them otherwise also skips the costliest look-up (two edits).
        match = self.index.match(name, weak=fresh)
        if match is None:
            return Decision(Action.ALLOW, self.name, "no popular project has a similar name")
        if facts is not None and age is not None and _established(facts, now):
            return Decision(
                Action.ALLOW,
                self.name,
                f"{match.describe()}, but it is established "
                f"(first upload {_days(age)} ago, {facts.release_count} releases)",
            )
        if match.strong or age is None:
            return Decision(self.action, self.name, match.describe())
        return Decision(
            self.action,
            self.name,
            f"{match.describe()}; new project (first upload {_days(age)} ago)",
        )

    def check_file(self, subject: FileSubject, now: datetime) -> Decision:
        """Always allows: names are judged per project."""
        return Decision(Action.ALLOW, self.name, "judged per project, not per file")
