"""Measure the content scan on real malware and on legitimate PyPI files; write a report.

    .venv/bin/python benchmarks/scan_eval.py [--added-before 2025-01-01 | --added-from 2025-01-01]
        [--legit tune|report|all] [--limit N] [--show-misses N] [--show-flags] [--write]

Malware: the archives of the ASE 2023 dataset (``lxyeternal/pypi_malregistry``), read from its
bare git mirror (``--registry``) with ``git cat-file`` straight into memory and scanned there:
never extracted, installed, built, imported or run, never copied anywhere. Each archive is
dated by the commit that added its path (``git log --diff-filter=A``). Development uses only
those added before 2025-01-01 (``--added-before``, the default); ``--added-from 2025-01-01``
is the held-out evaluation, to be run once, after tuning is frozen.

Legitimate files: the cache ``benchmarks/scan_corpus.py`` fills (the newest sdist, else wheel,
of the 1,000 most downloaded projects and a long-tail sample). They are split in two halves
by a fixed hash of the name (``scan_corpus.split_of``): tune on ``--legit tune`` (default),
report on ``--legit report``.

Figures: recall (share of malicious archives quarantined or blocked by the default scan
policy), flag rate on legitimate files (popular and long tail apart), hits per rule on each
side, scan time per archive (median, p99, max; measured inside the scan, as the proxy would
spend it: ``--gc server``, the default, sets the garbage collector as ``pipgate serve`` does)
and the peak memory of the scanning processes. ``--write`` stores them in
``benchmarks/results/scan_eval.{json,md}`` (``--name`` for another name: the development
run is kept as ``scan_eval_dev``).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import multiprocessing
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scan_clusters import Fingerprint, clusters, fingerprint, macro_recall  # noqa: E402
from benchmarks.scan_corpus import CACHE, read_manifest, split_of  # noqa: E402
from pipgate.policies.scan import ScanPolicy, ScanReport  # noqa: E402
from pipgate.proxy.scan import RULES_VERSION, scan_archive  # noqa: E402

REGISTRY = Path("/work/.mirror/lxyeternal+pypi_malregistry/repo")
RESULTS = ROOT / "benchmarks" / "results"
ARCHIVES = (".tar.gz", ".whl", ".zip", ".tgz", ".tar.bz2", ".egg")
MISSING: list[str] = []  # malware samples whose blob the mirror does not hold
GUARDDOG = {
    "recall": 61.7,
    "flag_rate_popular": 6.3,
    "any_finding_malware": 90.0,
    "any_finding_popular": 81.8,
    "seconds": 2.0,
}


@dataclass(frozen=True)
class Sample:
    group: str  # malware | popular | tail
    name: str  # registry path or filename
    blob: str | None = None  # git blob id (malware)
    path: str | None = None  # file path (legitimate)
    added: str = ""  # YYYY-MM-DD the registry added it (malware)


def dated_paths(registry: Path) -> dict[str, str]:
    """Every path of the registry's HEAD with the date (YYYY-MM-DD) its path was first added."""
    log = subprocess.run(
        [
            "git",
            "-C",
            str(registry),
            "log",
            "--no-renames",
            "--diff-filter=A",
            "--format=%x00@%ad",
            "--date=short",
            "--name-only",
            "-z",
        ],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "surrogateescape")
    added: dict[str, str] = {}
    date = ""
    for item in log.split("\0"):
        item = item.strip("\n")
        if item.startswith("@"):
            date = item[1:]
        elif item:
            added[item] = date  # older commits come later and win: the first addition
    return added


