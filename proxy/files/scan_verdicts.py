"""Scan verdicts by sha256: each distribution file is scanned once, the report kept.

A report is kept in memory and on disk (``<data_dir>/scans/ab/<sha256>.json``) with the
version of the rules that made it; a report made by other rules is stale, so a rules
upgrade re-scans each file lazily, the next time it is asked for. Concurrent requests for
one file share one scan.

Scans run in worker processes (``workers``, see ``scan_workers.py``), so a scan never holds
the GIL the event loop needs; without ``workers``, in threads of this process (at most
``concurrency`` at once), never on the event loop. A worker reads the file by its path: a
stored file without one (an object store's stream) is first copied to ``temp_path()`` (a
disk with no room for the copy: scanned from the stream in a thread), and a file held in
memory is handed over as bytes. A worker that dies gives its file an ``incomplete``
report (held as unscannable), kept in memory only: the death may have been the machine's
doing (the out-of-memory killer, an operator), so a restart scans the file again; so
does a scan that ran out of the memory a worker may hold (``ScanLimits.max_memory``) or
met a defect of the scanner (``NOT_KEPT``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

from anyio import CapacityLimiter, to_thread

from pipgate.policies.scan import Finding, ScanReport
from pipgate.proxy.files.scan_workers import ScanWorkers, WorkerDied
from pipgate.proxy.scan import NOT_KEPT, RULES_VERSION, ScanLimits, scan_archive

#: Opens a stored file: a readable, seekable handle, or ``None`` (not stored).
Opener = Callable[[], BinaryIO | None]

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
        workers: ScanWorkers | None = None,
        temp_path: Callable[[], Path] | None = None,
    ) -> None:
        """``workers``: the processes that scan (``None``: threads of this process);
        ``temp_path()``: where a stored file without a path is copied for them."""
        self.directory = directory
        self.limits = limits
        self.workers = workers
        self._temp_path = temp_path or (lambda: directory / "tmp" / f"{uuid.uuid4().hex}.part")
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
        return await self._once(sha256, lambda: self._scan(path, filename))  # type: ignore[return-value]

    async def scan_bytes(self, sha256: str, filename: str, data: bytes) -> ScanReport:
        """Like ``scan_path`` for a file held in memory."""
        return await self._once(sha256, lambda: self._scan(data, filename))  # type: ignore[return-value]

    async def scan_stored(
        self, sha256: str, filename: str, open_stored: Opener
    ) -> ScanReport | None:
        """Like ``scan_path`` for a file in the store: ``open_stored()`` gives a readable,
        seekable handle or ``None`` (evicted: then ``None``)."""
        return await self._once(sha256, lambda: self._scan_stored(filename, open_stored))

    async def aclose(self) -> None:
        """Stop the worker processes (after a running scan ends)."""
        if self.workers is not None:
            await to_thread.run_sync(self.workers.close)

    async def _scan(self, source: Path | bytes, filename: str) -> ScanReport:
        if self.workers is not None:
            return await self.workers.scan(source, filename, self.limits)
        return await self._in_thread(source, filename)

    async def _scan_stored(self, filename: str, open_stored: Opener) -> ScanReport | None:
        handle = await to_thread.run_sync(open_stored)
        if handle is None:
            return None
        try:
            if self.workers is None:
                return await self._in_thread(handle, filename)
            path = await to_thread.run_sync(_local_path, handle)
            if path is not None:
                try:
                    return await self.workers.scan(path, filename, self.limits)
                except FileNotFoundError:
                    pass  # evicted since it was opened: the open handle still reads it
            temp = self._temp_path()
            try:
                await to_thread.run_sync(_copy, handle, temp)
            except OSError as exc:
                log.warning("scanning %s in this process: no copy for a worker: %s", filename, exc)
                await to_thread.run_sync(_remove, temp)
                return await self._in_thread(handle, filename)
            try:
                return await self.workers.scan(temp, filename, self.limits)
            finally:
                await to_thread.run_sync(_remove, temp)
        finally:
            handle.close()

    async def _in_thread(self, source: Path | bytes | BinaryIO, filename: str) -> ScanReport:
        """Scan in a thread of this process (at most ``concurrency`` at once)."""
        return await to_thread.run_sync(
            scan_archive, source, filename, self.limits, limiter=self._limiter
        )

    async def _once(
        self, sha256: str, scan: Callable[[], Awaitable[ScanReport | None]]
    ) -> ScanReport | None:
        # Claimed before the first await, so concurrent callers share one look-up and scan.
        running = self._inflight.get(sha256)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[ScanReport] = asyncio.get_running_loop().create_future()
        self._inflight[sha256] = future
        try:
            report = await to_thread.run_sync(self.known, sha256)
            if report is None:
                try:
                    report = await scan()
                except WorkerDied as exc:
                    log.error("%s", exc)
                    report = ScanReport(RULES_VERSION, 0.0, incomplete=str(exc))
                    self._remember(sha256, report)  # in memory only (module docstring)
                else:
                    if report is not None:
                        self.scanned += 1
                        self._remember(sha256, report)
                        if not (report.incomplete or "").startswith(NOT_KEPT):
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


def _local_path(handle: BinaryIO) -> Path | None:
    """The path ``handle`` reads, when it is a file on a local disk under its name."""
    name = getattr(handle, "name", None)
    if not isinstance(name, str):
        return None
    try:
        if os.path.samestat(os.fstat(handle.fileno()), os.stat(name)):
            return Path(os.path.abspath(name))
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a stream, a buffer), or no longer under its name
    return None


def _copy(handle: BinaryIO, target: Path) -> None:
    handle.seek(0)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(handle, out, 1024 * 1024)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # left to the store, which clears its temporary folder at start
        log.warning("could not remove %s: %s", path, exc)


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
