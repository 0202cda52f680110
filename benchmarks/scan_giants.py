"""The content scan on the largest files of popular projects, which the other runs skip.

    .venv/bin/python benchmarks/scan_giants.py [--cache /work/scan-giants]
        [--corpus /work/scan-corpus --corpus /work/scan-corpus-wide] [--write]

``scan_corpus.py`` skips files over 300 MB, so ``scan_eval`` and ``scan_false_alarms``
never see torch, tensorflow, pyspark or the CUDA libraries: the projects an organisation
doing machine learning installs on every runner, and the archives nearest the scan's time
and memory caps. This run downloads each file those corpora list as ``too large`` (from
PyPI, sha256-checked, kept in ``cache``) and scans it alone in a fresh process, as a
scan worker would (the server's garbage-collector settings, the default caps), so the
peak memory is that file's.

Reported per file: the verdict of the default scan policy, its score and heaviest findings
(or why it could not be scanned), wall and CPU seconds, and the process's peak resident
memory. ``--write`` stores ``benchmarks/results/scan_giants.md``. A file is named by its
project and rank, never hidden: these are legitimate files, and each flagged one is a false
alarm that would stop an install.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scan_corpus import CACHE, Wanted, fetch_one, read_manifest, tls  # noqa: E402
from benchmarks.scan_eval import RESULTS, _worker_gc  # noqa: E402
from pipgate.policies.scan import ScanPolicy  # noqa: E402
from pipgate.proxy.scan import RULES_VERSION, scan_archive  # noqa: E402

GIANTS = Path("/work/scan-giants")
WIDE = Path("/work/scan-corpus-wide")
#: The largest file downloaded (the scan's own cap on an archive is 4 GiB).
MAX_GIANT = 4 * 1024**3


def giants(corpora: list[Path]) -> list[Wanted]:
    """The projects the corpora skipped as too large, each once, by rank."""
    seen: dict[str, Wanted] = {}
    for corpus in corpora:
        if not (corpus / "manifest.tsv").exists():
            continue
        for row in read_manifest(corpus):
            if row["status"] == "too large" and row["name"] not in seen:
                seen[row["name"]] = Wanted(row["group"], int(row["rank"]), row["name"])
    return sorted(seen.values(), key=lambda w: (w.group != "popular", w.rank, w.name))


def scan_alone(path: str) -> dict:
    """In a fresh worker: scan one file; its report, seconds and peak memory."""
    _worker_gc("server")
    wall, cpu = time.perf_counter(), time.process_time()
    report = scan_archive(path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    decision = ScanPolicy().decide(report)
    return {
        "flagged": not decision.allowed,
        "score": report.score,
        "incomplete": report.incomplete,
        "findings": [f"{f.rule} {f.weight:g} {f.file}:{f.line}" for f in report.findings[:4]],
        "files_read": report.files_read,
        "wall": wall,
        "cpu": cpu,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=GIANTS)
    parser.add_argument("--corpus", type=Path, action="append")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    corpora = args.corpus or [CACHE, WIDE]
    (args.cache / "files").mkdir(parents=True, exist_ok=True)
    rows = []
    with httpx.Client(timeout=600, follow_redirects=True, trust_env=False, verify=tls()) as client:
        for item in giants(corpora):
            row = fetch_one(client, item, args.cache, MAX_GIANT)
            print(f"{item.name}: {row['status']}", file=sys.stderr)
            rows.append(row)
    lines = [
        f"# The content scan on the largest popular files (rules {RULES_VERSION})",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d}: `benchmarks/scan_giants.py`, the files "
        f"{', '.join(f'`{c}`' for c in corpora)} skip as over 300 MB, each scanned alone "
        "in a fresh process with the default caps (30 s).",
        "",
        "| rank | file | MB | verdict | score | wall s | CPU s | peak MiB | findings |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    context = multiprocessing.get_context("spawn")
    for row in rows:
        if row["status"] != "ok":
            lines.append(f"| {row['rank']} | {row['name']}: {row['status']} | | | | | | | |")
            continue
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            result = pool.submit(scan_alone, str(args.cache / "files" / row["filename"])).result()
        verdict = (
            f"held: {result['incomplete']}"
            if result["incomplete"]
            else "**flagged**"
            if result["flagged"]
            else "passed"
        )
        line = (
            f"| {row['rank']} | `{row['filename']}` | {int(row['size']) / 1e6:,.0f} | {verdict} "
            f"| {result['score']:g} | {result['wall']:.1f} | {result['cpu']:.1f} "
            f"| {result['peak_mib']:.0f} | {'; '.join(result['findings'])} |"
        )
        print(line)
        lines.append(line)
    if args.write:
        (RESULTS / "scan_giants.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
