"""The long-lived parts of a running proxy, built once by the app's lifespan."""

from __future__ import annotations

import os
import time
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pipgate.policies.decision import Decision
from pipgate.policies.engine import Verdict
from pipgate.proxy.config.settings import Settings, format_size
from pipgate.proxy.files.downloads import Downloads
from pipgate.proxy.files.slots import DownloadSlots
from pipgate.proxy.files.store import FileStore
from pipgate.proxy.gate import Gate, ProjectView
from pipgate.proxy.index.cache import IndexCache
from pipgate.proxy.index.pages import PageRenderer
from pipgate.proxy.intel.feeds import IntelFeeds
from pipgate.proxy.observe.decision_log import DecisionLog
from pipgate.proxy.observe.disk import space_of
from pipgate.proxy.observe.metrics import Metrics
from pipgate.proxy.upstream.circuit import State
from pipgate.proxy.upstream.client import UpstreamClient


class HoldListener(Protocol):
    """Told of each hold: (index, project, filename or None, decision, client, now).

    ``by_name`` is true for a refusal decided by name alone, before upstream was
    asked: whether such a project exists at all is unknown.
    """

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
    ) -> None: ...


class Recorder:
    """Writes non-allow decisions to the decision log, the metrics and hold listeners.

    A page view repeats the same holds on every request; they are recorded
    again for a client only after ``repeat_after`` seconds, or when the view
    changes. Metrics count every request.
    """

    def __init__(
        self,
        log: DecisionLog,
        metrics: Metrics,
        *,
        clock: Callable[[], datetime],
        repeat_after: float = 600.0,
    ) -> None:
        self._log = log
        self._metrics = metrics
        self._clock = clock
        self._repeat_after = repeat_after
        self._seen_views: dict[tuple[int, str], float] = {}
        self.listeners: list[HoldListener] = []

    def project(
        self, gate: Gate, name: str, verdict: Verdict, client: str, *, by_name: bool = False
    ) -> None:
        """A project verdict; ``by_name``: decided before upstream was asked."""
        for decision in verdict.observed:
            self._record(
                gate.index, name, None, decision, client, held=not verdict.allowed, by_name=by_name
            )

    def file(self, gate: Gate, name: str, filename: str, verdict: Verdict, client: str) -> None:
        for decision in verdict.observed:
            self._record(gate.index, name, filename, decision, client, held=not verdict.allowed)

    def view(self, gate: Gate, name: str, view: ProjectView, client: str) -> None:
        judged = ((None, view.verdict), *((f.filename, v) for f, v in (*view.held, *view.dry_run)))
        tally: Tally[tuple[str, str, str]] = Tally()
        for _, verdict in judged:
            for d in verdict.observed:
                tally[(d.policy, str(d.action), "dry-run" if d.dry_run else "enforce")] += 1
        for (policy, action, mode), count in tally.items():
            self._metrics.decisions.labels(gate.index, policy, action, mode).inc(count)
        if not tally:
            return
        key, now_mono = (id(view), client), time.monotonic()
        last = self._seen_views.get(key)
        if last is not None and now_mono - last < self._repeat_after:
            return
        if len(self._seen_views) > 50_000:
            self._seen_views.clear()
        self._seen_views[key] = now_mono
        for filename, verdict in judged:
            for d in verdict.observed:
                self._write(gate.index, name, filename, d, client, held=not verdict.allowed)

    def _record(
        self,
        index: str,
        name: str,
        filename: str | None,
        d: Decision,
        client: str,
        *,
        held: bool,
        by_name: bool = False,
    ) -> None:
        self._metrics.decisions.labels(
            index, d.policy, str(d.action), "dry-run" if d.dry_run else "enforce"
        ).inc()
        self._write(index, name, filename, d, client, held=held, by_name=by_name)

    def _write(
        self,
        index: str,
        name: str,
        filename: str | None,
        d: Decision,
        client: str,
        *,
        held: bool,
        by_name: bool = False,
    ) -> None:
        """Log ``d``; tell the hold listeners only when it really held something
        (not for dry-run objections, nor ones an explicit allow overrode)."""
        now = self._clock()
        written = self._log.record(
            index=index, project=name, file=filename, decision=d, client=client, now=now
        )
        if written and held and not d.dry_run:
            for listener in self.listeners:
                listener(index, name, filename, d, client, now, by_name=by_name)


@dataclass
class Services:
    settings: Settings
    upstream: UpstreamClient
    index_cache: IndexCache
    store: FileStore
    downloads: Downloads
    pages: PageRenderer
    gates: dict[str, Gate]
    metrics: Metrics
    recorder: Recorder
    decision_log: DecisionLog
    slots: DownloadSlots
    #: The advisory feeds of the malicious and vulnerabilities policies.
    intel: IntelFeeds | None = None
    extras: dict[str, object] = field(default_factory=dict)

    def readiness_problems(self) -> list[str]:
        """What keeps this proxy from serving (blocking: call in a thread)."""
        problems = []
        data_dir = self.settings.cache.data_dir
        if not os.access(data_dir, os.W_OK):
            problems.append(f"data directory {str(data_dir)!r} is not writable")
        if not os.access(self.store.tmp_dir, os.W_OK):
            problems.append(f"download directory {str(self.store.tmp_dir)!r} is not writable")
        try:
            space = space_of(data_dir)
        except OSError as exc:
            problems.append(f"cannot read the free space of {str(data_dir)!r}: {exc}")
        else:
            wanted = self.settings.cache.min_free_bytes(space.total)
            if space.free < wanted:
                problems.append(
                    f"only {format_size(space.free)} free in data directory {str(data_dir)!r} "
                    f"(min_free_space is {self.settings.cache.min_free_space}); "
                    "caches and logs cannot be written"
                )
        return problems

    def readiness_notes(self) -> list[str]:
        """What is degraded but still served: an upstream whose circuit is open."""
        return [b.describe() for b in self.upstream.breakers if b.state is not State.CLOSED]

    def close(self) -> None:
        self.index_cache.close()
        self.store.close()
        self.decision_log.close()