def malware(registry: Path, before: str | None, since: str | None) -> list[Sample]:
    added = dated_paths(registry)
    tree = subprocess.run(
        ["git", "-C", str(registry), "ls-tree", "-r", "-z", "HEAD"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "surrogateescape")
    samples = []
    for entry in tree.split("\0"):
        if not entry:
            continue
        meta, path = entry.split("\t", 1)
        date = added.get(path)
        if date is None or not path.endswith(ARCHIVES):
            continue
        if (before and date < before) or (since and date >= since):
            samples.append(Sample("malware", path, blob=meta.split()[2], added=date))
    return sorted(samples, key=lambda s: s.name)


def legitimate(cache: Path, half: str) -> list[Sample]:
    if half == "none":
        return []
    rows = [r for r in read_manifest(cache) if r["status"] == "ok"]
    return [
        Sample(r["group"], r["filename"], path=str(cache / "files" / r["filename"]))
        for r in rows
        if half == "all" or split_of(r["name"]) == half
    ]


def blobs(registry: Path, samples: list[Sample]) -> Iterator[tuple[Sample, bytes]]:
    """Each malware sample's bytes, streamed from ``git cat-file --batch`` into memory."""
    with subprocess.Popen(
        ["git", "-C", str(registry), "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as git:
        assert git.stdin is not None and git.stdout is not None
        for sample in samples:
            git.stdin.write(f"{sample.blob}\n".encode())
            git.stdin.flush()
            header = git.stdout.readline().split()
            if len(header) < 3:  # "<id> missing": the mirror left this blob out
                MISSING.append(sample.name)
                continue
            data = git.stdout.read(int(header[2]))
            git.stdout.read(1)
            yield sample, data
        git.stdin.close()


def _worker_gc(mode: str) -> None:
    """``server``: the garbage collector as ``pipgate serve`` sets it once started (what
    start-up built frozen, ``GC_THRESHOLDS``), so scan times are the proxy's; ``default``:
    Python's defaults (as ``pipgate scan`` runs)."""
    if mode == "server":
        from pipgate.proxy.app import GC_THRESHOLDS

        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)


def _scan_bytes(item: tuple[str, bytes]) -> tuple[ScanReport, float, int, Fingerprint]:
    name, data = item
    filename = name.rsplit("/", 1)[-1]
    cpu = time.process_time()
    report = scan_archive(data, filename)
    cpu = time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return report, cpu, rss, fingerprint(data, filename)


def _scan_path(item: tuple[str, str]) -> tuple[ScanReport, float, int, None]:
    name, path = item
    cpu = time.process_time()
    report = scan_archive(path, name)
    cpu = time.process_time() - cpu
    return report, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, None


def run(args: argparse.Namespace) -> dict:
    policy = ScanPolicy()
    held_out = args.added_from is not None
    mal = malware(args.registry, None if held_out else args.added_before, args.added_from)
    legit = legitimate(args.cache, args.legit)
    if args.limit:
        step = max(1, len(mal) // args.limit)
        mal = mal[::step][: args.limit]
    results: list[tuple[Sample, ScanReport, float]] = []
    prints: list[Fingerprint] = []
    peak_kib = 0
    started = time.perf_counter()
    # spawn, not fork: a forked worker can inherit a lock held by another thread.
    with ProcessPoolExecutor(
        args.workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_gc,
        initargs=(args.gc,),
    ) as pool:
        jobs = itertools.chain(
            (
                (sample, _scan_bytes, (sample.name, data))
                for sample, data in blobs(args.registry, mal)
            ),
            ((sample, _scan_path, (sample.name, sample.path)) for sample in legit),
        )
        for sample, (report, cpu, rss, sketch) in bounded_map(pool, jobs, window=4 * args.workers):
            results.append((sample, report, cpu))
            if sketch is not None:
                prints.append(sketch)
            peak_kib = max(peak_kib, rss)
    wall = time.perf_counter() - started
    return summarize(results, prints, policy, args, wall, peak_kib)


def bounded_map(pool, jobs, window):  # type: ignore[no-untyped-def]
    """Run ``(key, fn, arg)`` jobs with at most ``window`` in flight (memory stays bounded:
    ``jobs`` is consumed lazily), yielding ``(key, result)`` in submission order."""
    pending: deque = deque()
    for key, fn, arg in jobs:
        pending.append((key, pool.submit(fn, arg)))
        if len(pending) >= window:
            key0, future = pending.popleft()
            yield key0, future.result()
    while pending:
        key0, future = pending.popleft()
        yield key0, future.result()


def summarize(results, prints, policy, args, wall, peak_kib) -> dict:  # type: ignore[no-untyped-def]
    groups: dict[str, list[tuple[Sample, ScanReport, bool]]] = {}
    cpus: dict[str, list[float]] = {}
    for sample, report, cpu in results:
        flagged = not policy.decide(report).allowed
        groups.setdefault(sample.group, []).append((sample, report, flagged))
        cpus.setdefault(sample.group, []).append(cpu)
    out: dict = {
        "rules_version": RULES_VERSION,
        "malware_set": (
            f"added from {args.added_from}"
            if args.added_from
            else f"added before {args.added_before}"
        ),
        "legit_half": args.legit,
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()} {platform.python_version()} {args.workers} workers",
        "gc": args.gc,
        "wall_seconds": round(wall, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "malware_blobs_missing": len(MISSING),
        "groups": {},
    }
    for group, rows in groups.items():
        times = sorted(r.seconds for _, r, _ in rows)
        cpu = sorted(cpus[group])
        hits = Counter(rule for _, r, _ in rows for rule in {f.rule for f in r.findings})
        flagged = [s.name for s, _, f in rows if f]
        out["groups"][group] = {
            "archives": len(rows),
            "flagged": len(flagged),
            "flag_rate": round(100 * len(flagged) / len(rows), 2) if rows else 0.0,
            "incomplete": sum(1 for _, r, _ in rows if r.incomplete),
            "any_finding": sum(1 for _, r, _ in rows if r.findings),
            "median_ms": round(1000 * statistics.median(times), 1),
            "p99_ms": round(1000 * times[min(len(times) - 1, int(0.99 * len(times)))], 1),
            "max_ms": round(1000 * times[-1], 1),
            "cpu_median_ms": round(1000 * statistics.median(cpu), 1),
            "cpu_p99_ms": round(1000 * cpu[min(len(cpu) - 1, int(0.99 * len(cpu)))], 1),
            "cpu_max_ms": round(1000 * cpu[-1], 1),
            "rule_hits": dict(hits.most_common()),
            "flagged_names": flagged if group != "malware" else [],
            "incomplete_names": [s.name for s, r, _ in rows if r.incomplete]
            if group != "malware"
            else [],
            "slowest": [
                [s.name, round(1000 * r.seconds, 1)]
                for s, r, _ in sorted(rows, key=lambda row: -row[1].seconds)[:5]
            ],
        }
    mal = groups.get("malware", [])
    labels = clusters(prints) if mal else []
    if mal:
        out["splits"] = splits(mal, labels, args)
    if args.show_misses and mal:
        show_misses(mal, labels, args)
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as handle:
            for group, rows in groups.items():
                for index, (sample, report, flagged) in enumerate(rows):
                    label = labels[index] if group == "malware" else -1
                    handle.write(
                        f"{group}\t{sample.name}\t{sample.added}\t{label}\t{int(flagged)}\t"
                        f"{report.score}\t{report.seconds:.4f}\t{report.summary(8)}\n"
                    )
    if args.show_flags:
        for group in ("popular", "tail"):
            for sample, report, flagged in groups.get(group, []):
                if flagged or (args.show_flags > 1 and report.findings):
                    print(f"FLAG {group} {sample.name} {report.summary(6)}", file=sys.stderr)
    return out


def splits(rows, labels, args) -> dict:  # type: ignore[no-untyped-def]
    """Recall per sample and per cluster on the whole set and, for development, on its
    out-of-time halves: *train* (added before ``--split-at``) and *validation* (after),
    and validation restricted to clusters with no member in train (new campaigns)."""
    everything = list(range(len(rows)))
    if args.added_from:
        parts = {"held-out": everything}
    else:
        train = [i for i in everything if rows[i][0].added < args.split_at]
        seen = {labels[i] for i in train}
        validation = [i for i in everything if rows[i][0].added >= args.split_at]
        parts = {
            "development": everything,
            f"train (added before {args.split_at})": train,
            f"validation (added from {args.split_at})": validation,
            "validation, new clusters only": [i for i in validation if labels[i] not in seen],
        }
    out = {}
    for name, picked in parts.items():
        flagged = [rows[i][2] for i in picked]
        macro, count = macro_recall([labels[i] for i in picked], flagged)
        caught = {labels[i] for i in picked if rows[i][2]}
        out[name] = {
            "samples": len(picked),
            "flagged": sum(flagged),
            "recall": round(100 * sum(flagged) / len(picked), 2) if picked else 0.0,
            "clusters": count,
            "macro_recall": round(100 * macro, 2),
            "clusters_touched": round(100 * len(caught) / count, 2) if count else 0.0,
        }
    return out


def show_misses(rows, labels, args) -> None:  # type: ignore[no-untyped-def]
    """One missed sample per cluster (largest clusters first) from ``--misses-from``."""
    sizes = Counter(labels)
    missed = Counter(labels[i] for i, row in enumerate(rows) if not row[2])
    chosen = []
    seen = set()
    for index, (sample, report, flagged) in enumerate(rows):
        if flagged or labels[index] in seen:
            continue
        if args.misses_from == "train" and sample.added >= args.split_at:
            continue
        if args.misses_from == "validation" and sample.added < args.split_at:
            continue
        seen.add(labels[index])
        label = labels[index]
        chosen.append((missed[label], sizes[label], sample, report))
    chosen.sort(key=lambda item: (-item[0], item[2].name))
    for misses, size, sample, report in chosen[: args.show_misses]:
        print(
            f"MISS [{misses}/{size}] {sample.name} {sample.added} {report.summary(5)}",
            file=sys.stderr,
        )


def _share(group: dict, key: str) -> str:
    """``group[key]`` as a percentage of the group's archives, or "not measured" for results
    written before the count existed."""
    if key not in group or not group.get("archives"):
        return "not measured"
    return f"{round(100 * group[key] / group['archives'], 2)}% ({group[key]})"


def markdown(data: dict) -> str:
    g = data["groups"]
    mal, pop, tail = g.get("malware", {}), g.get("popular", {}), g.get("tail", {})
    lines = [
        "# Content scan evaluation",
        "",
        f"Rules {data['rules_version']}; malware {data['malware_set']}; legitimate half "
        f"`{data['legit_half']}`; {data['when']}; {data['machine']}; garbage collector "
        + (
            "as `pipgate serve` sets it."
            if data.get("gc", "default") == "server"
            else "at Python's defaults."
        ),
        "",
        "| | pipgate | GuardDog 3.2 (issue 14) |",
        "|---|---|---|",
        f"| recall on malware | **{mal.get('flag_rate', 0)}%** ({mal.get('flagged', 0)}/{mal.get('archives', 0)}) "
        f"| {GUARDDOG['recall']}% |",
        f"| flagged, popular projects' latest files | **{pop.get('flag_rate', 0)}%** "
        f"({pop.get('flagged', 0)}/{pop.get('archives', 0)}) | {GUARDDOG['flag_rate_popular']}% |",
        f"| flagged, long-tail projects | {tail.get('flag_rate', 0)}% "
        f"({tail.get('flagged', 0)}/{tail.get('archives', 0)}) | |",
        f"| any finding at all, malware / popular | {_share(mal, 'any_finding')} / "
        f"{_share(pop, 'any_finding')} | {GUARDDOG['any_finding_malware']}% / "
        f"{GUARDDOG['any_finding_popular']}% |",
        f"| scan time per archive, median / p99 (malware) | {mal.get('median_ms')} / {mal.get('p99_ms')} ms "
        f"(CPU {mal.get('cpu_median_ms')} / {mal.get('cpu_p99_ms')} ms) | ~2 s |",
        f"| scan time per archive, median / p99 / max (popular) | {pop.get('median_ms')} / {pop.get('p99_ms')} / "
        f"{pop.get('max_ms')} ms (CPU {pop.get('cpu_median_ms')} / {pop.get('cpu_p99_ms')} / "
        f"{pop.get('cpu_max_ms')} ms) | ~2 s |",
        f"| peak memory of a scanning process | {data['peak_rss_mib']} MiB | |",
        "",
    ]
    if data.get("splits"):
        lines += [
            "Recall per sample and per campaign cluster (samples grouped by their install- and "
            "import-time code, `benchmarks/scan_clusters.py`; *per cluster* is the mean over "
            "clusters of the share flagged; *touched*: clusters with at least one flagged):",
            "",
            "| malware | samples | recall per sample | clusters | recall per cluster | touched |",
            "|---|---|---|---|---|---|",
        ]
        for name, row in data["splits"].items():
            lines.append(
                f"| {name} | {row['samples']} | **{row['recall']}%** ({row['flagged']}) | "
                f"{row['clusters']} | **{row['macro_recall']}%** | {row['clusters_touched']}% |"
            )
        lines.append("")
    lines += [
        "Hits per rule (archives with at least one finding of the rule):",
        "",
        "| rule | malware | popular | long tail |",
        "|---|---|---|---|",
    ]
    rules = sorted(
        {r for group in g.values() for r in group["rule_hits"]},
        key=lambda r: -mal.get("rule_hits", {}).get(r, 0),
    )
    for rule in rules:
        lines.append(
            f"| {rule} | {mal.get('rule_hits', {}).get(rule, 0)} | "
            f"{pop.get('rule_hits', {}).get(rule, 0)} | {tail.get('rule_hits', {}).get(rule, 0)} |"
        )
    for group in ("popular", "tail"):
        names = g.get(group, {}).get("flagged_names", [])
        if names:
            lines += ["", f"Flagged {group} files: " + ", ".join(f"`{n}`" for n in names)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--added-before", default="2025-01-01", help="development set (default)")
    when.add_argument("--added-from", help="held-out set: run once, after tuning is frozen")
    parser.add_argument(
        "--split-at", default="2024-01-01", help="out-of-time split of the development set"
    )
    parser.add_argument("--legit", choices=["tune", "report", "all", "none"], default="tune")
    parser.add_argument("--registry", type=Path, default=REGISTRY)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--limit", type=int, default=0, help="an even sample of N malware")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--gc",
        choices=["server", "default"],
        default="server",
        help="garbage collector settings of the scanning processes (server: as pipgate serve)",
    )
    parser.add_argument("--show-misses", type=int, default=0)
    parser.add_argument("--misses-from", choices=["train", "validation", "all"], default="train")
    parser.add_argument("--show-flags", type=int, default=0)
    parser.add_argument("--dump", type=Path, help="write one TSV row per archive here")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/NAME.*")
    parser.add_argument("--name", default="scan_eval", help="results file name (no suffix)")
    args = parser.parse_args(argv)
    data = run(args)
    text = markdown(data)
    print(text)
    if args.write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{args.name}.json").write_text(json.dumps(data, indent=2) + "\n")
        (RESULTS / f"{args.name}.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
