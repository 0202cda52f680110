"""Known malware: block what the OpenSSF malicious-packages records (``MAL-...``) list.

A record that lists no versions and no ranges (or a range from ``0`` with no
end) condemns every version: the project is blocked by name, before upstream
is asked. Otherwise only the files of the versions it lists are blocked, and
the rest of the project is served. A file whose version cannot be read is
blocked when its project has any such record: unknown is not safe.

The index is an immutable snapshot, injected; a refreshed feed is a new policy
(``with_index``). Exemptions (by advisory id, with an expiry) exist for the
rare false positive; no reviewer action lifts this policy's blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from .advisories import Advisory, AdvisoryIndex
from .decision import Action, Decision, Mode
from .exemptions import Exemption, Exemptions, day
from .subjects import FileSubject, ProjectSubject

NAME = "malicious"
#: At most this many advisories are named in one reason (the rest are counted).
SHOWN = 3


class MaliciousPolicy:
    name = NAME
    needs_facts = False
    overrides: frozenset[str] = frozenset()

    def __init__(
        self,
        index: AdvisoryIndex,
        *,
        mode: Mode = Mode.ENFORCE,
        exempt: Iterable[Exemption] = (),
    ) -> None:
        self.index = index
        self.mode = mode
        self.exempt = Exemptions(exempt)

    def with_index(self, index: AdvisoryIndex) -> MaliciousPolicy:
        """This policy judging from ``index`` (a refreshed feed)."""
        return MaliciousPolicy(index, mode=self.mode, exempt=self.exempt.all)

    def check_project(self, subject: ProjectSubject, now: datetime) -> Decision:
        return self._project(subject.name, now)

    def check_file(self, subject: FileSubject, now: datetime) -> Decision:
        name = subject.project
        if name not in self.index:
            return _CLEAN
        project = self._project(name, now)
        if not project.allowed:
            return project
        version: Version | str | None = (
            subject.version
            if subject.version is not None
            else raw_version(subject.filename, subject.project)
        )
        if version is not None:
            counting = self._counting(
                [m.advisory for m in self.index.affecting(name, version)], now
            )
            if counting:
                return Decision(
                    Action.BLOCK,
                    NAME,
                    f"{name} {version} is known malware: {describe(counting)}"
                    + self._expired_note(counting, now),
                )
            if isinstance(version, Version):
                return _CLEAN
        counting = self._counting(self.index.advisories(name), now)
        if not counting:
            return _CLEAN
        return Decision(
            Action.BLOCK,
            NAME,
            f"the version of {subject.filename!r} cannot be read, and versions of {name!r} "
            f"are known malware: {describe(counting)}",
        )

    def versions_note(self, name: NormalizedName, now: datetime) -> str:
        """For ``policy check`` without a version: which advisories list some versions."""
        counting = self._counting(self.index.advisories(name), now)
        if not counting:
            return ""
        return f"some versions are known malware ({describe(counting)}); ask for NAME==VERSION"

    def _project(self, name: NormalizedName, now: datetime) -> Decision:
        if name not in self.index:
            return _CLEAN
        counting = self._counting(self.index.every_version(name), now)
        if not counting:
            return _CLEAN
        return Decision(
            Action.BLOCK,
            NAME,
            f"every version of {name!r} is known malware: {describe(counting)}"
            + self._expired_note(counting, now),
        )

    def _counting(self, advisories: Iterable[Advisory], now: datetime) -> list[Advisory]:
        if not self.exempt:
            return list(advisories)
        return self.exempt.split(advisories, now)[0]

    def _expired_note(self, advisories: Sequence[Advisory], now: datetime) -> str:
        for advisory in advisories:
            expired = self.exempt.expired_for(advisory, now)
            if expired is not None:
                return f" (the exemption for {expired.id} expired {day(expired.until)})"
        return ""

    def __repr__(self) -> str:
        return f"MaliciousPolicy({self.index!r}, mode={self.mode.value})"


_CLEAN = Decision(Action.ALLOW, NAME, "not listed as malware")


def describe(advisories: Sequence[Advisory]) -> str:
    """``MAL-2024-1 (Malicious code in x (PyPI)); MAL-2024-2 ...; and 3 more``."""
    parts = [f"{a.id} ({a.summary})" if a.summary else a.id for a in advisories[:SHOWN]]
    if len(advisories) > SHOWN:
        parts.append(f"and {len(advisories) - SHOWN} more")
    return "; ".join(parts)


def raw_version(filename: str, project: str | None = None) -> str | None:
    """The version part of a wheel or sdist ``filename`` as written, or ``None``.

    An sdist name is ambiguous when the version has a hyphen (``odd-1.0-custom``):
    with ``project`` given, the version is what follows the project's name.
    """
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if len(parts) in (5, 6) else None
    for suffix in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            if project is not None:
                for at, char in enumerate(stem):
                    if char == "-" and canonicalize_name(stem[:at]) == project:
                        return stem[at + 1 :] or None
            name, _, version = stem.rpartition("-")
            return version if name and version else None
    return None
