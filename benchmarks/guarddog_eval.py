"""GuardDog and pipgate's content scan on the same archives, side by side; write a report.

    python3 -m venv benchmarks/.work/venvs/guarddog
    benchmarks/.work/venvs/guarddog/bin/pip install guarddog==3.2.0
    .venv/bin/python -m benchmarks.guarddog_eval [--added-from 2025-01-01 | --added-before ...]
        [--legit tune|report|all|none] [--limit N] [--workers 2] [--write --name NAME]

The archives are ``scan_eval``'s: the malware registry's (read from its git mirror) and the
legitimate cache's halves. GuardDog (``guarddog pypi scan FILE --output-format json``) reads a
file, so each malware archive is written into a private temporary directory for the length
of its scan and removed after; GuardDog extracts and reads it statically, as pipgate does.
Nothing is installed, built, imported or run, and nothing is kept.

GuardDog's verdict is its risk label (``risk_score.label``): *high_risk*, *suspicious or
worse*, and *any finding* (any rule, capability rules included) are reported apart, as issue
14 does. pipgate's is the default scan policy's (quarantined or blocked), on the same bytes in
the same run. GuardDog runs offline here (its caches of popular names fail to download, so
its metadata typosquatting rule sees no corpus); its source rules, the ones issue 14's anchor
counts, do not need them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scan_corpus import CACHE  # noqa: E402
from benchmarks.scan_eval import (  # noqa: E402
    REGISTRY,
    RESULTS,
    Sample,
    blobs,
    bounded_map,
    legitimate,
    malware,
)
from pipgate.policies.scan import ScanPolicy  # noqa: E402
from pipgate.proxy.scan import RULES_VERSION, scan_archive  # noqa: E402

GUARDDOG = ROOT / "benchmarks" / ".work" / "venvs" / "guarddog" / "bin" / "guarddog"
#: GuardDog's labels, from no risk to high risk (``guarddog.analyzer.risk_engine.RiskLabel``).
LABELS = ("no_risks_detected", "low_risk", "suspicious", "high_risk")


@dataclass(frozen=True)
class Verdicts:
    """Both tools' verdicts on one archive."""

    pipgate_held: bool
    label: str  # GuardDog's risk label, or "error"
    issues: int  # GuardDog's findings, capability rules included
    guarddog_seconds: float


