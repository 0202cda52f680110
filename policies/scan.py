"""Content scan: what a static scan of a distribution file found, and what follows from it.

The scan engine (``pipgate.proxy.scan``) reads an archive and produces a ``ScanReport``:
named findings, each with a weight and the ``file:line`` it is about, and their ``score``.
``ScanPolicy.decide`` maps a report to a ``Decision`` with one threshold per action; a
report that says the file could not be scanned (``incomplete``) is never a pass. Pure: no
I/O, no clock; the report carries everything the decision needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .decision import Action, Decision, Mode
from .subjects import FileSubject, ProjectSubject

NAME = "scan"


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that matched: ``file`` is the member path inside the archive, ``line`` 1-based
    (0 when the rule is about the archive as a whole)."""

    rule: str
    weight: float
    file: str
    line: int
    detail: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "weight": self.weight,
            "file": self.file,
            "line": self.line,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class ScanReport:
    """The verdict material for one file, cacheable by ``(sha256, rules_version)``.

    ``incomplete`` says why the file could not be scanned within the caps (a bomb, a
    time-out, an unreadable archive); such a report is judged by ``ScanPolicy.unscannable``,
    whatever its score.
    """

    rules_version: str
    score: float
    findings: tuple[Finding, ...] = ()
    incomplete: str | None = None
    files_read: int = 0
    bytes_read: int = 0
    seconds: float = 0.0

    def top(self, limit: int = 3) -> tuple[Finding, ...]:
        """The heaviest findings, heaviest first (ties keep archive order)."""
        return tuple(sorted(self.findings, key=lambda f: -f.weight)[:limit])

    def summary(self, limit: int = 3) -> str:
        """``score 17: decode-exec at setup.py:4; exfil-sink at pkg/__init__.py:12 (+2 more)``."""
        if self.incomplete:
            return f"not scanned: {self.incomplete}"
        top = self.top(limit)
        parts = [f"{f.rule} at {f.where}" for f in top]
        more = len(self.findings) - len(top)
        return f"score {self.score:g}: " + "; ".join(parts) + (f" (+{more} more)" if more else "")


@dataclass(frozen=True)
class ScanPolicy:
    """Map a ``ScanReport`` to a decision.

    - ``score >= block_at`` (when set): blocked;
    - ``score >= quarantine_at``: quarantined (held for a reviewer);
    - an ``incomplete`` report: ``unscannable`` (default quarantine: what could not be read
      is not clean);
    - otherwise allowed.

    ``check_file`` reads the report from ``subject.scan`` when the proxy attached one; a
    subject without a report is allowed here (the proxy scans before it serves a file).
    """

    quarantine_at: float = 10.0
    block_at: float | None = None
    unscannable: Action = Action.QUARANTINE
    mode: Mode = Mode.ENFORCE
    name: str = NAME
    needs_facts: bool = False
    overrides: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.quarantine_at <= 0:
            raise ValueError(f"scan: quarantine_at must be positive, got {self.quarantine_at}")
        if self.block_at is not None and self.block_at < self.quarantine_at:
            raise ValueError(
                f"scan: block_at ({self.block_at}) must not be below quarantine_at "
                f"({self.quarantine_at})"
            )

    def decide(self, report: ScanReport) -> Decision:
        if report.incomplete:
            return Decision(
                self.unscannable,
                NAME,
                f"could not be scanned: {report.incomplete}"
                + ("" if self.unscannable is Action.ALLOW else "; held until reviewed"),
            )
        if self.block_at is not None and report.score >= self.block_at:
            return Decision(Action.BLOCK, NAME, describe(report))
        if report.score >= self.quarantine_at:
            return Decision(Action.QUARANTINE, NAME, describe(report))
        return Decision(Action.ALLOW, NAME, f"scanned: score {report.score:g}")

    def check_project(self, subject: ProjectSubject, now: datetime) -> Decision:
        return Decision(Action.ALLOW, NAME, "content is judged per file")

    def check_file(self, subject: FileSubject, now: datetime) -> Decision:
        report = getattr(subject, "scan", None)
        if report is None:
            return Decision(Action.ALLOW, NAME, "not scanned yet")
        return self.decide(report)


def describe(report: ScanReport, limit: int = 3) -> str:
    """The reason of a flagged file: the score and the heaviest rules with their ``file:line``."""
    top = report.top(limit)
    parts = [f"{f.rule} ({f.detail}) at {f.where}" for f in top]
    more = len(report.findings) - len(top)
    return (
        f"content scan score {report.score:g}: "
        + "; ".join(parts)
        + (f"; +{more} more" if more else "")
    )
