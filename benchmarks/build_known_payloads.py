"""Build ``proxy/data/known-payloads.bin``: prints of known malware payloads (``proxy/scan/known.py``).

    .venv/bin/python benchmarks/build_known_payloads.py [--workers 2] [--check-split 2024-05-01]

Payloads: the development archives of the malware dataset (``lxyeternal/pypi_malregistry``,
added before 2025-01-01; never the held-out ones), read in memory as ``scan_eval`` reads
them. Of each archive the scan flags (without known payloads), every Python file that
carries a finding of its own code (not one about the archive as a whole) is printed.

Legitimate code: every Python file of the *tune* halves of both legitimate samples
(``benchmarks/scan_corpus.py``'s caches, default and wide); a payload print that resembles
any of them (``STOP`` or more) is left out, and so is one that repeats a print kept
already (``SAME`` or more). The *report* halves are never read, so the false alarms
``scan_eval`` reports there stay out of sample.

``--check-split DATE`` measures instead of writing: prints from the archives added before
``DATE`` and from half the tune halves' projects (by a hash of the name); then every
development archive added from ``DATE`` and every file of the other half of the projects is
scanned with them, and the share with a ``known-payload`` finding is printed. Deterministic:
the same inputs give the same bytes. Run time a few minutes; never run by the proxy or the
tests.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scan_corpus import CACHE, read_manifest, split_of  # noqa: E402
from benchmarks.scan_eval import REGISTRY, blobs, bounded_map, malware  # noqa: E402
from benchmarks.scan_false_alarms import WIDE  # noqa: E402
from pipgate.policies.scan import ScanPolicy  # noqa: E402
from pipgate.proxy.scan import ScanLimits, layout, scan_archive  # noqa: E402
from pipgate.proxy.scan.archive import walk  # noqa: E402
from pipgate.proxy.scan.known import (  # noqa: E402
    BUNDLED_PAYLOADS,
    MAX_TEXT,
    KnownPayloads,
    Print,
    print_of,
)
from pipgate.proxy.scan.limits import Deadline, Unscannable  # noqa: E402
from pipgate.proxy.scan.scoring import ARCHIVE_RULES  # noqa: E402
from pipgate.proxy.scan.source import decode_source  # noqa: E402

OUT = ROOT / "proxy" / "data" / BUNDLED_PAYLOADS
HELD_OUT_FROM = "2025-01-01"
#: A payload print this close to a legitimate file's is left out.
STOP = 0.5
#: A payload print this close to one kept already adds nothing.
SAME = 0.95
WINDOW = 32  # archives in flight
_LIMITS = ScanLimits(max_source=MAX_TEXT, timeout=30.0)
_POLICY = ScanPolicy()
_KNOWN = KnownPayloads()  # a checking worker's prints (`_use`)
_SPAWN = multiprocessing.get_context("spawn")  # no fork of a process with threads


def python_texts(data: bytes, filename: str, wanted: set[str] | None = None) -> dict[str, str]:
    """The archive's Python files as the scanner reads them (root-relative paths, decoded
    as it decodes them); only ``wanted`` ones when given. Never raises."""
    wheel = layout.is_wheel(filename)
    paths: list[str] = []
    texts: dict[str, str] = {}
    try:
        for member in walk(io.BytesIO(data), _LIMITS, Deadline(_LIMITS.timeout), _python):
            paths.append(member.path)
            if member.data is not None and not member.truncated:
                texts[member.path] = decode_source(member.data)
    except (Unscannable, RecursionError, MemoryError):
        return {}
    root = layout.strip_root(paths, wheel)
    texts = {path[len(root) :]: text for path, text in texts.items()}
    return {p: t for p, t in texts.items() if wanted is None or p in wanted}


def _python(path: str, size: int) -> bool:
    return path.endswith((".py", ".pyw")) and size <= MAX_TEXT


def payload_prints(item: tuple[str, bytes]) -> list[Print]:
    """Prints of the files carrying findings of their own code in a flagged archive."""
    name, data = item
    filename = name.rsplit("/", 1)[-1]
    report = scan_archive(data, filename, payloads=KnownPayloads())
    if report.incomplete or report.score < _POLICY.quarantine_at:
        return []
    carrying = {f.file for f in report.findings if f.rule not in ARCHIVE_RULES}
    texts = python_texts(data, filename, carrying)
    return [p for p in (print_of(texts[path]) for path in sorted(texts)) if p is not None]


def legitimate_prints(path: str) -> list[Print]:
    texts = python_texts(Path(path).read_bytes(), Path(path).name)
    return [p for p in (print_of(texts[name]) for name in sorted(texts)) if p is not None]


def legitimate_files(half: int | None = None) -> list[str]:
    """The tune halves' files of both samples (each file once); ``half`` 0 or 1 keeps the
    projects of one half of them (a hash of the name)."""
    files: dict[str, str] = {}
    for cache in (CACHE, WIDE):
        for row in read_manifest(cache):
            if row["status"] != "ok" or split_of(row["name"]) != "tune":
                continue
            if half is not None and _half(row["name"]) != half:
                continue
            files.setdefault(row["filename"], str(cache / "files" / row["filename"]))
    return [files[name] for name in sorted(files)]


def _half(name: str) -> int:
    return hashlib.sha256(("half " + name).encode()).digest()[0] % 2


def build(payloads: Iterable[Print], legitimate: Iterable[Print]) -> tuple[KnownPayloads, int]:
    """The payload prints less repeats and those like a legitimate file's; and how many of
    them were left out as like one (``legitimate`` is read once, as it comes)."""
    kept = KnownPayloads()
    for item in payloads:
        if kept.match(item) < SAME:
            kept.add(item)
    like_legitimate: set[int] = set()
    for item in legitimate:
        like_legitimate.update(kept.near(item, STOP))
    known = KnownPayloads(p for i, p in enumerate(kept.prints) if i not in like_legitimate)
    return known, len(like_legitimate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--check-split", metavar="DATE", help="measure; write nothing")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    split = args.check_split or HELD_OUT_FROM
    samples = malware(REGISTRY, split, None)  # added before `split`: development only
    if split > HELD_OUT_FROM:
        parser.error(f"--check-split must be on or before {HELD_OUT_FROM}")
    with ProcessPoolExecutor(args.workers, mp_context=_SPAWN) as pool:
        jobs = ((s.name, payload_prints, (s.name, data)) for s, data in blobs(REGISTRY, samples))
        payloads = [p for _, found in bounded_map(pool, jobs, WINDOW) for p in found]
        legit_files = legitimate_files(0 if args.check_split else None)
        jobs = ((f, legitimate_prints, f) for f in legit_files)
        legitimate = (p for _, found in bounded_map(pool, jobs, WINDOW) for p in found)
        known, left_out = build(payloads, legitimate)
    print(
        f"{len(samples)} development archives: {len(payloads)} payload prints, "
        f"{len(known.prints)} kept, {left_out} left out as like one of "
        f"{len(legit_files)} legitimate files"
    )
    if not args.check_split:
        args.out.write_bytes(known.to_bytes())
        print(f"wrote {args.out}: sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()}")
        return 0
    later = [s for s in malware(REGISTRY, HELD_OUT_FROM, None) if s.added >= split]
    other = legitimate_files(1)
    with ProcessPoolExecutor(
        args.workers, mp_context=_SPAWN, initializer=_use, initargs=(known,)
    ) as pool:
        jobs = ((s.name, _matched, (s.name, data)) for s, data in blobs(REGISTRY, later))
        hits = sum(found for _, found in bounded_map(pool, jobs, WINDOW))
        print(f"development archives added from {split}: {hits} of {len(later)} match")
        jobs = ((f, _matched, (Path(f).name, Path(f).read_bytes())) for f in other)
        matched = [Path(f).name for f, found in bounded_map(pool, jobs, WINDOW) if found]
        print(f"legitimate files of the other half: {len(matched)} of {len(other)} match")
        for name in matched:
            print(f"  {name}")
    return 0


def _use(known: KnownPayloads) -> None:
    global _KNOWN
    _KNOWN = known


def _matched(item: tuple[str, bytes]) -> bool:
    name, data = item
    report = scan_archive(data, name.rsplit("/", 1)[-1], payloads=_KNOWN)
    return any(f.rule == "known-payload" for f in report.findings)


if __name__ == "__main__":
    raise SystemExit(main())
