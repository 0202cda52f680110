"""Build the typosquat data shipped in ``proxy/data/``: the PyPI snapshot and the prebuilt index.

    .venv/bin/python benchmarks/build_typosquat_data.py [--pypi TSV] [--corpus TSV] [--out FILE]
        [--index-only]

``typosquat-index.bin`` is the typosquat index of the bundled corpus and word
list (``TyposquatIndex.to_bytes``), so the proxy loads it instead of building it
at start-up; rebuild it whenever the corpus, the word list or the matcher's
parameters change (the proxy refuses an index built with other parameters, and
a test checks that the shipped one matches a fresh build).

Inputs: a listing of PyPI projects (``name, version, month, ...``: the month of
each project's latest release; by default the environment's package list) and
the ranked corpus of protected names (by default the bundled one). Output: the
binary snapshot described in ``policies/typosquat_snapshot.py``: the projects
that lie in the neighbourhood of a protected name (two edits, look-alike
skeleton, reordered words, affixes), split into established and recent ones, and
per protected name how many established projects surround it.

The snapshot month is the latest month in the listing (a listing is taken
during its last month). Deterministic: the same inputs give the same bytes.
Run time about a minute; never run by the proxy or the tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from packaging.utils import canonicalize_name  # noqa: E402

from pipgate.policies.typosquat import TyposquatIndex, skeleton  # noqa: E402
from pipgate.policies.typosquat_snapshot import Density, Snapshot  # noqa: E402
from pipgate.proxy.config.corpus import load_bundled_words, read_corpus_file  # noqa: E402

PYPI = Path("/work/.library/env/packages/pypi.tsv")
CORPUS = ROOT / "proxy" / "data" / "popular-pypi.tsv"
OUT = ROOT / "proxy" / "data" / "pypi-snapshot.bin"
INDEX_OUT = ROOT / "proxy" / "data" / "typosquat-index.bin"
# Malicious uploads are removed within days; a latest release this many months
# before the snapshot, with the project still listed, is a long-standing project.
ESTABLISHED_MONTHS = 3
# Protected names shorter than this have no edit neighbourhood worth listing:
# one edit from a three-letter name is any other three-letter name.
MIN_EDIT_TARGET = 3
MIN_AFFIX_TARGET = 3


def listing_rows(path: Path, *columns: str) -> Iterator[list[str]]:
    """The cells of ``columns`` (named in the listing's header line) of each row that has
    them all."""
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        wanted = [header.index(column) for column in columns]
        for line in handle:
            cells = line.rstrip("\n").split("\t")
            if len(cells) > max(wanted):
                yield [cells[i] for i in wanted]


def read_listing(path: Path) -> dict[str, str]:
    """Normalized name -> month of the latest release (``YYYY-MM``)."""
    months: dict[str, str] = {}
    for name, month in listing_rows(path, "name", "month"):
        if len(month) == 7:
            name = canonicalize_name(name)
            months[name] = max(months.get(name, ""), month)
    return months


def _deletes(word: str, depth: int) -> set[str]:
    keys = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        keys |= frontier
    return keys


def osa(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance, capped at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def affix_targets(name: str, targets: dict[str, int]) -> set[int]:
    """Protected names that ``name`` is made of plus an affix, or that are ``name`` plus one."""
    found: set[int] = set()
    parts = name.split("-")
    for i in range(1, len(parts)):
        for piece in ("-".join(parts[:i]), "-".join(parts[i:])):
            if piece in targets and len(piece) >= MIN_AFFIX_TARGET:
                found.add(targets[piece])
    for i in range(MIN_AFFIX_TARGET, len(name)):
        for piece in (name[:i], name[-i:]):
            if piece in targets:
                found.add(targets[piece])
    return found


def build(listing: dict[str, str], corpus: list[str]) -> tuple[Snapshot, dict[str, int]]:
    snapshot_month = max(listing.values())
    year, month = map(int, snapshot_month.split("-"))
    cutoff_index = year * 12 + month - 1 - ESTABLISHED_MONTHS
    cutoff = f"{cutoff_index // 12:04d}-{cutoff_index % 12 + 1:02d}"

    targets = {name: i for i, name in enumerate(corpus)}
    del2: dict[str, list[int]] = defaultdict(list)
    shapes: dict[str, list[int]] = defaultdict(list)
    reorder: dict[str, list[int]] = defaultdict(list)
    pieces: dict[str, list[int]] = defaultdict(list)  # a target minus an affix
    for name, i in targets.items():
        if len(name) >= MIN_EDIT_TARGET:
            for key in _deletes(name, 2):
                del2[key].append(i)
        shapes[skeleton(name)].append(i)
        if "-" in name:
            reorder["-".join(sorted(name.split("-")))].append(i)
        for k in range(MIN_AFFIX_TARGET, len(name)):
            pieces[name[:k]].append(i)
            pieces[name[-k:]].append(i)

    edit1 = [0] * len(corpus)
    edit2 = [0] * len(corpus)
    affix = [0] * len(corpus)
    established: list[str] = []
    recent: list[str] = []
    for name in sorted(listing):
        near: set[int] = set()
        is_established = listing[name] <= cutoff
        edits: set[int] = set()
        for key in _deletes(name, 2):
            edits.update(del2.get(key, ()))
        for i in edits:
            distance = osa(name, corpus[i])
            if 0 < distance <= 2:
                near.add(i)
                if is_established:
                    (edit1 if distance == 1 else edit2)[i] += 1
        near.update(shapes.get(skeleton(name), ()))
        if "-" in name:
            near.update(reorder.get("-".join(sorted(name.split("-"))), ()))
        affixed = affix_targets(name, targets)
        near |= affixed
        near.update(pieces.get(name, ()))
        if is_established:
            for i in affixed:
                affix[i] += 1
        if name in targets:
            near.add(targets[name])
        if near:
            (established if is_established else recent).append(name)

    density = {name: Density(edit1[i], edit2[i], affix[i]) for name, i in targets.items()}
    snapshot = Snapshot.build(
        datetime(year, month, 1, tzinfo=UTC),
        established=established,
        recent=recent,
        targets=density,
        established_months=ESTABLISHED_MONTHS,
    )
    stats = {
        "listed": len(listing),
        "established": len(established),
        "recent": len(recent),
        "targets": len(targets),
    }
    return snapshot, stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pypi", type=Path, default=PYPI)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--index-out", type=Path, default=INDEX_OUT)
    parser.add_argument("--index-only", action="store_true", help="only the prebuilt index")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    corpus = read_corpus_file(args.corpus)
    index = TyposquatIndex.build(corpus, words=load_bundled_words())
    data = index.to_bytes()
    args.index_out.write_bytes(data)
    print(f"{args.index_out.name}: {len(index)} protected names; {len(data)} bytes")
    if args.index_only:
        return 0
    listing = read_listing(args.pypi)
    snapshot, stats = build(listing, corpus)
    data = snapshot.to_bytes()
    args.out.write_bytes(data)
    print(
        f"{args.out.name}: snapshot {snapshot.taken:%Y-%m}, {stats['listed']} projects listed, "
        f"{stats['established']} established and {stats['recent']} recent neighbours of "
        f"{stats['targets']} protected names; {len(data)} bytes; "
        f"{time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
