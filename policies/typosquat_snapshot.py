"""What PyPI looked like near the protected names: which neighbours are real, long-standing projects.

Malicious uploads are removed from PyPI within days, so a name that sat near a
popular project for months and was still there when the snapshot was taken is
a legitimate project, and a near-popular name missing from it is either newer
than the snapshot or was taken down. A ``Snapshot`` answers that by name alone,
and tells how crowded a protected name's neighbourhood is with real projects
(``requests-*`` is a crowded family; ``beautifulsoup4`` has few neighbours).

It does not list all of PyPI: only the *neighbourhood* of the protected names it
*covers* (the bundled corpus when it was built): every project name within two
edits of a covered name, with the same look-alike skeleton or words, or made of
a covered name plus an affix (``requests-oauthlib``, ``pyyaml`` for ``yaml``).
A name outside every neighbourhood is never a typosquat candidate, so it is
never asked about. Names are kept as 32-bit fingerprints (``fingerprint``): the
chance that a name absent from the snapshot shares a fingerprint with one of its
names is below 1 in 10,000, and such a clash can only make a check more lenient.

Binary layout (little-endian), written by ``benchmarks/build_typosquat_data.py``::

    b"PGSNAP1\\n"  u16 year  u8 month  u8 established_months
    u32 n_established  u32 n_recent  u32 n_targets
    u32[n_established]  sorted fingerprints of established neighbours
    u32[n_recent]       sorted fingerprints of neighbours released recently
    u32[n_targets]      sorted fingerprints of the covered protected names
    u16[n_targets] * 3  per covered name: established neighbours one edit away,
                        two edits away, and affixed (same order as the targets)

*Established* means the project's latest release is at least
``established_months`` months older than the snapshot: it existed then and was
still there months later. A project whose only activity is recent is *recent*:
present, but not evidence of anything yet.

Pure: it parses bytes it is given (the proxy reads the file) and never looks
at the clock; the age of the snapshot is computed from an injected ``now``.
"""

from __future__ import annotations

import copy
import enum
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import blake2b

MAGIC = b"PGSNAP1\n"
_HEADER = struct.Struct("<8sHBBIII")


def fingerprint(name: str) -> int:
    """A stable 32-bit fingerprint of a normalized project name."""
    return int.from_bytes(blake2b(name.encode(), digest_size=4).digest(), "little")


class Presence(enum.Enum):
    """What the snapshot says about a name near a protected one."""

    ESTABLISHED = "established"  # a long-standing project when the snapshot was taken
    RECENT = "recent"  # present, but released only shortly before the snapshot
    ABSENT = "absent"  # not there: newer than the snapshot, or taken down
    UNKNOWN = "unknown"  # the snapshot does not cover the protected name


@dataclass(frozen=True, slots=True)
class Density:
    """Established projects around a protected name: one edit, two edits, affixed."""

    edit1: int
    edit2: int
    affix: int


class SnapshotError(ValueError):
    """The bytes are not a snapshot this version understands."""


def _u32(data: bytes | memoryview, start: int, count: int) -> tuple[array[int], int]:
    end = start + 4 * count
    if end > len(data):
        raise SnapshotError("snapshot is truncated")
    values = array("I")
    if values.itemsize != 4:  # pragma: no cover - exotic platforms
        values = array("L")
    values.frombytes(data[start:end])
    if sys.byteorder == "big":  # pragma: no cover
        values.byteswap()
    return values, end


def _u16(data: bytes | memoryview, start: int, count: int) -> tuple[array[int], int]:
    end = start + 2 * count
    if end > len(data):
        raise SnapshotError("snapshot is truncated")
    values = array("H")
    values.frombytes(data[start:end])
    if sys.byteorder == "big":  # pragma: no cover
        values.byteswap()
    return values, end


def _contains(values: array[int], key: int) -> bool:
    at = bisect_left(values, key)
    return at < len(values) and values[at] == key


