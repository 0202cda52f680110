"""False alarms of the content scan beyond the files it was tuned on: a wider legitimate sample.

    .venv/bin/python benchmarks/scan_corpus.py --cache /work/scan-corpus-wide \
        --top 3000 --tail 1500 --seed 27
    .venv/bin/python benchmarks/scan_false_alarms.py [--cache /work/scan-corpus-wide]
        [--half tune|report] [--workers 2] [--write]

``scan_eval.py`` measures flags on the 1,000 most downloaded projects and a 300-project tail
sample, split in halves; tuning on one half for many rule versions makes that half a poor
witness of the next project's fate. This run scans a second sample (the projects ranked
1,001 to 3,000 and 1,500 more long-tail projects, another seed), leaving out every project
of ``scan_eval``'s own corpus (``--known``), in one half of the same name split
(``scan_corpus.split_of``): ``tune`` to find what misfires, ``report`` to measure it once.

Reported: the share flagged (by the default scan policy) per rank band and for the tail, how
many of those are held only for carrying nothing (``empty_only``), each flagged file's name,
rank and heaviest findings, and rule hits. ``--write`` stores
``benchmarks/results/scan_false_alarms_<half>.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scan_corpus import CACHE, read_manifest, split_of  # noqa: E402
from benchmarks.scan_eval import RESULTS, _scan_path, _worker_gc, bounded_map  # noqa: E402
from pipgate.policies.scan import ScanPolicy, ScanReport  # noqa: E402
from pipgate.proxy.scan import RULES_VERSION  # noqa: E402

WIDE = Path("/work/scan-corpus-wide")
#: Rank bands of the popular projects, and the tail (rank 0).
BANDS = ((1, 1000), (1001, 2000), (2001, 3000))


def band_of(group: str, rank: int) -> str:
    if group != "popular":
        return "tail"
    for low, high in BANDS:
        if low <= rank <= high:
            return f"ranks {low:,}-{high:,}"
    return "ranks past 3,000"


def empty_only(report: ScanReport) -> bool:
    """Whether a flagged file is held for carrying nothing at all (``placeholder`` at 10:
    no code, data or requirements) and would pass without that finding: held by design,
    since nobody needs such a file, rather than a rule misreading code."""
    nothing = [f for f in report.findings if f.rule == "placeholder" and f.weight >= 10]
    return bool(nothing) and report.score - nothing[0].weight < ScanPolicy().quarantine_at


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=WIDE)
    parser.add_argument("--known", type=Path, default=CACHE, help="scan_eval's corpus, left out")
    parser.add_argument("--half", choices=["tune", "report"], default="tune")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--dump", type=Path, help="write one TSV row per file here")
    args = parser.parse_args(argv)
    dump = args.dump.open("w", encoding="utf-8") if args.dump else None
    known = {r["name"] for r in read_manifest(args.known)} if args.known.exists() else set()
    rows = [
        r
        for r in read_manifest(args.cache)
        if r["status"] == "ok" and r["name"] not in known and split_of(r["name"]) == args.half
    ]
    policy = ScanPolicy()
    counts: Counter[str] = Counter()
    flagged: list[tuple[str, int, str, str]] = []
    empty: Counter[str] = Counter()
    hits: dict[str, Counter[str]] = {}
    jobs = (
        (row, _scan_path, (row["filename"], str(args.cache / "files" / row["filename"])))
        for row in rows
    )
    with ProcessPoolExecutor(
        args.workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_gc,
        initargs=("server",),
    ) as pool:
        for row, (report, _cpu, _rss, _) in bounded_map(pool, jobs, window=4 * args.workers):
            band = band_of(row["group"], int(row["rank"] or 0))
            counts[band] += 1
            hits.setdefault(band, Counter()).update({f.rule for f in report.findings})
            if dump is not None:
                dump.write(f"{band}\t{row['filename']}\t{report.score}\t{report.summary(8)}\n")
            if not policy.decide(report).allowed:
                flagged.append((band, int(row["rank"] or 0), row["filename"], report.summary(4)))
                if empty_only(report):
                    empty[band] += 1
    lines = [
        "# Content scan: false alarms on a wider legitimate sample",
        "",
        f"Rules {RULES_VERSION}; half `{args.half}` of `{args.cache}` without `scan_eval`'s "
        f"own projects; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| projects | files | flagged | share | of them empty (nothing to install) |",
        "|---|---|---|---|---|",
    ]
    for band in sorted(counts):
        held = sum(1 for f in flagged if f[0] == band)
        share = 100 * held / counts[band]
        lines.append(f"| {band} | {counts[band]} | {held} | {share:.2f}% | {empty[band]} |")
    lines += ["", "Flagged:", ""]
    lines += [
        f"- {band}, rank {rank}: `{name}`: {why}" for band, rank, name, why in sorted(flagged)
    ]
    lines += ["", "Rule hits (files with at least one finding of the rule):", ""]
    for band in sorted(hits):
        common = ", ".join(f"{rule} {n}" for rule, n in hits[band].most_common(12))
        lines.append(f"- {band}: {common}")
    text = "\n".join(lines) + "\n"
    print(text)
    if dump is not None:
        dump.close()
    if args.write:
        (RESULTS / f"scan_false_alarms_{args.half}.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
