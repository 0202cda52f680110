"""Campaigns in the malware set: samples grouped by the code that runs when they install or import.

The malware dataset is dominated by a few campaigns (thousands of near-identical droppers, one
obfuscated ``setup.py`` copied under hundreds of names). Counted per sample, a rule that
catches one campaign looks like a big step; counted per campaign it is one. So the evaluation
groups samples into clusters and reports recall both ways.

Each sample's *fingerprint* is taken from the code that runs by itself, found by its place
alone: ``setup.py``, ``.pth`` files, top-level modules and package ``__init__.py`` files; an
archive without such code falls back to all its Python. That code is tokenized (comments and layout
dropped, string literals and numbers replaced by ``S`` and ``N``, so the package name, the
version, a webhook URL or a re-encoded payload do not tell copies apart) and read two ways:

- *exact*: identifiers other than keywords, builtins, imported modules and attribute names
  renamed in order of first appearance; samples with the same renamed token stream are one
  cluster (copies re-obfuscated with fresh variable names included);
- *near*: one-permutation MinHash over 5-token shingles of the stream with identifiers kept;
  representatives whose estimated Jaccard similarity is at least ``NEAR`` are merged (banded
  LSH finds the candidates).

The archive is read in memory through the scanner's own walk (never extracted or run).
"""

from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import re
import tokenize
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipgate.proxy.scan import ScanLimits, layout
from pipgate.proxy.scan.archive import walk
from pipgate.proxy.scan.limits import Deadline, Unscannable

BINS = 64
BANDS = 16  # of 4 bins each
NEAR = 0.7
SHINGLE = 5
_LIMITS = ScanLimits(max_source=512 * 1024, timeout=20.0)
_KEEP = frozenset(keyword.kwlist) | frozenset(dir(builtins))
_WORD = re.compile(r"[A-Za-z_]\w*|[^\sA-Za-z_\d]")
_MAX_CODE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Fingerprint:
    exact: str
    sketch: tuple[int, ...]  # BINS values; -1 for an empty bin


def fingerprint(data: bytes, filename: str) -> Fingerprint:
    """The fingerprint of one archive's install- and import-time code (never raises)."""
    try:
        code = _early_code(data, filename)
    except (Unscannable, RecursionError, MemoryError) as exc:
        code = [f"unreadable {type(exc).__name__}"]
    tokens = _tokens("\n".join(code)[:_MAX_CODE])
    exact = hashlib.sha256(" ".join(_renamed(tokens)).encode()).hexdigest()[:16]
    return Fingerprint(exact, _sketch(tokens))


def _early_code(data: bytes, filename: str) -> list[str]:
    """The text of the files that run by themselves, by their place alone (kept apart from
    the scanner's own ``layout``, so that changes to the engine never move the clusters)."""
    wheel = layout.is_wheel(filename)
    texts: dict[str, str] = {}
    paths: list[str] = []
    for member in walk(io.BytesIO(data), _LIMITS, Deadline(_LIMITS.timeout), _wanted):
        paths.append(member.path)
        if member.data is not None:
            texts[member.path] = member.data.decode("utf-8", "replace")
    root = layout.strip_root(paths, wheel)
    texts = {p[len(root) :]: t for p, t in texts.items()}
    early = sorted((_rank(p, wheel), p) for p in texts if _rank(p, wheel) < 9)
    code = [texts[p] for _, p in early if texts[p].strip()]
    if not code:
        code = [texts[p] for p in sorted(texts) if texts[p].strip()]
    if not code:
        kinds = sorted({p.rsplit(".", 1)[-1] for p in paths if "." in p.rsplit("/", 1)[-1]})
        code = ["no python " + " ".join(kinds)]
    return code


def _wanted(path: str, size: int) -> bool:
    return path.endswith((".py", ".pyw", ".pth"))


def _rank(path: str, wheel: bool) -> int:
    """0 ``setup.py``, 1 ``.pth``, 2 top-level package ``__init__.py``, 3 top-level module;
    9 anything else."""
    parts = path.split("/")
    if not wheel and path == "setup.py":
        return 0
    if path.endswith(".pth"):
        return 1
    if parts[0] == "src" and not wheel:
        parts = parts[1:]
    if len(parts) == 2 and parts[1] == "__init__.py":
        return 2
    if len(parts) == 1 and (wheel or path.startswith("src/")):
        return 3
    return 9


