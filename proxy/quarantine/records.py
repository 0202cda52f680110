"""What the review store holds, as typed values: no I/O, no JSON.

The queue holds decisions, not files: an ``Entry`` is one held version of a
project on one index under one policy (or the project itself, for a hold of the
whole project), with the files it holds inside (``HeldFile``). A page view that
withholds a version counts as one *view* of the entry; a request for a file (or
its metadata) counts as a *request* of that file and of the entry.

Times are aware ``datetime`` values in UTC. ``serialize`` turns these into the
JSON of the admin API and back, for the API, the console and the CLI alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Review states of an entry and of each of its files.
STATES = ("quarantined", "released", "rejected", "expired")
#: What a decision about an entry covers: one of its files, its version, or the project.
SCOPES = ("file", "version", "project")
#: The policy name of decisions that come from reviewers (see ``overrides``).
REVIEW = "review"
#: The index of a rule that applies on every index.
ALL_INDEXES = "*"
#: Longest reason kept (characters): reasons go to the audit log, pages and webhooks.
MAX_REASON = 2000
#: Largest id a row can have; a bigger number names nothing (and cannot be bound).
MAX_ID = 2**63 - 1


def valid_id(value: object) -> bool:
    """Whether ``value`` can be the id of a row (route converters pass any int)."""
    return isinstance(value, int) and 0 < value <= MAX_ID


def from_timestamp(ts: float | None) -> datetime | None:
    """A stored time (POSIX seconds) as an aware UTC ``datetime``."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def timestamp(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def utc_text(moment: datetime) -> str:
    """``2026-03-01T12:00:00Z``: how times are written in JSON (the API, ``audit.jsonl``)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Hold:
    """One enforced hold as the recorder saw it: a file (``None``: the project itself)
    held by one policy for one request."""

    index: str
    project: str
    file: str | None
    policy: str
    action: str
    reason: str
    available_at: datetime | None
    client: str
    when: datetime
    #: Met on a project page (a view of the version), not by a request for the file.
    page: bool = False
    #: Decided by name alone, before upstream was asked (see ``intake``).
    by_name: bool = False


@dataclass(frozen=True, slots=True)
class HeldFile:
    """A file of an entry: its own reason (the scan's finding, its upload age) and how
    often it was requested (the file or its metadata; page views do not count)."""

    file: str
    reason: str
    available_at: datetime | None
    requests: int
    first_held: datetime
    last_requested: datetime | None
    state: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of the queue: a version (``version``, with ``files``) or the project
    itself (``version`` and ``files`` empty) held on ``index`` by ``policy``."""

    id: int
    index: str
    project: str
    version: str | None
    policy: str
    action: str
    #: The latest reason given for the hold (each file keeps its own).
    reason: str
    #: When everything held comes of age by itself (``None``: never, or unknown).
    available_at: datetime | None
    first_requested: datetime
    last_requested: datetime
    #: Page views that withheld this version (or refused the project's page).
    views: int
    #: Requests for its files or their metadata (for the project itself: refused files).
    requests: int
    files: tuple[HeldFile, ...]
    top_clients: tuple[str, ...]
    state: str
    changed_by: str | None
    changed_at: datetime | None
    change_reason: str | None
    until: datetime | None

    @property
    def scope(self) -> str:
        """What a decision about the whole entry covers: its version, or the project."""
        return "version" if self.version else "project"

    def file(self, name: str) -> HeldFile | None:
        return next((f for f in self.files if f.file == name), None)


@dataclass(frozen=True, slots=True)
class ClientCount:
    """Who asked for an entry, how often (views and requests), and when last."""

    client: str
    count: int
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    time: datetime
    actor: str
    action: str
    index: str
    target: str
    reason: str
    #: What the action covered: ``rule``, ``entry``, ``entries``, ``applies_to``, ...
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EntryDetail(Entry):
    """An entry with everyone who asked for it and its history (newest first)."""

    clients: tuple[ClientCount, ...] = ()
    history: tuple[AuditRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class EntryQuery:
    """Which entries to list: exact state, index and policy; part of a project name."""

    state: str | None = None
    index: str | None = None
    project: str | None = None
    policy: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class EntryPage:
    """A page of entries, most recently requested first, and how many match in all."""

    entries: tuple[Entry, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class Rule:
    """A reviewer rule in force: a ``release`` or ``reject`` of a project, version or
    file, or a runtime ``allow`` or ``deny`` list entry (``rule``: its text)."""

    id: int
    index: str
    kind: str
    project: str
    version: str | None
    file: str | None
    rule: str | None
    until: datetime | None
    reason: str
    actor: str
    created_at: datetime

    @property
    def target(self) -> str:
        """``project [version] [file]``, or the list rule's text."""
        return self.rule or " ".join(p for p in (self.project, self.version, self.file) if p)


@dataclass(frozen=True, slots=True)
class RemovedRule:
    removed: int
    index: str
    rule: str
    kind: str


@dataclass(frozen=True, slots=True)
class AggregateRow:
    """Holds counted, not queued: one hour, index, policy and action."""

    hour: datetime
    index: str
    policy: str
    action: str
    requests: int
    samples: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class HourCounts:
    """Requests in one hour: files served, and requests that met a hold or a block."""

    hour: datetime
    served: int
    quarantined: int
    blocked: int


@dataclass(frozen=True, slots=True)
class TopHeld:
    index: str
    project: str
    views: int
    requests: int
    entries: int


@dataclass(frozen=True, slots=True)
class Stats:
    hours: tuple[HourCounts, ...]
    states: dict[str, int]
    top_held: tuple[TopHeld, ...]


@dataclass(frozen=True, slots=True)
class Session:
    """A console login (its secret and CSRF token are never part of it)."""

    id: int
    #: The token that logged in.
    name: str
    client: str
    user_agent: str
    created: datetime
    last_seen: datetime
    #: When it ends unless used again (idle) or at all (its ttl), whichever is earlier.
    expires: datetime
    active: bool
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None


@dataclass(frozen=True, slots=True)
class ListedSession(Session):
    """A session as listed to someone: ``current`` marks their own."""

    current: bool = False
