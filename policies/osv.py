"""OSV records (https://ossf.github.io/osv-schema/) read into advisories, one record at a time.

``read_record`` takes one decoded JSON document and returns what it says about
PyPI projects, ``None`` when it says nothing that counts (withdrawn, or no PyPI
package), or raises ``BadRecord`` naming what is wrong. Lenient where a field
is only informative (an unreadable severity is unknown, a summary too long is
cut), strict where a mistake would change what is blocked (the id, the
package names, the shape of ranges and versions).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .advisories import KINDS, AdvisoryIndex, Claim, IndexBuilder, kind_of
from .names import BadProjectName, project_name
from .severity import Severity, cvss3_base_score

ECOSYSTEM = "PyPI"
#: Longest summary kept (characters): it ends up in HTTP reason phrases.
MAX_SUMMARY = 160
#: Range types whose events are package versions (``GIT`` ranges are commits).
VERSION_RANGES = frozenset({"ECOSYSTEM", "SEMVER"})


class BadRecord(ValueError):
    """A record that cannot be read; the message names the record (its id when known)."""


@dataclass(frozen=True, slots=True)
class Record:
    """What one OSV record says about PyPI projects."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: Severity | None
    claims: tuple[Claim, ...]


def read_record(data: Any, *, where: str = "record") -> Record | None:
    """The PyPI claims of one OSV record (see the module docstring).

    ``where`` names the record in errors (a file name) until its id is known.
    """
    if not isinstance(data, Mapping):
        raise BadRecord(f"{where}: not a JSON object")
    advisory_id = data.get("id")
    if not isinstance(advisory_id, str) or not advisory_id.strip():
        raise BadRecord(f"{where}: no 'id' string")
    advisory_id = advisory_id.strip()
    where = advisory_id
    if data.get("withdrawn"):
        return None
    affected = data.get("affected") or []
    if not isinstance(affected, list):
        raise BadRecord(f"{where}: 'affected' is not a list")
    claims = []
    for number, entry in enumerate(affected, 1):
        claim = _claim(entry, f"{where}: affected[{number}]")
        if claim is not None:
            claims.append(claim)
    if not claims:
        return None
    aliases = data.get("aliases") or []
    if not isinstance(aliases, list):
        raise BadRecord(f"{where}: 'aliases' is not a list")
    return Record(
        advisory_id,
        tuple(a.strip() for a in aliases if isinstance(a, str) and a.strip()),
        _summary(data),
        _severity(data),
        tuple(claims),
    )


def _claim(entry: Any, where: str) -> Claim | None:
    if not isinstance(entry, Mapping):
        raise BadRecord(f"{where}: not an object")
    package = entry.get("package")
    if not isinstance(package, Mapping):
        raise BadRecord(f"{where}: no 'package' object")
    ecosystem, raw_name = package.get("ecosystem"), package.get("name")
    if not isinstance(ecosystem, str) or not isinstance(raw_name, str):
        raise BadRecord(f"{where}: package needs 'ecosystem' and 'name' strings")
    if ecosystem != ECOSYSTEM:
        return None
    try:
        name = project_name(raw_name.strip())
    except BadProjectName as exc:
        raise BadRecord(f"{where}: {exc}") from None
    ranges_data = entry.get("ranges") or []
    versions_data = entry.get("versions") or []
    if not isinstance(ranges_data, list):
        raise BadRecord(f"{where}: 'ranges' is not a list")
    if not isinstance(versions_data, list) or not all(isinstance(v, str) for v in versions_data):
        raise BadRecord(f"{where}: 'versions' is not a list of strings")
    ranges = []
    for number, item in enumerate(ranges_data, 1):
        events = _events(item, f"{where}.ranges[{number}]")
        if events is not None:
            ranges.append(events)
    return Claim(
        name,
        tuple(ranges),
        tuple(v.strip() for v in versions_data if v.strip()),
        every_version=not ranges_data and not versions_data,
    )


