"""The advisory feeds at the size of OSV's PyPI export: load time, memory, event-loop lag, lookups.

    .venv/bin/python benchmarks/intel_bench.py [--mal 14000] [--vulns 8000]

Writes a synthetic feed shaped like ``PyPI/all.zip`` (deterministic): ``--mal``
OpenSSF malicious-packages records (most list one to five versions, a fifth
condemn every version) and ``--vulns`` PYSEC/GHSA records in alias pairs (a
CVE each), with ECOSYSTEM ranges, CVSS v3 vectors and enumerated ``versions``
lists of 5 to 400 entries (as OSV exports them). Then measures:

- reading the zip into both indexes (wall time; the median of three reads);
- memory: the peak while reading and what the indexes keep (tracemalloc);
- the event loop while ``IntelFeeds.load`` reads it: the longest gap between
  10 ms ticks of a task running beside it (the read happens in a thread);
- lookups: ``check_file`` of the malicious and vulnerabilities policies for
  a listed project, first call (compiles that project's claims) and warm, and
  for an unlisted one (the common case on a real index).

Writes ``benchmarks/results/intel.md`` and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from packaging.version import Version

from benchmarks.harness import RESULTS, machine_line
from pipgate.policies.advisories import KINDS, MALICIOUS, VULNERABILITIES
from pipgate.policies.malicious import MaliciousPolicy
from pipgate.policies.subjects import FileSubject
from pipgate.policies.vulnerabilities import VulnerabilitiesPolicy
from pipgate.proxy.intel.feeds import FeedSpec, IntelFeeds
from pipgate.proxy.intel.sources import read_feed

CVSS = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N",
    "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
]


def _versions(rng: random.Random, count: int) -> list[str]:
    major = rng.randint(0, 3)
    out, minor, patch = [], 0, 0
    for _ in range(count):
        patch += 1
        if rng.random() < 0.2:
            minor, patch = minor + 1, 0
        out.append(f"{major}.{minor}.{patch}")
    return out


def synthetic_feed(mal: int, vulns: int, seed: int = 7) -> tuple[bytes, list[str], list[str]]:
    """The zip, and the names of malicious and vulnerable projects in it."""
    rng = random.Random(seed)
    buffer = io.BytesIO()
    mal_names, vuln_names = [], []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number in range(mal):
            name = f"malware-{number:05d}-{rng.choice(['requests', 'colorama', 'tls', 'discord'])}"
            mal_names.append(name)
            affected: dict = {
                "package": {"ecosystem": "PyPI", "name": name, "purl": f"pkg:pypi/{name}"}
            }
            if rng.random() < 0.2:
                affected["ranges"] = [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]
            else:
                affected["versions"] = _versions(rng, rng.randint(1, 5))
            record = {
                "modified": "2025-06-01T00:00:00Z",
                "published": "2024-06-01T00:00:00Z",
                "schema_version": "1.7.0",
                "id": f"MAL-2025-{number}",
                "summary": f"Malicious code in {name} (PyPI)",
                "details": "\n---\n_-= Per source details. Do not edit below this line.=-_\n" * 3,
                "affected": [affected],
                "database_specific": {
                    "malicious-packages-origins": [{"source": "x"} for _ in range(3)]
                },
            }
            archive.writestr(f"MAL-2025-{number}.json", json.dumps(record))
        for number in range(vulns // 2):
            name = f"library-{number % 2500:04d}"
            vuln_names.append(name)
            versions = _versions(rng, rng.choice([5, 20, 60, 120, 400]))
            fixed = versions[rng.randrange(len(versions))]
            cve = f"CVE-2024-{number:05d}"
            for prefix, own in (("PYSEC-2024-", None), ("GHSA-", rng.choice(CVSS))):
                advisory_id = (
                    f"{prefix}{number:05d}"
                    if prefix == "PYSEC-2024-"
                    else f"GHSA-{number:04x}-aaaa-bbbb"
                )
                record = {
                    "modified": "2025-06-01T00:00:00Z",
                    "id": advisory_id,
                    "aliases": [cve],
                    "summary": f"{name} allows something it should not ({number})",
                    "details": "Long description. " * 40,
                    "affected": [
                        {
                            "package": {"ecosystem": "PyPI", "name": name},
                            "ranges": [
                                {
                                    "type": "ECOSYSTEM",
                                    "events": [{"introduced": "0"}, {"fixed": fixed}],
                                }
                            ],
                            "versions": versions[: versions.index(fixed)],
                        }
                    ],
                    "references": [{"type": "WEB", "url": f"https://example.org/{number}"}] * 5,
                }
                if own:
                    record["severity"] = [{"type": "CVSS_V3", "score": own}]
                    record["database_specific"] = {"severity": "HIGH"}
                archive.writestr(f"{advisory_id}.json", json.dumps(record))
    return buffer.getvalue(), mal_names, vuln_names


def _time_read(path: Path) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        read_feed(path, KINDS)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _memory(path: Path) -> tuple[float, float]:
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    contents = read_feed(path, KINDS)
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert contents.loaded
    return (peak - base) / 2**20, (kept - base) / 2**20


async def _loop_lag(path: Path, data_dir: Path) -> tuple[float, float]:
    """The longest gap between 10 ms ticks while the feed loads, and the load's wall time."""
    feeds = IntelFeeds(
        [FeedSpec(str(path), frozenset(KINDS), timedelta(hours=6))],
        data_dir,
        clock=lambda: datetime.now(UTC),
    )
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last - 0.01)
            last = now

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    await feeds.load()
    elapsed = time.perf_counter() - started
    done.set()
    await tick
    await feeds.aclose()
    return max(gaps) * 1000, elapsed