def guarddog(path: Path, timeout: float) -> tuple[str, int, float]:
    """(label, findings, seconds) of ``guarddog pypi scan`` on one archive file; the label
    is ``error`` when GuardDog fails or runs past ``timeout``."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [str(GUARDDOG), "pypi", "scan", str(path), "--output-format", "json"],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        report = json.loads(done.stdout)
        label = str(report["risk_score"]["label"])
        issues = int(report.get("issues") or 0)
    except (subprocess.TimeoutExpired, ValueError, KeyError, TypeError):
        label, issues = "error", 0
    return label, issues, time.perf_counter() - started


def judge(sample: Sample, data: bytes | None, timeout: float) -> Verdicts:
    """Both verdicts on one archive: pipgate's in this process, GuardDog's on a private
    temporary copy (malware) or the cached file (legitimate)."""
    filename = sample.name.rsplit("/", 1)[-1]
    report = scan_archive(data if data is not None else sample.path, filename)  # type: ignore[arg-type]
    held = not ScanPolicy().decide(report).allowed
    if data is None:
        label, issues, seconds = guarddog(Path(sample.path or ""), timeout)
    else:
        folder = Path(tempfile.mkdtemp(prefix="guarddog-eval-"))
        try:
            path = folder / filename
            path.write_bytes(data)
            label, issues, seconds = guarddog(path, timeout)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return Verdicts(held, label, issues, seconds)


def samples(args: argparse.Namespace) -> Iterator[tuple[Sample, bytes | None]]:
    held_out = args.added_from is not None
    mal = malware(args.registry, None if held_out else args.added_before, args.added_from)
    if args.limit:
        step = max(1, len(mal) // args.limit)
        mal = mal[::step][: args.limit]
    yield from blobs(args.registry, mal)
    for sample in legitimate(args.cache, args.legit):
        yield sample, None


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}% ({count}/{total})" if total else "-"


def _times(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"{1000 * statistics.median(ordered):.0f} / {1000 * p99:.0f} ms"


def summarize(rows: list[tuple[Sample, Verdicts]], args: argparse.Namespace) -> str:
    groups: dict[str, list[Verdicts]] = {}
    for sample, verdicts in rows:
        groups.setdefault(sample.group, []).append(verdicts)
    malware_set = (
        f"malware added from {args.added_from}"
        if args.added_from
        else f"malware added before {args.added_before}"
    )
    lines = [
        "# GuardDog and pipgate on the same archives",
        "",
        f"pipgate rules {RULES_VERSION}; GuardDog 3.2.0 (offline); {malware_set}"
        f"{f' ({args.limit} of them, evenly spread)' if args.limit else ''}; legitimate half "
        f"`{args.legit}`; {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; "
        f"{args.workers} workers.",
        "",
        "| | archives | pipgate (default policy) | GuardDog high_risk | GuardDog suspicious or"
        " worse | GuardDog any finding | GuardDog errors |",
        "|---|---|---|---|---|---|---|",
    ]
    names = {
        "malware": "recall on malware",
        "popular": "flagged, popular",
        "tail": "flagged, long tail",
    }
    for group in ("malware", "popular", "tail"):
        rows_of = groups.get(group, [])
        if not rows_of:
            continue
        total = len(rows_of)
        suspicious = LABELS.index("suspicious")
        lines.append(
            f"| {names[group]} | {total} "
            f"| {_share(sum(v.pipgate_held for v in rows_of), total)} "
            f"| {_share(sum(v.label == 'high_risk' for v in rows_of), total)} "
            f"| {_share(sum(v.label in LABELS[suspicious:] for v in rows_of), total)} "
            f"| {_share(sum(v.issues > 0 for v in rows_of), total)} "
            f"| {sum(v.label == 'error' for v in rows_of)} |"
        )
    lines += [
        "",
        "Agreement (pipgate's default policy against GuardDog's high_risk):",
        "",
        "| | both | pipgate only | GuardDog only | neither |",
        "|---|---|---|---|---|",
    ]
    for group in ("malware", "popular", "tail"):
        rows_of = groups.get(group, [])
        if rows_of:
            cells = [
                sum(v.pipgate_held is p and (v.label == "high_risk") is g for v in rows_of)
                for p, g in ((True, True), (True, False), (False, True), (False, False))
            ]
            lines.append(f"| {group} | " + " | ".join(map(str, cells)) + " |")
    lines += ["", "GuardDog's time per archive (the whole command), median / p99:", ""]
    lines += [
        f"- {group}: {_times([v.guarddog_seconds for v in groups[group]])}"
        for group in ("malware", "popular", "tail")
        if groups.get(group)
    ]
    lines += ["", "pipgate's own times are `scan_eval`'s (here its scans share the process)."]
    for group in ("popular", "tail"):
        flagged = [
            (sample.name, verdicts)
            for sample, verdicts in rows
            if sample.group == group and (verdicts.pipgate_held or verdicts.label == "high_risk")
        ]
        if flagged:
            lines += ["", f"{group.capitalize()} files either flags (pipgate / GuardDog):", ""]
            lines += [
                f"- `{name}`: {'held' if v.pipgate_held else 'passed'} / {v.label}"
                for name, v in flagged
            ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--registry", type=Path, default=REGISTRY)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--added-before", default="2025-01-01")
    parser.add_argument("--added-from", default=None)
    parser.add_argument("--legit", default="tune", choices=("tune", "report", "all", "none"))
    parser.add_argument("--limit", type=int, default=0, help="malware archives, evenly spread")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600.0, help="GuardDog seconds per archive")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--name", default="guarddog_eval")
    args = parser.parse_args()
    if not GUARDDOG.exists():
        sys.exit(f"GuardDog is not installed at {GUARDDOG}; see this module's docstring")
    os.environ.setdefault("GUARDDOG_LOG_LEVEL", "ERROR")
    rows: list[tuple[Sample, Verdicts]] = []
    with ThreadPoolExecutor(args.workers) as pool:
        jobs = (
            (sample, lambda a: judge(*a), (sample, data, args.timeout))
            for sample, data in samples(args)
        )
        for sample, verdicts in bounded_map(pool, jobs, window=2 * args.workers):
            rows.append((sample, verdicts))
    text = summarize(rows, args)
    print(text)
    if args.write:
        (RESULTS / f"{args.name}.md").write_text(text)


if __name__ == "__main__":
    main()
