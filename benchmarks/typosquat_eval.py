"""Measure the typosquat policy against labelled names; print a Markdown report.

    .venv/bin/python benchmarks/typosquat_eval.py [--malicious TSV] [--legit TSV] [--corpus SRC]
        [--words FILE | --no-words] [--show]

Inputs (never copied into the project): ``typosquats-dev.tsv`` (column ``name``,
optionally ``method``) and ``legit-near-popular-dev.tsv`` (column ``name``),
by default from ``../shared/eval/`` next to the repository. The corpus is the
bundled one unless ``--corpus`` names a file; the English word list is the
bundled one unless ``--words`` names a file (one word a line) or ``--no-words``
leaves it out (names are then judged by spelling alone). With a word list, the
report also gives the name-only figures without it and which names it changes.

Protocol (``../shared/eval/README.md``): recall is the share of malicious names
the policy quarantines or blocks; false positives are the share of legitimate
names it flags, once with the corpus as shipped (corpus names are exempt) and
once with each name removed from the corpus before it is checked
(``TyposquatIndex.without``, checked here against a real rebuild on a sample).

The eval names carry no upstream facts, so the headline row is the name-only
check (``facts=None``, what the proxy decides offline; the issue's protocol).
Two more rows, always labelled, add synthetic facts and are never the headline:

- *as served*: each malicious name judged as it was when it could be requested
  (first upload 2 days earlier, one release: malicious uploads are removed
  within days), each legitimate name with ``facts=None`` (conservative: the
  proxy would see most of them as established and exempt them);
- *worst case*: the legitimate names judged as brand-new projects too.

Index cost is measured in a fresh interpreter: build time and the growth of
its resident set (``/proc/self/statm``) and of ``ru_maxrss``, plus tracemalloc.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from packaging.utils import canonicalize_name  # noqa: E402

from pipgate.policies.subjects import ProjectFacts, ProjectSubject  # noqa: E402
from pipgate.policies.typosquat import TyposquatIndex, TyposquatPolicy  # noqa: E402
from pipgate.proxy.corpus import load_bundled_names, load_bundled_words, read_corpus_file  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
NOW = datetime(2026, 11, 27, tzinfo=UTC)
FRESH = ProjectFacts(first_upload=NOW - timedelta(days=2), release_count=1, file_count=1)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def flagged(policy: TyposquatPolicy, name: str, facts: ProjectFacts | None) -> bool:
    subject = ProjectSubject(canonicalize_name(name), facts=facts)
    return not policy.check_project(subject, NOW).allowed


def pct(hits: int, total: int) -> str:
    return f"{100 * hits / total:.1f}% ({hits}/{total})"


_FRESH_PROCESS = """
import gc, resource, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
from pipgate.proxy.corpus import load_bundled_names, load_bundled_words, read_corpus_file
from pipgate.policies.typosquat import TyposquatIndex
words_arg = sys.argv[2]
names = read_corpus_file(sys.argv[3]) if len(sys.argv) > 3 else load_bundled_names()
page = resource.getpagesize()
def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * page
gc.collect()
rss0, max0 = rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
def words():
    if words_arg == "-":
        return []
    if words_arg == "bundled":
        return load_bundled_words()
    with open(words_arg, encoding="utf-8") as handle:
        return handle.read().split()
