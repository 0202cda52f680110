"""Holds into the store without slowing requests down.

The recorder calls ``HoldIntake`` on the event loop for each new hold; that
only appends to a queue. A writer thread drains the queue every
``interval`` seconds in one transaction, marks age holds that came of age as
expired, adds the hourly traffic counts and notices rules changed by another
process (the CLI's ``--data-dir`` mode). ``drain`` flushes synchronously, so
a reader sees every hold recorded before it asked.
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

from .store import Hold, QuarantineStore

log = logging.getLogger("pipgate.quarantine")


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
        self._traffic: Counter[tuple[int, str, str]] = Counter()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pipgate-quarantine", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.drain()

    def __call__(
        self,
        index: str,
        project: str,
        filename: str | None,
        decision: Decision,
        client: str,
        now: datetime,
    ) -> None:
        """The recorder listener (``services.HoldListener``)."""
        self._queue.put(
            Hold(
                index,
                project,
                filename,
                decision.policy,
                str(decision.action),
                decision.reason,
                decision.available_at,
                client,
                now,
            )
        )
        self._traffic[(int(now.timestamp()) // 3600, index, str(decision.action))] += 1

    def count(self, index: str, kind: str) -> None:
        """Count one response of ``kind`` (``served``) for the charts."""
        self._traffic[(int(self._clock().timestamp()) // 3600, index, kind)] += 1

    def drain(self) -> None:
        with self._flush_lock:
            holds: list[Hold] = []
            while True:
                try:
                    holds.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            traffic, self._traffic = self._traffic, Counter()
            if traffic:
                self._store.add_traffic(traffic)
            if holds:
                created = self._store.record(holds)
                for entry in created:
                    self._on_created(entry)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.drain()
                self._store.expire(self._clock())
                self._on_tick()
            except Exception:  # the writer must outlive one bad batch
                log.exception("writing quarantine entries failed")
