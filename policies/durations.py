"""Durations as people write them in configuration ("7d", "2d12h") and read them ("6 d 22 h").

``parse_duration`` is strict: whole numbers, units from largest to smallest,
each at most once, so a typo never silently means something else. ``"0"`` is
the only number accepted without a unit: ``7`` could mean seven seconds or
seven days, and a cooldown that silently became seven seconds is a hole.
"""

from __future__ import annotations

import re
from datetime import timedelta

#: Unit -> milliseconds, largest first. ``m`` is minutes (months are not a fixed length).
UNITS: dict[str, int] = {
    "w": 604_800_000,
    "d": 86_400_000,
    "h": 3_600_000,
    "m": 60_000,
    "s": 1_000,
    "ms": 1,
}

_PART = re.compile(r"\s*(\d+)\s*([a-z]+)")
_HUMAN = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))


def parse_duration(text: str) -> timedelta:
    """``"7d"``, ``"36h"``, ``"90m"``, ``"1w"``, ``"2d12h"``, ``"250ms"``, ``"0"`` -> ``timedelta``.

    Units: ``w`` weeks, ``d`` days, ``h`` hours, ``m`` minutes, ``s`` seconds,
    ``ms`` milliseconds (case-insensitive; spaces between parts are allowed). Raises ``ValueError``
    naming ``text`` when it is empty, negative, fractional, has no unit, has an
    unknown or repeated unit, or lists units out of order.
    """
    if not isinstance(text, str):
        raise ValueError(f"invalid duration {text!r}: expected a string such as '7d' or '36h'")
    source = text.strip().lower()
    if source == "0":
        return timedelta(0)
    if not source:
        raise ValueError(f"invalid duration {text!r}: empty; use e.g. '7d', '36h', '90m' or '0'")
    millis = 0
    position = 0
    last_rank = -1
    ranks = list(UNITS)
    while position < len(source):
        match = _PART.match(source, position)
        if match is None:
            raise ValueError(
                f"invalid duration {text!r}: expected a whole number followed by a unit "
                f"({', '.join(UNITS)}), e.g. '7d' or '2d12h'"
            )
        number, unit = match.groups()
        if unit not in UNITS:
            raise ValueError(
                f"invalid duration {text!r}: unknown unit {unit!r}; "
                f"use w (weeks), d (days), h (hours), m (minutes), s (seconds) or ms"
            )
        rank = ranks.index(unit)
        if rank <= last_rank:
            raise ValueError(
                f"invalid duration {text!r}: unit {unit!r} repeated or out of order; "
                f"write units from largest to smallest, e.g. '2d12h'"
            )
        last_rank = rank
        millis += int(number) * UNITS[unit]
        position = match.end()
    try:
        return timedelta(milliseconds=millis)
    except OverflowError:
        raise ValueError(f"invalid duration {text!r}: too long") from None


def duration_spec(value: timedelta) -> str:
    """The compact form that ``parse_duration`` reads back: 2 days 12 hours -> ``"2d12h"``.

    Weeks are written as days; milliseconds are kept, finer parts dropped.
    Raises ``ValueError`` for a negative duration.
    """
    if value < timedelta(0):
        raise ValueError(f"negative duration {value!r}")
    total = value // timedelta(milliseconds=1)
    if total == 0:
        return "0"
    parts = []
    for unit in ("d", "h", "m", "s", "ms"):
        count, total = divmod(total, UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def format_duration(value: timedelta, *, parts: int = 2) -> str:
    """A duration for people, to ``parts`` most significant units, rounded down.

    ``timedelta(hours=2, minutes=5)`` -> ``"2 h 5 min"``;
    ``timedelta(days=6, hours=22, minutes=59)`` -> ``"6 d 22 h"``; zero -> ``"0 s"``.
    Raises ``ValueError`` for a negative duration.
    """
    total = _whole_seconds(value)
    shown: list[str] = []
    for unit, size in _HUMAN:
        count, total = divmod(total, size)
        if count:
            shown.append(f"{count} {unit}")
            if len(shown) == parts:
                break
        elif shown:
            break  # a gap ends it: "1 d 0 h 5 min" would read as noise
    return " ".join(shown) or "0 s"


def _whole_seconds(value: timedelta) -> int:
    if value < timedelta(0):
        raise ValueError(f"negative duration {value!r}")
    return value.days * 86_400 + value.seconds
