"""``Review``: the quarantine of one data directory, as the API, console and CLI use it.

It owns the store, the overrides every gate consults, the intake fed by the
recorder and the optional webhook. Each action writes the store (rule, entry
states and audit record in one transaction) and reloads the overrides at
once, so the very next request, cached pages included, sees it. It takes and
returns typed values (``records``); JSON is the API's business (``serialize``).

Where an action names no index: a reject and a deny-list entry apply on every
index (``*``); a release and an allow-list entry apply on ``default`` (a
release of an entry: on the entry's index).

Methods block (SQLite): call them from a thread when on the event loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pipgate.policies.durations import parse_duration
from pipgate.proxy.errors import ReviewError, StoreUnavailable
from pipgate.proxy.quarantine.actions import Actions
from pipgate.proxy.quarantine.intake import HoldIntake
from pipgate.proxy.quarantine.overrides import ReviewOverrides
from pipgate.proxy.quarantine.records import (
    ALL_INDEXES,
    AggregateRow,
    AuditRecord,
    Entry,
    EntryDetail,
    EntryPage,
    EntryQuery,
    RemovedRule,
    Rule,
    Stats,
)
from pipgate.proxy.quarantine.store import QuarantineStore
from pipgate.proxy.quarantine.webhook import Webhook
from pipgate.proxy.storage.sql import Database

log = logging.getLogger("pipgate.quarantine")

DB_NAME = "quarantine.sqlite3"
AUDIT_NAME = "audit.jsonl"
#: The furthest 'until' accepted; further is "no end" (and years past 9999 do not exist).
MAX_UNTIL = timedelta(days=100 * 366)


def parse_until(text: str | None, now: datetime) -> datetime | None:
    """``2026-07-01``, ``2026-07-01T12:00:00Z`` or a duration from now (``30d``)."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    too_far = ReviewError(f"'until' {text!r} is out of range: at most 100 years from now")
    try:
        delta = parse_duration(text)
    except ValueError:
        pass
    except OverflowError:
        raise too_far from None
    else:
        if delta > MAX_UNTIL:
            raise too_far
        return now + delta
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(), UTC)
        else:
            moment = datetime.fromisoformat(text)
            moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError:
        raise ReviewError(
            f"'until' {text!r} is neither a date (2026-07-01), a datetime nor a duration (30d)"
        ) from None
    except OverflowError:
        raise too_far from None
    if moment - now > MAX_UNTIL:
        raise too_far
    return moment


def default_index(kind: str) -> str:
    """The index an action applies to when it names none (see the module docstring)."""
    return ALL_INDEXES if kind in ("reject", "deny") else "default"


def load_overrides(data_dir: Path, clock: Callable[[], datetime]) -> ReviewOverrides | None:
    """The reviewer rules of the review store in ``data_dir``, as a gate's overrides;
    ``None`` when the directory has no store yet (nothing was ever reviewed there)."""
    path = data_dir / DB_NAME
    if not path.exists():
        return None
    store = QuarantineStore(path, audit_log=data_dir / AUDIT_NAME)
    try:
        overrides = ReviewOverrides(clock)
        overrides.load(store.rules.active())
        return overrides
    finally:
        store.close()


