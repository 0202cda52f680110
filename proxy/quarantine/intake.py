"""Holds into the store without slowing requests down.

The recorder calls ``HoldIntake`` on the event loop for each new hold; that
only appends to a queue. A writer thread drains the queue every
``interval`` seconds in one transaction, marks age holds that came of age as
expired, adds the hourly traffic counts and notices rules changed by another
process (the CLI's ``--data-dir`` mode). ``drain`` flushes synchronously, so
a reader sees every hold recorded before it asked.

Holds decided by name alone, before upstream was asked (``by_name``), do not
enter the queue one by one unless the project is known to exist (its page is
cached, ``page_known``) and a reviewer could lift them: anyone can invent
names, and dependency-confusion or denylist refusals are final. They are
counted instead, one aggregate row per hour, index, policy and action with a
few sample names (``store.aggregates``); each is in the decision log already.

A batch the store refuses (disk full) is kept and written by a later drain;
the writer thread then waits longer between attempts (doubling, up to
``MAX_BACKOFF``). At most ``MAX_PENDING`` holds wait; beyond that the oldest
are dropped, counted and logged (each is in the decision log already).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pipgate.policies.decision import Decision
from pipgate.proxy.quarantine.overrides import releasable
from pipgate.proxy.quarantine.store import (
    AGGREGATE_SAMPLES,
    Hold,
    QuarantineStore,
    StoreUnavailable,
)

log = logging.getLogger("pipgate.quarantine")

#: Holds kept while the store refuses writes.
MAX_PENDING = 10_000
#: Longest wait between two attempts of the writer thread, in seconds.
MAX_BACKOFF = 30.0


class Aggregate:
    """Holds counted, not queued: how many, a few sample names, the latest reason."""

    __slots__ = ("count", "reason", "samples")

    def __init__(self) -> None:
        self.count = 0
        self.samples: list[str] = []
        self.reason = ""

    def add(self, project: str, reason: str, count: int = 1) -> None:
        self.count += count
        self.reason = reason
        if len(self.samples) < AGGREGATE_SAMPLES and project not in self.samples:
            self.samples.append(project)

    def merge(self, other: Aggregate) -> None:
        for project in other.samples:
            self.add(project, other.reason, 0)
        self.count += other.count
        self.reason = other.reason or self.reason


class HoldIntake:
    def __init__(
        self,
        store: QuarantineStore,
        *,
        clock: Callable[[], datetime],
        on_created: Callable[[dict[str, Any]], None] = lambda entry: None,
        on_tick: Callable[[], None] = lambda: None,
        interval: float = 0.25,
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_created = on_created
        self._on_tick = on_tick
        self._interval = interval
        self._queue: queue.SimpleQueue[Hold] = queue.SimpleQueue()
        self._pending: list[Hold] = []
        self._traffic: Counter[tuple[int, str, str]] = Counter()
        self._aggregates: dict[tuple[int, str, str, str], Aggregate] = {}
        #: Whether a project's page is cached (blocking; set by the app to the index cache's).
        self.page_known: Callable[[str], bool] = lambda name: False
        #: Holds dropped because the store refused writes for too long.
        self.dropped = 0
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pipgate-quarantine", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        try:
            self.drain()
        except StoreUnavailable as exc:
            log.error("%d quarantine holds not written at shutdown: %s", len(self._pending), exc)

    def __call__(
        self,
        index: str,
        project: str,
        filename: str | None,
        decision: Decision,
        client: str,
        now: datetime,
        *,
        by_name: bool = False,
    ) -> None:
        """The recorder listener (``observe.recorder.HoldListener``)."""
        hold = Hold(
            index,
            project,
            filename,
            decision.policy,
            str(decision.action),
            decision.reason,
            decision.available_at,
            client,
            now,
            by_name=by_name,
        )
        self._traffic[(int(now.timestamp()) // 3600, index, str(decision.action))] += 1
        if by_name and not releasable(decision):
            self._aggregate(hold)
        else:
            self._queue.put(hold)

    def _aggregate(self, hold: Hold) -> None:
        key = (int(hold.when.timestamp()) // 3600, hold.index, hold.policy, hold.action)
        found = self._aggregates.get(key)
        if found is None:
            found = self._aggregates[key] = Aggregate()
        found.add(hold.project, hold.reason)

    def count(self, index: str, kind: str) -> None:
        """Count one response of ``kind`` (``served``) for the charts."""
        self._traffic[(int(self._clock().timestamp()) // 3600, index, kind)] += 1

    @property
    def pending(self) -> int:
        """Holds taken off the queue and not yet written."""
        return len(self._pending)

    def drain(self) -> None:
        """Write every hold queued so far; raises ``StoreUnavailable`` (keeping them) if refused."""
        with self._flush_lock:
            while True:
                try:
                    self._pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if len(self._pending) > MAX_PENDING:
                excess = len(self._pending) - MAX_PENDING
                del self._pending[:excess]
                self.dropped += excess
                log.error(
                    "dropped %d quarantine holds: the store has refused writes too long "
                    "(they are in the decision log)",
                    excess,
                )
            if any(hold.by_name for hold in self._pending):
                # Known projects only: anyone can invent names (see the module docstring).
                known: list[Hold] = []
                for hold in self._pending:
                    if not hold.by_name or self.page_known(hold.project):
                        known.append(hold)
                    else:
                        self._aggregate(hold)
                self._pending = known
            traffic, self._traffic = self._traffic, Counter()
            if traffic:
                try:
                    self._store.add_traffic(traffic)
                except StoreUnavailable:
                    self._traffic.update(traffic)
                    raise
            aggregates, self._aggregates = self._aggregates, {}
            if aggregates:
                try:
                    self._store.add_aggregates(
                        {k: (a.count, a.samples, a.reason) for k, a in aggregates.items()}
                    )
                except StoreUnavailable:
                    for key, aggregate in aggregates.items():
                        self._aggregates.setdefault(key, Aggregate()).merge(aggregate)
                    raise
            if self._pending:
                try:
                    created = self._store.record(self._pending)
                except StoreUnavailable:
                    raise
                except Exception:
                    # Not the disk: retrying would fail the same way and block every later hold.
                    log.exception("dropping %d quarantine holds", len(self._pending))
                    self.dropped += len(self._pending)
                    self._pending = []
                    raise
                self._pending = []
                for entry in created:
                    self._on_created(entry)

    def _run(self) -> None:
        wait = self._interval
        while not self._stop.wait(wait):
            try:
                self.drain()
                self._store.expire(self._clock())
                self._on_tick()
            except StoreUnavailable as exc:
                wait = min(wait * 2, MAX_BACKOFF)
                log.warning(
                    "writing quarantine holds failed (%s); %d wait, next attempt in %.1f s",
                    exc,
                    len(self._pending),
                    wait,
                )
                continue
            except Exception:  # the writer must outlive one bad batch
                log.exception("writing quarantine entries failed")
            wait = self._interval