class Snapshot:
    """Look-ups in a snapshot of PyPI's neighbourhood of the protected names."""

    __slots__ = (
        "_density",
        "_established",
        "_hidden",
        "_recent",
        "_targets",
        "established_months",
        "taken",
    )

    def __init__(
        self,
        taken: datetime,
        established_months: int,
        established: array[int],
        recent: array[int],
        targets: array[int],
        density: tuple[array[int], array[int], array[int]],
    ) -> None:
        self.taken = taken
        self.established_months = established_months
        self._established, self._recent, self._targets = established, recent, targets
        self._density = density
        self._hidden: frozenset[int] = frozenset()

    def without(self, names: Iterable[str]) -> Snapshot:
        """This snapshot as if ``names`` had not been on PyPI then (shares every array).

        For measuring: a legitimate project created after the snapshot is
        judged like one of its names hidden this way.
        """
        view = copy.copy(self)
        view._hidden = self._hidden | {fingerprint(name) for name in names}
        return view

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> Snapshot:
        """Parse the binary layout described in the module docstring."""
        if len(data) < _HEADER.size:
            raise SnapshotError("snapshot is truncated")
        magic, year, month, months, n_est, n_rec, n_tgt = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise SnapshotError("not a pipgate snapshot (bad magic)")
        if not 1 <= month <= 12:
            raise SnapshotError(f"snapshot month {month} is not a month")
        at = _HEADER.size
        established, at = _u32(data, at, n_est)
        recent, at = _u32(data, at, n_rec)
        targets, at = _u32(data, at, n_tgt)
        edit1, at = _u16(data, at, n_tgt)
        edit2, at = _u16(data, at, n_tgt)
        affix, at = _u16(data, at, n_tgt)
        if at != len(data):
            raise SnapshotError("snapshot has trailing bytes")
        taken = datetime(year, month, 1, tzinfo=UTC)
        return cls(taken, months, established, recent, targets, (edit1, edit2, affix))

    @classmethod
    def build(
        cls,
        taken: datetime,
        *,
        established: list[str] | tuple[str, ...] = (),
        recent: list[str] | tuple[str, ...] = (),
        targets: dict[str, Density] | None = None,
        established_months: int = 3,
    ) -> Snapshot:
        """A snapshot from names (for tests and small operator data)."""
        targets = targets or {}
        keyed = sorted((fingerprint(name), d) for name, d in targets.items())
        return cls(
            taken,
            established_months,
            array("I", sorted({fingerprint(n) for n in established})),
            array("I", sorted({fingerprint(n) for n in recent})),
            array("I", [key for key, _ in keyed]),
            (
                array("H", [min(d.edit1, 65535) for _, d in keyed]),
                array("H", [min(d.edit2, 65535) for _, d in keyed]),
                array("H", [min(d.affix, 65535) for _, d in keyed]),
            ),
        )

    def to_bytes(self) -> bytes:
        """The binary layout (``from_bytes(to_bytes())`` round-trips)."""
        header = _HEADER.pack(
            MAGIC,
            self.taken.year,
            self.taken.month,
            self.established_months,
            len(self._established),
            len(self._recent),
            len(self._targets),
        )
        parts = [header]
        for values, code in (
            (self._established, "I"),
            (self._recent, "I"),
            (self._targets, "I"),
            *((column, "H") for column in self._density),
        ):
            copy = array(code, values)
            if sys.byteorder == "big":  # pragma: no cover
                copy.byteswap()
            parts.append(copy.tobytes())
        return b"".join(parts)

    def _target_at(self, target: str) -> int | None:
        key = fingerprint(target)
        at = bisect_left(self._targets, key)
        return at if at < len(self._targets) and self._targets[at] == key else None

    def covers(self, target: str) -> bool:
        """The snapshot lists the neighbourhood of ``target``."""
        return self._target_at(target) is not None

    def presence(self, name: str, target: str) -> Presence:
        """What the snapshot says of ``name``, a neighbour of protected ``target``."""
        key = fingerprint(name)
        if key in self._hidden:
            pass
        elif _contains(self._established, key):
            return Presence.ESTABLISHED
        elif _contains(self._recent, key):
            return Presence.RECENT
        return Presence.ABSENT if self.covers(target) else Presence.UNKNOWN

    def density(self, target: str) -> Density | None:
        """Established neighbours of ``target``, or ``None`` when it is not covered."""
        at = self._target_at(target)
        if at is None:
            return None
        edit1, edit2, affix = self._density
        return Density(edit1[at], edit2[at], affix[at])

    def months_old(self, now: datetime) -> int:
        """Whole months from the snapshot's month to ``now`` (0 in the same month)."""
        return max(0, (now.year - self.taken.year) * 12 + now.month - self.taken.month)

    def __len__(self) -> int:
        return len(self._established) + len(self._recent)

    @property
    def nbytes(self) -> int:
        arrays = (self._established, self._recent, self._targets, *self._density)
        return sum(len(a) * a.itemsize for a in arrays)