index = TyposquatIndex.build(names, words=words())
build = time.perf_counter() - start
gc.collect()
rss1, max1 = rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
index.match("beautifullsooup4")  # builds the two-edit table on first use
lazy = time.perf_counter() - start
gc.collect()
rss2 = rss()
tracemalloc.start()
kept = TyposquatIndex.build(names, words=words())
kept.match("beautifullsooup4")
traced = tracemalloc.get_traced_memory()[0]
print(build, lazy, rss1 - rss0, (max1 - max0) * 1024, rss2 - rss0, traced)
"""


def measure_build(corpus: str | None, words: str) -> dict[str, float]:
    """Index cost in a fresh interpreter: seconds and bytes (see ``_FRESH_PROCESS``).

    ``words``: ``"bundled"``, ``"-"`` (none) or a file; the build time
    includes reading the word list.
    """
    argv = [sys.executable, "-c", _FRESH_PROCESS, str(ROOT), words, *([corpus] if corpus else [])]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.split()
    keys = ("build", "lazy", "rss", "maxrss", "rss_with_edit2", "traced")
    return dict(zip(keys, map(float, out), strict=True))


def time_checks(
    check: Callable[[str], object], names: Sequence[str], rounds: int = 5
) -> list[float]:
    """Per-call times in microseconds, ``rounds`` passes over ``names``."""
    times = []
    for _ in range(rounds):
        for name in names:
            start = time.perf_counter_ns()
            check(name)
            times.append((time.perf_counter_ns() - start) / 1000)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--malicious", type=Path, default=EVAL / "typosquats-dev.tsv")
    parser.add_argument("--legit", type=Path, default=EVAL / "legit-near-popular-dev.tsv")
    parser.add_argument("--corpus", help="corpus file (default: the bundled corpus)")
    parser.add_argument("--words", help="English word list, one a line (default: bundled)")
    parser.add_argument("--no-words", action="store_true", help="no English word list")
    parser.add_argument("--show", action="store_true", help="list misses and false positives")
    args = parser.parse_args(argv)

    names = read_corpus_file(args.corpus) if args.corpus else load_bundled_names()
    if args.no_words:
        words, words_arg, words_label = [], "-", "none"
    elif args.words:
        words = Path(args.words).read_text(encoding="utf-8").split()
        words_arg, words_label = args.words, args.words
    else:
        words, words_arg, words_label = list(load_bundled_words()), "bundled", "bundled"
    cost = measure_build(args.corpus, words_arg)
    index = TyposquatIndex.build(names, words=words)
    policy = TyposquatPolicy(index)
    malicious = read_rows(args.malicious)
    legit = [row["name"] for row in read_rows(args.legit)]

    def removed(name: str, facts: ProjectFacts | None) -> bool:
        return flagged(TyposquatPolicy(index.without(name)), name, facts)

    rows = []
    for label, malicious_facts, legit_facts in (
        ("**(a) name only** (headline; the issue's protocol)", None, None),
        ("(b) as served: malicious 2 days old, 1 release; legit facts unknown", FRESH, None),
        ("(c) worst case: every name 2 days old, 1 release", FRESH, FRESH),
    ):
        caught = [row for row in malicious if flagged(policy, row["name"], malicious_facts)]
        fp_shipped = [name for name in legit if flagged(policy, name, legit_facts)]
        fp_removed = [name for name in legit if removed(name, legit_facts)]
        rows.append((label, caught, fp_shipped, fp_removed))

    # The O(1) exclusion must agree with a real rebuild.
    sample = random.Random(0).sample(legit, min(20, len(legit)))
    for name in sample:
        rebuilt = TyposquatIndex.build(
            (n for n in names if n != canonicalize_name(name)), words=words
        )
        view = index.without(name)
        a, b = view.match(name), rebuilt.match(name)
        same = (a and (a.target, a.technique, a.strong)) == (
            b and (b.target, b.technique, b.strong)
        )
        assert same, name

    everything = [row["name"] for row in malicious] + legit
    times = time_checks(lambda n: flagged(policy, n, None), everything)
    new_names = [row["name"] for row in malicious]
    new_times = time_checks(lambda n: flagged(policy, n, None), new_names)
    fresh_times = time_checks(lambda n: flagged(policy, n, FRESH), new_names)
    removed_times = time_checks(lambda n: removed(n, None), legit, rounds=2)
    leave_one_out = [name for name in names if index.without(name).match(name, weak=False)]

    print("## Typosquat policy evaluation\n")
    in_corpus = sum(name in index for name in legit)
    print(
        f"Corpus: {len(index)} names; English words: {len(words)} ({words_label}); "
        f"malicious: {len(malicious)}; legitimate: {len(legit)} "
        f"({in_corpus} of them in the corpus).\n"
    )
    print("| facts | recall | FP, corpus as shipped | FP, name removed from corpus |")
    print("| --- | --- | --- | --- |")
    for label, caught, fp_shipped, fp_removed in rows:
        print(
            f"| {label} | {pct(len(caught), len(malicious))} | "
            f"{pct(len(fp_shipped), len(legit))} | {pct(len(fp_removed), len(legit))} |"
        )
    out_of_corpus = [
        row for row in malicious if canonicalize_name(row.get("target", "")) not in index
    ]
    reachable = len(malicious) - len(out_of_corpus)
    caught_reachable = sum(canonicalize_name(row.get("target", "")) in index for row in rows[0][1])
    print(
        f"\nRows (b) and (c) use synthetic facts; only (a) is comparable with GuardDog's "
        f"name check (89% recall, 29% FP with the name removed).\n"
        f"\nMalicious names whose target is not in the corpus (cannot be caught): "
        f"{pct(len(out_of_corpus), len(malicious))}; name-only recall on the others: "
        f"{pct(caught_reachable, reachable)}."
    )

    if words:
        # What the word signal adds: the same name-only check by spelling alone.
        spelling = TyposquatIndex.build(names)
        plain = TyposquatPolicy(spelling)
        caught_plain = {row["name"] for row in malicious if flagged(plain, row["name"], None)}
        fp_plain = {n for n in legit if flagged(TyposquatPolicy(spelling.without(n)), n, None)}
        caught_words = {row["name"] for row in rows[0][1]}
        fp_words = set(rows[0][3])
        print(
            f"\nName only without the word list (spelling alone): recall "
            f"{pct(len(caught_plain), len(malicious))}, FP with the name removed "
            f"{pct(len(fp_plain), len(legit))}. The word list cleared "
            f"{len(fp_plain - fp_words)} of those false positives and added "
            f"{len(fp_words - fp_plain)}; it caught {len(caught_words - caught_plain)} more "
            f"malicious names and lost {len(caught_plain - caught_words)}."
        )
        if args.show:
            print("Cleared:", ", ".join(sorted(fp_plain - fp_words)))
            print("Added FP:", ", ".join(sorted(fp_words - fp_plain)))
            print("Caught more:", ", ".join(sorted(caught_words - caught_plain)))

    label, caught, _, fp_removed = rows[0]
    caught_names = {row["name"] for row in caught}
    by_method: Counter[str] = Counter(row.get("method", "?") for row in malicious)
    hit_method: Counter[str] = Counter(row.get("method", "?") for row in caught)
    print("\n| eval method | recall (name only) |\n| --- | --- |")
    for method, total in sorted(by_method.items()):
        print(f"| {method} | {pct(hit_method[method], total)} |")
    fp_technique: Counter[str] = Counter()
    for name in fp_removed:
        match = index.without(name).match(name)
        assert match is not None
        fp_technique[f"{match.technique.value}: {match.detail.split(' ', 1)[-1]}"] += 1
    print("\n| technique of false positives (name removed) | count |\n| --- | --- |")
    for technique, count in fp_technique.most_common():
        print(f"| {technique} | {count} |")

    print("\n| cost | value |\n| --- | --- |")
    for what, sample_times in (
        ("check one eval name (as shipped)", times),
        ("check a name not in the corpus (malicious set)", new_times),
        ("same, fresh-project facts (adds two-edit look-up)", fresh_times),
    ):
        p99 = statistics.quantiles(sample_times, n=100)[98]
        print(f"| {what}: median / p99 | {statistics.median(sample_times):.1f} / {p99:.1f} µs |")
    removed_median = statistics.median(removed_times)
    mib = 2**20
    print(f"| check with name removed (`without`), median | {removed_median:.1f} µs |")
    print(f"| index build (fresh process) | {cost['build'] * 1000:.0f} ms |")
    print(f"| two-edit table, built on first weak look-up | {cost['lazy'] * 1000:.0f} ms |")
    print(
        f"| RSS growth building the index (fresh process) | {cost['rss'] / mib:.1f} MiB "
        f"(peak ru_maxrss +{cost['maxrss'] / mib:.1f} MiB; "
        f"{cost['rss_with_edit2'] / mib:.1f} MiB with the two-edit table) |"
    )
    print(f"| index memory, all tables (tracemalloc) | {cost['traced'] / mib:.1f} MiB |")
    print(f"| `without` agrees with a rebuild | {len(sample)}/{len(sample)} sampled names |")
    print(
        f"\nWhole corpus, each name removed and checked (a broader, unlabelled legit set): "
        f"{pct(len(leave_one_out), len(names))} flagged by name alone."
    )

    if args.show:
        print("\nMissed:", ", ".join(r["name"] for r in malicious if r["name"] not in caught_names))
        print("\nFalse positives (removed):")
        for name in fp_removed:
            print(f"- {index.without(name).match(name).describe()}")  # type: ignore[union-attr]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