def _events(item: Any, where: str) -> tuple[tuple[str, str], ...] | None:
    """The ``(kind, version)`` events of a version range; ``None`` for a ``GIT`` range."""
    if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
        raise BadRecord(f"{where}: a range needs a 'type'")
    events = item.get("events")
    if not isinstance(events, list) or not events:
        raise BadRecord(f"{where}: a range needs a list of 'events'")
    if item["type"] not in VERSION_RANGES:
        return None
    found = []
    for event in events:
        if not isinstance(event, Mapping) or len(event) != 1:
            raise BadRecord(f"{where}: each event has exactly one of introduced/fixed/...")
        ((kind, version),) = event.items()
        if not isinstance(version, str) or not version.strip():
            raise BadRecord(f"{where}: event {kind!r} has no version string")
        found.append((str(kind), version.strip()))
    if not any(kind == "introduced" for kind, _ in found):
        raise BadRecord(f"{where}: a range needs an 'introduced' event")
    return tuple(found)


def _summary(data: Mapping[str, Any]) -> str:
    text = data.get("summary")
    if not isinstance(text, str) or not text.strip():
        details = data.get("details")
        text = details.strip().split("\n", 1)[0] if isinstance(details, str) else ""
    text = " ".join(text.split())
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1].rstrip() + "…"


def _severity(data: Mapping[str, Any]) -> Severity | None:
    """A CVSS v3 vector's rating, else ``database_specific.severity``, else unknown."""
    for item in data.get("severity") or ():
        if isinstance(item, Mapping) and item.get("type") == "CVSS_V3":
            try:
                return Severity.from_score(cvss3_base_score(str(item.get("score", ""))))
            except ValueError:
                pass
    places = [data.get("database_specific")]
    places += [
        e.get("database_specific") for e in data.get("affected") or () if isinstance(e, Mapping)
    ]
    for place in places:
        if isinstance(place, Mapping) and isinstance(place.get("severity"), str):
            try:
                return Severity.parse(place["severity"])
            except ValueError:
                pass
    return None


class FeedReader:
    """Reads the records of one feed into one ``AdvisoryIndex`` per kind wanted.

    Lenient per record: a record that cannot be read is skipped and counted in
    ``bad`` (the first few messages are kept in ``problems``); withdrawn
    records, records about no PyPI project and records of a kind not wanted
    are counted in ``ignored``.
    """

    def __init__(self, kinds: Iterable[str] = KINDS, *, keep_problems: int = 5) -> None:
        self.kinds = frozenset(kinds)
        unknown = self.kinds - set(KINDS)
        if unknown:
            raise ValueError(f"unknown advisory kinds {sorted(unknown)}; expected {KINDS}")
        self._builders = {kind: IndexBuilder() for kind in self.kinds}
        self.bad = 0
        self.ignored = 0
        self.problems: list[str] = []
        self._keep = keep_problems

    def add(self, data: Any, *, where: str, fingerprint: bytes = b"") -> None:
        """One decoded JSON document; ``where`` names it in problems (its file name)."""
        try:
            record = read_record(data, where=where)
        except BadRecord as exc:
            self.skip(str(exc))
            return
        builder = self._builders.get(kind_of(record.id)) if record is not None else None
        if record is None or builder is None:
            self.ignored += 1
            return
        builder.add(
            record.id,
            aliases=record.aliases,
            summary=record.summary,
            severity=record.severity,
            claims=record.claims,
            fingerprint=fingerprint,
        )

    def skip(self, problem: str) -> None:
        """Count a record that could not be read (also one that is not JSON)."""
        self.bad += 1
        if len(self.problems) < self._keep:
            self.problems.append(problem)

    @property
    def loaded(self) -> int:
        return sum(len(builder) for builder in self._builders.values())

    def indexes(self) -> dict[str, AdvisoryIndex]:
        return {kind: builder.build() for kind, builder in self._builders.items()}