class Review:
    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Callable[[], datetime],
        webhook_url: str | None = None,
        webhook_retries: int = 3,
        webhook_interval: float = 60.0,
        database: Database | None = None,
    ) -> None:
        """``database``: the shared state store (PostgreSQL); by default the SQLite file
        of ``data_dir``. ``audit.jsonl`` is written to ``data_dir`` either way."""
        data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.store = QuarantineStore(
            database or data_dir / DB_NAME, audit_log=data_dir / AUDIT_NAME
        )
        self.actions = Actions(self.store)
        self.overrides = ReviewOverrides(clock)
        self._revision = -1
        # One reload at a time: a slow reload finishing after a newer one would put
        # stale rules back (the intake thread reloads too).
        self._refresh_lock = threading.Lock()
        try:
            self.refresh()
        except StoreUnavailable as exc:
            if database is None:
                raise
            # A replica starts without its database: it answers 503 (the overrides are
            # not loaded) and reads the rules on the intake's next tick once it can.
            log.error("reviewer rules not read at start-up: %s", exc)
        self.webhook = (
            Webhook(webhook_url, retries=webhook_retries, interval=webhook_interval)
            if webhook_url
            else None
        )
        self.intake = HoldIntake(
            self.store, clock=clock, on_created=self._created, on_tick=self.refresh_if_changed
        )

    def start(self) -> None:
        self.intake.start()

    def close(self) -> None:
        self.intake.close()
        if self.webhook is not None:
            self.webhook.close()
        self.store.close()

    def refresh(self) -> None:
        with self._refresh_lock:
            revision = self.store.rules.revision()
            self.overrides.load(self.store.rules.active())
            self._revision = revision

    def refresh_if_changed(self) -> None:
        if self.store.rules.revision() != self._revision:
            self.refresh()

    def _created(self, entry: Entry) -> None:
        if self.webhook is not None:
            self.webhook.notify(entry)

    # -- reads -----------------------------------------------------------------------------

    def _catch_up(self) -> None:
        """Write queued holds and expire aged ones before a read; a store that refuses
        writes (disk full) only delays them (the intake keeps them), reads still work."""
        try:
            self.intake.drain()
            self.store.expire(self.clock())
        except StoreUnavailable as exc:
            log.warning("reading the quarantine without the newest holds: %s", exc)

    def entries(self, query: EntryQuery | None = None) -> EntryPage:
        self._catch_up()
        return self.store.entries.page(query or EntryQuery())

    def entry(self, entry_id: int) -> EntryDetail | None:
        """One entry with its clients and history; ``None`` if there is no such entry."""
        self._catch_up()
        entry = self.store.entries.get(entry_id)
        if entry is None:
            return None
        return self.store.entries.detail(entry, self.store.audit.about_entry(entry_id))

    def rules(self, *, kind: str | None = None, index: str | None = None) -> list[Rule]:
        """Rules in force, oldest first; ``index``: those that apply there."""
        return self.store.rules.active(kind=kind, index=index)

    def audit(self, *, limit: int = 100, offset: int = 0) -> list[AuditRecord]:
        return self.store.audit.records(limit=limit, offset=offset)

    def stats(self, hours: int = 48) -> Stats:
        self._catch_up()
        return self.store.stats(self.clock(), hours=hours)

    def aggregates(self, hours: int = 24) -> list[AggregateRow]:
        """Holds counted rather than queued (see ``intake``), newest hour first."""
        self._catch_up()
        return self.store.traffic.aggregates(self.clock(), hours=hours)

    # -- actions ---------------------------------------------------------------------------

    def release(
        self,
        entry_id: int,
        *,
        scope: str | None = None,
        file: str | None = None,
        until: str | None = None,
        reason: str,
        actor: str,
    ) -> Rule:
        """Release what an entry holds on its index: its version (or the project), one of
        its files (``file``), or the whole project (``scope="project"``)."""
        now = self.clock()
        self.intake.drain()
        rule = self.actions.decide_entry(
            "release",
            entry_id,
            scope=scope,
            file=file,
            until=parse_until(until, now),
            reason=reason,
            actor=actor,
            now=now,
        )
        self.refresh()
        return rule

    def reject(
        self,
        entry_id: int,
        *,
        scope: str | None = None,
        file: str | None = None,
        index: str | None = None,
        reason: str,
        actor: str,
    ) -> Rule:
        """Reject what an entry holds on every index, or on ``index`` (the entry's) only."""
        self.intake.drain()
        rule = self.actions.decide_entry(
            "reject",
            entry_id,
            scope=scope,
            file=file,
            index=index,
            reason=reason,
            actor=actor,
            now=self.clock(),
        )
        self.refresh()
        return rule

    def decide(
        self,
        kind: str,
        *,
        index: str | None = None,
        project: str,
        version: str | None = None,
        file: str | None = None,
        until: str | None = None,
        reason: str,
        actor: str,
    ) -> Rule:
        """Release or reject a target that need not have an entry yet."""
        now = self.clock()
        self.intake.drain()
        rule = self.actions.decide(
            kind,
            index=index or default_index(kind),
            project=project,
            version=version,
            file=file,
            until=parse_until(until, now),
            reason=reason,
            actor=actor,
            now=now,
        )
        self.refresh()
        return rule

    def list_add(
        self,
        kind: str,
        *,
        index: str | None = None,
        rule: str,
        reason: str,
        actor: str,
        everything: bool = False,
    ) -> Rule:
        self.intake.drain()
        added = self.actions.list_add(
            kind,
            index=index or default_index(kind),
            rule=rule,
            reason=reason,
            actor=actor,
            now=self.clock(),
            everything=everything,
        )
        self.refresh()
        return added

    def list_remove(
        self, kind: str, *, index: str | None = None, rule: str, reason: str, actor: str
    ) -> RemovedRule:
        removed = self.actions.list_remove(
            kind,
            index=index or default_index(kind),
            rule=rule,
            reason=reason,
            actor=actor,
            now=self.clock(),
        )
        self.refresh()
        return removed
