"""Known vulnerabilities: refuse (or hold) the files of versions that OSV advisories affect.

Judged per file, never per project: a page keeps offering the versions no
advisory affects, so ``pip install name`` resolves to a safe version while
``name==vulnerable`` is refused. Only advisories at or above ``min_severity``
count; an advisory whose severity is unknown counts as ``unknown_severity``
(critical unless configured otherwise: unknown is not safe). Exemptions name an
advisory (or any alias, such as its CVE id) and expire.

The index is an immutable snapshot, injected; a refreshed feed is a new policy
(``with_index``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from packaging.utils import NormalizedName
from packaging.version import Version

from .advisories import Advisory, AdvisoryIndex, Match
from .decision import Action, Decision, Mode
from .exemptions import Exemption, Exemptions, day
from .malicious import raw_version
from .severity import Severity
from .subjects import FileSubject, ProjectSubject

NAME = "vulnerabilities"
#: At most this many advisories are named in one reason (the rest are counted).
SHOWN = 3
#: Summaries are cut to this many characters in reasons.
SUMMARY = 80


class VulnerabilitiesPolicy:
    name = NAME
    needs_facts = False
    overrides: frozenset[str] = frozenset()

    def __init__(
        self,
        index: AdvisoryIndex,
        *,
        action: Action = Action.BLOCK,
        mode: Mode = Mode.ENFORCE,
        min_severity: Severity = Severity.LOW,
        unknown_severity: Severity = Severity.CRITICAL,
        exempt: Iterable[Exemption] = (),
    ) -> None:
        if action is Action.ALLOW:
            raise ValueError("vulnerabilities: the action must be quarantine or block")
        self.index = index
        self.action = Action(action)
        self.mode = mode
        self.min_severity = Severity(min_severity)
        self.unknown_severity = Severity(unknown_severity)
        self.exempt = Exemptions(exempt)

    def with_index(self, index: AdvisoryIndex) -> VulnerabilitiesPolicy:
        """This policy judging from ``index`` (a refreshed feed)."""
        return VulnerabilitiesPolicy(
            index,
            action=self.action,
            mode=self.mode,
            min_severity=self.min_severity,
            unknown_severity=self.unknown_severity,
            exempt=self.exempt.all,
        )

    def check_project(self, subject: ProjectSubject, now: datetime) -> Decision:
        return _PER_FILE

    def check_file(self, subject: FileSubject, now: datetime) -> Decision:
        name = subject.project
        if name not in self.index:
            return _CLEAN
        version: Version | str | None = (
            subject.version
            if subject.version is not None
            else raw_version(subject.filename, subject.project)
        )
        if version is not None:
            matches = [m for m in self.index.affecting(name, version) if self._counts(m.advisory)]
            counting = self._not_exempt(matches, now)
            if counting:
                return Decision(
                    self.action,
                    NAME,
                    f"{name} {version} has known vulnerabilities: {self._describe(counting, now)}",
                )
            if isinstance(version, Version):
                return _CLEAN
        advisories = [a for a in self.index.advisories(name) if self._counts(a)]
        unknown = self._not_exempt([Match(a) for a in advisories], now)
        if not unknown:
            return _CLEAN
        return Decision(
            self.action,
            NAME,
            f"the version of {subject.filename!r} cannot be read, and {name!r} has known "
            f"vulnerabilities: {self._describe(unknown, now)}",
        )

    def versions_note(self, name: NormalizedName, now: datetime) -> str:
        """For ``policy check`` without a version: how many advisories affect some versions."""
        advisories = [a for a in self.index.advisories(name) if self._counts(a)]
        counting = self._not_exempt([Match(a) for a in advisories], now)
        if not counting:
            return ""
        ids = ", ".join(m.advisory.id for m in counting[:SHOWN])
        more = f" and {len(counting) - SHOWN} more" if len(counting) > SHOWN else ""
        count = (
            "1 known vulnerability affects"
            if len(counting) == 1
            else f"{len(counting)} known vulnerabilities affect"
        )
        return f"{count} some versions ({ids}{more}); ask for NAME==VERSION"

    def _counts(self, advisory: Advisory) -> bool:
        severity = advisory.severity if advisory.severity is not None else self.unknown_severity
        return severity >= self.min_severity

    def _not_exempt(self, matches: Sequence[Match], now: datetime) -> list[Match]:
        if not self.exempt:
            return list(matches)
        counting = {a.id for a in self.exempt.split((m.advisory for m in matches), now)[0]}
        return [m for m in matches if m.advisory.id in counting]

    def _describe(self, matches: Sequence[Match], now: datetime) -> str:
        parts = []
        for match in matches[:SHOWN]:
            advisory = match.advisory
            facts = [str(advisory.severity) if advisory.severity else "severity unknown"]
            facts.append(f"fixed in {match.fixed}" if match.fixed else "no fixed version known")
            expired = self.exempt.expired_for(advisory, now) if self.exempt else None
            if expired is not None:
                facts.append(f"exemption expired {day(expired.until)}")
            summary = advisory.summary
            if len(summary) > SUMMARY:
                summary = summary[: SUMMARY - 1].rstrip() + "…"
            parts.append(
                f"{advisory.label()} [{', '.join(facts)}]" + (f": {summary}" if summary else "")
            )
        if len(matches) > SHOWN:
            parts.append(f"and {len(matches) - SHOWN} more")
        return "; ".join(parts)

    def __repr__(self) -> str:
        return (
            f"VulnerabilitiesPolicy({self.index!r}, action={self.action}, "
            f"min_severity={self.min_severity}, mode={self.mode.value})"
        )


_CLEAN = Decision(Action.ALLOW, NAME, "no known vulnerabilities")
_PER_FILE = Decision(Action.ALLOW, NAME, "vulnerabilities are judged per file")