def _tokens(text: str) -> list[tuple[str, str]]:
    """``(kind, text)`` pairs: ``N`` (name), ``S``, ``0`` (number), ``O`` (anything else)."""
    out: list[tuple[str, str]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NAME:
                out.append(("N", token.string))
            elif token.type == tokenize.STRING:
                out.append(("S", "S"))
            elif token.type == tokenize.NUMBER:
                out.append(("0", "N"))
            elif token.type == tokenize.OP:
                out.append(("O", token.string))
            elif token.type == tokenize.NEWLINE:
                out.append(("O", ";"))
            elif token.type == tokenize.ERRORTOKEN and token.string.strip():
                out.append(("O", token.string))
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError, RecursionError):
        out = [("N" if m[0].isalpha() or m[0] == "_" else "O", m) for m in _WORD.findall(text)]
    return out


def _renamed(tokens: Sequence[tuple[str, str]]) -> list[str]:
    """Identifiers renamed ``v0, v1, ...`` in order of first appearance, except keywords,
    builtins, imported names and attribute names (those carry what the code does)."""
    kept = set(_KEEP)
    importing = False
    for index, (kind, text) in enumerate(tokens):
        if kind == "N" and text in ("import", "from"):
            importing = True
        elif importing and kind == "N" and text != "as" and tokens[index - 1][1] != "as":
            kept.add(text)
        elif importing and kind == "O" and text not in (".", ",", "(", ")", "*"):
            importing = False
        elif kind == "N" and index and tokens[index - 1][1] == ".":
            kept.add(text)
    names: dict[str, str] = {}
    out = []
    for kind, text in tokens:
        if kind == "N" and text not in kept:
            text = names.setdefault(text, f"v{len(names)}")
        out.append(text)
    return out


def _sketch(tokens: Sequence[tuple[str, str]]) -> tuple[int, ...]:
    """One-permutation MinHash of the stream's 5-token shingles (identifiers as written)."""
    words = [text for _, text in tokens]
    bins = [-1] * BINS
    for i in range(max(1, len(words) - SHINGLE + 1)):
        shingle = " ".join(words[i : i + SHINGLE]).encode()
        value = int.from_bytes(hashlib.blake2b(shingle, digest_size=8).digest(), "big")
        slot, rest = value % BINS, value // BINS
        if bins[slot] < 0 or rest < bins[slot]:
            bins[slot] = rest
    return tuple(bins)


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two sketches (bins empty in both are ignored)."""
    both = [(x, y) for x, y in zip(a, b, strict=True) if x >= 0 or y >= 0]
    if not both:
        return 1.0
    return sum(1 for x, y in both if x == y) / len(both)


def clusters(prints: Sequence[Fingerprint]) -> list[int]:
    """A cluster id for each fingerprint (ids are indexes of a representative)."""
    parent = list(range(len(prints)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first: dict[str, int] = {}
    for index, item in enumerate(prints):
        union(first.setdefault(item.exact, index), index)
    representatives = sorted({find(i) for i in range(len(prints))})
    rows = BINS // BANDS
    buckets: dict[tuple[int, tuple[int, ...]], list[int]] = defaultdict(list)
    for index in representatives:
        sketch = prints[index].sketch
        for band in range(BANDS):
            key = sketch[band * rows : (band + 1) * rows]
            if all(v < 0 for v in key):
                continue
            buckets[(band, key)].append(index)
    checked: set[tuple[int, int]] = set()
    for members in buckets.values():
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if (i, j) in checked or find(i) == find(j):
                    continue
                checked.add((i, j))
                if similarity(prints[i].sketch, prints[j].sketch) >= NEAR:
                    union(i, j)
    return [find(i) for i in range(len(prints))]


def macro_recall(labels: Iterable[int], flagged: Iterable[bool]) -> tuple[float, int]:
    """The mean over clusters of the share of each cluster flagged, and the cluster count."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for label, hit in zip(labels, flagged, strict=True):
        totals[label][0] += 1
        totals[label][1] += int(hit)
    if not totals:
        return 0.0, 0
    return sum(hits / size for size, hits in totals.values()) / len(totals), len(totals)