def _per_call(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mal", type=int, default=14_000)
    parser.add_argument("--vulns", type=int, default=8_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pipgate-intel-") as tmp:
        path = Path(tmp, "all.zip")
        data, mal_names, vuln_names = synthetic_feed(args.mal, args.vulns)
        gc.collect()
        path.write_bytes(data)
        inflated = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
        seconds = _time_read(path)
        peak, kept = _memory(path)
        gc.collect()
        lag, loaded_in = asyncio.run(_loop_lag(path, Path(tmp, "data")))
        contents = read_feed(path, KINDS)
        malicious = MaliciousPolicy(contents.indexes[MALICIOUS])
        vulnerable = VulnerabilitiesPolicy(contents.indexes[VULNERABILITIES])
        now = datetime(2026, 1, 1, tzinfo=UTC)

        def subject(name: str) -> FileSubject:
            return FileSubject(name, f"{name}-1.0.3-py3-none-any.whl", Version("1.0.3"), None)  # type: ignore[arg-type]

        cold_names = iter(vuln_names[:500])
        first = _per_call(lambda: vulnerable.check_file(subject(next(cold_names)), now), 500)
        warm = _per_call(lambda: vulnerable.check_file(subject(vuln_names[0]), now), 20_000)
        warm_mal = _per_call(lambda: malicious.check_file(subject(mal_names[0]), now), 20_000)
        unlisted = _per_call(lambda: vulnerable.check_file(subject("requests"), now), 50_000)
    rows = [
        ("records (MAL / PYSEC+GHSA)", f"{args.mal:,} / {args.vulns:,}"),
        ("zip size / inflated", f"{len(data) / 2**20:.1f} MiB / {inflated / 2**20:.0f} MiB"),
        ("read into both indexes (median of 3)", f"{seconds:.2f} s"),
        ("memory: peak while reading", f"{peak:.1f} MiB"),
        ("memory: kept by the indexes", f"{kept:.1f} MiB"),
        (
            "event loop during IntelFeeds.load: longest tick gap",
            f"{lag:.1f} ms (load {loaded_in:.2f} s)",
        ),
        ("vulnerabilities.check_file, first for a project (compiles)", f"{first:.1f} µs"),
        ("vulnerabilities.check_file, warm", f"{warm:.1f} µs"),
        ("malicious.check_file, warm", f"{warm_mal:.1f} µs"),
        ("check_file of an unlisted project", f"{unlisted:.2f} µs"),
    ]
    lines = [
        "# Advisory feeds at OSV scale",
        "",
        machine_line(),
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        "Synthetic feed shaped like OSV's `PyPI/all.zip` (see `benchmarks/intel_bench.py`).",
        "",
    ]
    text = "\n".join(lines)
    (RESULTS / "intel.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
