"""Scan verdicts by sha256: each distribution file is scanned once, the report kept.

A report is kept in memory and on disk (``<data_dir>/scans/ab/<sha256>.json``) with the
version of the rules that made it; a report made by other rules is stale, so a rules
upgrade re-scans each file lazily, the next time it is asked for. Scans run in worker
threads (at most ``concurrency`` at once), never on the event loop, and concurrent requests
for one file share one scan.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO

from anyio import CapacityLimiter, to_thread

from pipgate.policies.scan import Finding, ScanReport
from pipgate.proxy.scan import RULES_VERSION, ScanLimits, scan_archive

log = logging.getLogger("pipgate.scan")


class ScanVerdicts:
    """Scan reports by sha256 (see module docstring)."""

    def __init__(
        self,
        directory: Path,
        limits: ScanLimits,
        *,
        concurrency: int = 1,
        memory: int = 4096,
    ) -> None:
        self.directory = directory
        self.limits = limits
        self._memory: OrderedDict[str, ScanReport] = OrderedDict()
        self._memory_size = memory
        self._inflight: dict[str, asyncio.Future[ScanReport]] = {}
        self._limiter = CapacityLimiter(concurrency)
        self.scanned = 0

    def known(self, sha256: str) -> ScanReport | None:
        """The current rules' report on ``sha256`` if one was made (reads at most one small
        file; call it from a thread where disk latency matters)."""
        report = self._memory.get(sha256)
        if report is not None:
            self._memory.move_to_end(sha256)
            return report
        report = _read(self._path(sha256))
        if report is not None and report.rules_version == RULES_VERSION:
            self._remember(sha256, report)
            return report
        return None

    async def scan_path(self, sha256: str, filename: str, path: Path) -> ScanReport:
        """Scan the file at ``path`` (its bytes must hash to ``sha256``) unless a current
        report exists; keep and return the report."""
        return await self._once(sha256, lambda: scan_archive(path, filename, self.limits))

    async def scan_bytes(self, sha256: str, filename: str, data: bytes) -> ScanReport:
        """Like ``scan_path`` for a file held in memory."""
        return await self._once(sha256, lambda: scan_archive(data, filename, self.limits))  # type: ignore[no-any-return]

    async def scan_stored(self, sha256: str, filename: str, open_stored) -> ScanReport | None:  # type: ignore[no-untyped-def]
        """Like ``scan_path`` for a file in the store: ``open_stored()`` gives a readable,
        seekable handle or ``None`` (evicted: then ``None``)."""

        def scan() -> ScanReport | None:
            handle: BinaryIO | None = open_stored()
            if handle is None:
                return None
            with handle:
                return scan_archive(handle, filename, self.limits)

        return await self._once(sha256, scan)

    async def _once(self, sha256: str, scan) -> ScanReport | None:  # type: ignore[no-untyped-def]
        # Claimed before the first await, so concurrent callers share one look-up and scan.
        running = self._inflight.get(sha256)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[ScanReport] = asyncio.get_running_loop().create_future()
        self._inflight[sha256] = future
        try:
            report = await to_thread.run_sync(self.known, sha256)
            if report is None:
                report = await to_thread.run_sync(scan, limiter=self._limiter)
                if report is not None:
                    self.scanned += 1
                    self._remember(sha256, report)
                    await to_thread.run_sync(_write, self._path(sha256), report)
            future.set_result(report)  # type: ignore[arg-type]
            return report
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            self._inflight.pop(sha256, None)

    def _remember(self, sha256: str, report: ScanReport) -> None:
        self._memory[sha256] = report
        self._memory.move_to_end(sha256)
        while len(self._memory) > self._memory_size:
            self._memory.popitem(last=False)

    def _path(self, sha256: str) -> Path:
        return self.directory / sha256[:2] / f"{sha256}.json"


def as_json(report: ScanReport) -> dict[str, object]:
    return {
        "rules_version": report.rules_version,
        "score": report.score,
        "incomplete": report.incomplete,
        "findings": [f.as_json() for f in report.findings],
        "files_read": report.files_read,
        "bytes_read": report.bytes_read,
        "seconds": round(report.seconds, 4),
    }


def from_json(data: dict) -> ScanReport:
    findings = tuple(
        Finding(
            str(f["rule"]), float(f["weight"]), str(f["file"]), int(f["line"]), str(f["detail"])
        )
        for f in data.get("findings", [])
    )
    return ScanReport(
        str(data["rules_version"]),
        float(data["score"]),
        findings,
        data.get("incomplete"),
        int(data.get("files_read", 0)),
        int(data.get("bytes_read", 0)),
        float(data.get("seconds", 0.0)),
    )


def _read(path: Path) -> ScanReport | None:
    try:
        return from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable scan report %s: %s", path, exc)
        return None


def _write(path: Path, report: ScanReport) -> None:
    """Keep ``report`` on disk; a full or read-only disk keeps it in memory only."""
    temp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(json.dumps(as_json(report)), encoding="utf-8")
        os.replace(temp, path)
    except OSError as exc:
        log.warning("could not keep scan report %s: %s", path.name, exc)
        temp.unlink(missing_ok=True)
