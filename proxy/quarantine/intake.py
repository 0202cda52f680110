"""Holds into the store without slowing requests down.

The recorder calls ``HoldIntake`` on the event loop once per request that met
holds (a page view, or a request for a file); that only appends the request's
holds to a queue, together, so the store counts a page view once per entry. A writer thread drains the queue every
``interval`` seconds in one transaction, marks age holds that came of age as
expired, adds the hourly traffic counts and notices rules changed by another
process (the CLI's ``--data-dir`` mode). ``drain`` flushes synchronously, so
a reader sees every hold recorded before it asked.

Holds decided by name alone, before upstream was asked (``by_name``), do not
enter the queue one by one unless the project is known to exist (its page is
cached, ``page_known``) and a reviewer could lift them: anyone can invent
names, and dependency-confusion or denylist refusals are final. They are
counted instead, one aggregate row per hour, index, policy and action with a
few sample names (``traffic.aggregates``); each is in the decision log already.

A batch the store refuses (disk full) is kept and written by a later drain;
the writer thread then waits longer between attempts (doubling, up to
``MAX_BACKOFF``). At most ``MAX_PENDING`` requests' holds wait; beyond that the
oldest are dropped, counted and logged (each is in the decision log already).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pipgate.proxy.errors import StoreUnavailable
from pipgate.proxy.quarantine.overrides import releasable
from pipgate.proxy.quarantine.records import Entry, Hold
from pipgate.proxy.quarantine.traffic import AGGREGATE_SAMPLES

if TYPE_CHECKING:
    from pipgate.proxy.observe.recorder import Held
    from pipgate.proxy.quarantine.store import QuarantineStore

log = logging.getLogger("pipgate.quarantine")

#: Requests' holds kept while the store refuses writes.
MAX_PENDING = 10_000
#: Longest wait between two attempts of the writer thread, in seconds.
MAX_BACKOFF = 30.0


class Tally:
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

    def merge(self, other: Tally) -> None:
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
        on_created: Callable[[Entry], None] = lambda entry: None,
        on_tick: Callable[[], None] = lambda: None,
        interval: float = 0.25,
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_created = on_created
        self._on_tick = on_tick
        self._interval = interval
        self._queue: queue.SimpleQueue[tuple[Hold, ...]] = queue.SimpleQueue()
        self._pending: list[tuple[Hold, ...]] = []
        self._traffic: Counter[tuple[int, str, str]] = Counter()
        self._aggregates: dict[tuple[int, str, str, str], Tally] = {}
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
            log.error("%d quarantine holds not written at shutdown: %s", self.pending, exc)

    def __call__(
        self,
        index: str,
        project: str,
        held: Sequence[Held],
        client: str,
        now: datetime,
        *,
        page: bool,
        by_name: bool = False,
    ) -> None:
        """The recorder listener (``observe.recorder.HoldListener``): one request's holds."""
        holds = tuple(
            Hold(
                index,
                project,
                h.filename,
                h.decision.policy,
                str(h.decision.action),
                h.decision.reason,
                h.decision.available_at,
                client,
                now,
                page=page,
                by_name=by_name,
            )
            for h in held
        )
        hour = int(now.timestamp()) // 3600
        for action in {hold.action for hold in holds}:  # a request counts once per action
            self._traffic[(hour, index, action)] += 1
        queued = []
        for hold, h in zip(holds, held, strict=True):
            if by_name and not releasable(h.decision):
                self._aggregate(hold)
            else:
                queued.append(hold)
        if queued:
            self._queue.put(tuple(queued))

    def _aggregate(self, hold: Hold) -> None:
        key = (int(hold.when.timestamp()) // 3600, hold.index, hold.policy, hold.action)
        found = self._aggregates.get(key)
        if found is None:
            found = self._aggregates[key] = Tally()
        found.add(hold.project, hold.reason)

    def count(self, index: str, kind: str) -> None:
        """Count one response of ``kind`` (``served``) for the charts."""
        self._traffic[(int(self._clock().timestamp()) // 3600, index, kind)] += 1

    @property
    def pending(self) -> int:
        """Holds taken off the queue and not yet written."""
        return sum(len(holds) for holds in self._pending)

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
                self.dropped += sum(len(holds) for holds in self._pending[:excess])
                del self._pending[:excess]
                log.error(
                    "dropped the holds of %d requests: the store has refused writes too long "
                    "(they are in the decision log)",
                    excess,
                )
            if any(holds[0].by_name for holds in self._pending):
                # Known projects only: anyone can invent names (see the module docstring).
                known: list[tuple[Hold, ...]] = []
                for holds in self._pending:
                    if not holds[0].by_name or self.page_known(holds[0].project):
                        known.append(holds)
                    else:
                        for hold in holds:
                            self._aggregate(hold)
                self._pending = known
            traffic, self._traffic = self._traffic, Counter()
            aggregates, self._aggregates = self._aggregates, {}
            try:
                self._store.add_counts(
                    traffic, {k: (a.count, a.samples, a.reason) for k, a in aggregates.items()}
                )
            except StoreUnavailable:
                self._traffic.update(traffic)
                for key, tally in aggregates.items():
                    self._aggregates.setdefault(key, Tally()).merge(tally)
                raise
            if self._pending:
                try:
                    created = self._store.record(self._pending)
                except StoreUnavailable:
                    raise
                except Exception:
                    # Not the disk: retrying would fail the same way and block every later hold.
                    log.exception("dropping %d quarantine holds", self.pending)
                    self.dropped += self.pending
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
