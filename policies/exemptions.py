"""Per-advisory exemptions with an expiry: "we accept GHSA-xxxx until 2027-01-01, because ...".

An exemption names an advisory by its id or any alias (``CVE-2024-35195``
exempts the GHSA and PYSEC records of that CVE alike). It applies while
``now < until``; after that the advisory counts again, and decisions say that
the exemption expired, so nobody wonders why a build broke.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from .advisories import Advisory


@dataclass(frozen=True, slots=True)
class Exemption:
    """``until`` must be timezone-aware; ``reason`` is shown in messages and logs."""

    id: str
    until: datetime
    reason: str

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError("an exemption needs an advisory id")
        if self.until.utcoffset() is None:
            raise ValueError(f"exemption {self.id}: 'until' must have a timezone")

    def covers(self, advisory: Advisory) -> bool:
        return advisory.known_as(self.id)

    def active(self, now: datetime) -> bool:
        return now < self.until


class Exemptions:
    """The exemptions of one policy."""

    def __init__(self, exemptions: Iterable[Exemption] = ()) -> None:
        self.all = tuple(exemptions)

    def __bool__(self) -> bool:
        return bool(self.all)

    def split(
        self, advisories: Iterable[Advisory], now: datetime
    ) -> tuple[list[Advisory], list[tuple[Advisory, Exemption]]]:
        """``advisories`` that count now, and those an active exemption covers."""
        counting: list[Advisory] = []
        exempted: list[tuple[Advisory, Exemption]] = []
        for advisory in advisories:
            active = next((e for e in self.all if e.covers(advisory) and e.active(now)), None)
            if active is None:
                counting.append(advisory)
            else:
                exempted.append((advisory, active))
        return counting, exempted

    def expired_for(self, advisory: Advisory, now: datetime) -> Exemption | None:
        """The exemption of ``advisory`` that has expired, if any (for messages)."""
        return next((e for e in self.all if e.covers(advisory) and not e.active(now)), None)

    def next_expiry(self, now: datetime) -> datetime | None:
        """The earliest ``until`` still ahead of ``now``: decisions change then."""
        return min((e.until for e in self.all if e.active(now)), default=None)


def day(moment: datetime) -> str:
    """``2027-01-01`` (a midnight) or ``2027-01-01 12:00 UTC``."""
    moment = moment.astimezone(UTC)
    if moment.hour == moment.minute == moment.second == 0:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M UTC")
