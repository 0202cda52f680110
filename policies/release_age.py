"""Release age: hold files until they have been public for a while.

Most malicious uploads are found and removed within days; a cooling-off period
keeps them out of builds. A held file lapses by itself at ``available_at``, so
the proxy re-checks it on every request and no refetch is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from packaging.utils import NormalizedName
from packaging.version import Version

from .decision import Action, Decision, Mode
from .durations import format_duration
from .rules import ProjectRule, RuleSet
from .subjects import FileSubject, ProjectSubject

NAME = "release-age"
DEFAULT_MIN_AGE = timedelta(days=7)


class ReleaseAgePolicy:
    """Quarantine files younger than ``min_age`` or uploaded after ``cutoff``.

    - A file younger than ``min_age`` is quarantined with
      ``available_at = upload_time + min_age``.
    - A file uploaded after ``cutoff`` (an aware datetime) is quarantined with
      no ``available_at``: it stays held until the configuration changes.
    - A file with no upload time gets ``unknown_upload_time`` (default
      ``QUARANTINE``, indefinitely): unknown is not old.
    - ``exempt`` rules (names, globs, or versions such as ``urllib3==2.2.2``)
      switch all three checks off for the files they match.
    - ``exempt_hosted``: files uploaded to pipgate itself (origin ``hosted``) are
      not held; the organisation's own releases need no cooling-off.

    Project checks always allow. ``check_file`` never calls the clock; ``now``
    must be timezone-aware like the upload times.
    """

    name = NAME
    needs_facts = False
    overrides: frozenset[str] = frozenset()

    def __init__(
        self,
        min_age: timedelta = DEFAULT_MIN_AGE,
        *,
        cutoff: datetime | None = None,
        exempt: Iterable[ProjectRule | str] = (),
        unknown_upload_time: Action = Action.QUARANTINE,
        mode: Mode = Mode.ENFORCE,
        exempt_hosted: bool = False,
    ) -> None:
        if min_age < timedelta(0):
            raise ValueError(f"release-age: min_age must not be negative, got {min_age!r}")
        if cutoff is not None and cutoff.utcoffset() is None:
            raise ValueError(f"release-age: cutoff must have a timezone, got {cutoff.isoformat()}")
        self.min_age = min_age
        self.cutoff = cutoff
        self.exempt = exempt if isinstance(exempt, RuleSet) else RuleSet(exempt)
        self.unknown_upload_time = Action(unknown_upload_time)
        self.mode = mode
        self.exempt_hosted = exempt_hosted
        self._hosted = Decision(Action.ALLOW, NAME, "uploaded to this pipgate (exempt_hosted)")
        self._min_age_text = format_duration(min_age)
        self._project_allow = Decision(Action.ALLOW, NAME, "release age is judged per file")
        self._old_enough = Decision(Action.ALLOW, NAME, f"older than {self._min_age_text}")
        self._unknown = Decision(
            self.unknown_upload_time,
            NAME,
            "upload time unknown"
            + (
                "; a file of unknown age is not treated as old"
                if self.unknown_upload_time is not Action.ALLOW
                else "; allowed by configuration"
            ),
        )
        self._exemption = lru_cache(maxsize=65_536)(self._decide_exemption)

    def check_project(self, subject: ProjectSubject, now: datetime) -> Decision:
        return self._project_allow

    def check_file(self, subject: FileSubject, now: datetime) -> Decision:
        if self.exempt_hosted and subject.origin == "hosted":
            return self._hosted
        uploaded = subject.upload_time
        if uploaded is None:
            if self._unknown.allowed:
                return self._unknown
            return self._exemption(subject.project, subject.version) or self._unknown
        if self.cutoff is not None and uploaded > self.cutoff:
            return self._exemption(subject.project, subject.version) or Decision(
                Action.QUARANTINE,
                NAME,
                f"uploaded {_when(uploaded)}, after the cut-off {_when(self.cutoff)}; "
                "quarantined indefinitely, until the cut-off moves or the release is exempted",
            )
        age = now - uploaded
        if age >= self.min_age:
            return self._old_enough
        exempted = self._exemption(subject.project, subject.version)
        if exempted is not None:
            return exempted
        available_at = uploaded + self.min_age
        uploaded_text = (
            f"uploaded {format_duration(age)} ago"
            if age >= timedelta(0)
            else f"upload time is {format_duration(-age)} in the future"
        )
        return Decision(
            Action.QUARANTINE,
            NAME,
            f"{uploaded_text}; minimum age is {self._min_age_text}; "
            f"available from {_when(available_at, round_up=True)}",
            available_at=available_at,
        )

    def _decide_exemption(self, name: NormalizedName, version: Version | None) -> Decision | None:
        rule = self.exempt.first_match(name, version)
        if rule is None:
            return None
        return Decision(Action.ALLOW, NAME, f"exempt from the release-age policy by {rule.text!r}")

    def __repr__(self) -> str:
        return (
            f"ReleaseAgePolicy(min_age={self._min_age_text!r}, cutoff={self.cutoff!r}, "
            f"exempt={self.exempt!r}, unknown_upload_time={self.unknown_upload_time}, "
            f"mode={self.mode.value})"
        )


def _when(moment: datetime, *, round_up: bool = False) -> str:
    """``2026-12-03 14:00 UTC``; with ``round_up``, never earlier than ``moment``."""
    moment = moment.astimezone(UTC)
    if round_up and (moment.second or moment.microsecond):
        # Someone told "available from 14:00" must not be refused at 14:00.
        moment += timedelta(minutes=1)
    return moment.strftime("%Y-%m-%d %H:%M UTC")
