"""The content scan's say on serving a file: each index's scan policy over one report.

A file is scanned when it first enters the store (``verify`` runs between the download's
hash check and its commit, so no client receives the file whole before its report
exists) and, lazily, when a stored file has no report made by the current rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from pipgate.policies.decision import Decision, Mode
from pipgate.policies.scan import ScanPolicy, ScanReport
from pipgate.proxy.errors import UpstreamError
from pipgate.proxy.files.downloads import Download
from pipgate.proxy.files.scan_verdicts import ScanVerdicts
from pipgate.proxy.files.store import FileStore
from pipgate.proxy.models import DistFile
from pipgate.proxy.scan.rules import RULES_VERSION


class FileScan:
    """Scan reports (``verdicts``) judged by the policy of each index (``None``: off)."""

    def __init__(
        self, verdicts: ScanVerdicts, policies: Mapping[str, ScanPolicy | None], store: FileStore
    ) -> None:
        self.verdicts = verdicts
        self.policies = dict(policies)
        self.store = store
        #: Reports with findings or not finished, by sha256: what pages and ``check`` see
        #: without I/O. Filled as files are scanned or served (after a restart, lazily).
        self.flagged: dict[str, ScanReport] = {}

    @property
    def active(self) -> bool:
        return any(policy is not None for policy in self.policies.values())

    async def verify(self, download: Download) -> UpstreamError | None:
        """The ``Downloads`` hook: scan the verified temporary file before it is committed.

        Never fails the download: a file the scan flags is still stored (it is refused
        where it is served, per index, and a reviewer may release it)."""
        if self.active and download.sha256:
            report = await self.verdicts.scan_path(
                download.sha256, download.filename, download.temp_path
            )
            self._note(download.sha256, report)
        return None

    async def scan_path(self, sha256: str, filename: str, path: Path) -> ScanReport | None:
        """Scan a verified file on disk that is not a download (an upload to a hosted
        index): like a download, a flagged file is still kept and refused where served."""
        if not self.active:
            return None
        report = await self.verdicts.scan_path(sha256, filename, path)
        self._note(sha256, report)
        return report

    async def scan_bytes(self, sha256: str, filename: str, data: bytes) -> ScanReport | None:
        """Scan a verified file held in memory (served unstored: the disk is full)."""
        if not self.active:
            return None
        report = await self.verdicts.scan_bytes(sha256, filename, data)
        self._note(sha256, report)
        return report

    def note_unscannable(self, sha256: str, why: str) -> None:
        """A file that cannot be scanned (``why``): held like any unscannable file."""
        if self.active:
            self._note(sha256, ScanReport(RULES_VERSION, 0.0, incomplete=why))

    def is_flagged(self, sha256: str) -> bool:
        return sha256 in self.flagged

    def check(self, index: str, file: DistFile) -> Decision | None:
        """``decide`` from a report already in memory (for pages: no I/O, no scan)."""
        report = self.flagged.get(file.sha256 or "")
        return self.decide(index, report) if report is not None else None

    def _note(self, sha256: str, report: ScanReport | None) -> None:
        if report is not None and (report.findings or report.incomplete):
            if len(self.flagged) >= 100_000:
                self.flagged.clear()
            self.flagged[sha256] = report

    async def report(
        self, sha256: str, filename: str, opener: Callable[[], BinaryIO | None] | None = None
    ) -> ScanReport | None:
        """The current report on a stored file (scanning it now if it has none), or
        ``None`` when the file is not in the store (the download will scan it).
        ``opener``: where the file is when not in the file store (a hosted file)."""
        if not self.active:
            return None
        opener = opener or (lambda: self.store.open(sha256))
        report = await self.verdicts.scan_stored(sha256, filename, opener)
        self._note(sha256, report)
        return report

    def decide(self, index: str, report: ScanReport | None) -> Decision | None:
        """The objection of ``index``'s scan policy to ``report`` (a dry-run one marked as
        such), or ``None`` when it has none."""
        policy = self.policies.get(index)
        if policy is None or report is None:
            return None
        decision = policy.decide(report)
        if decision.allowed:
            return None
        return decision.as_dry_run() if policy.mode is Mode.DRY_RUN else decision


def scans_directory(data_dir: Path) -> Path:
    return data_dir / "scans"
