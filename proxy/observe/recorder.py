"""Where non-allow decisions go: the decision log, the metrics and the hold listeners.

Metrics count every decision of every request. The decision log is written by
``DecisionSink.record``, which is the one place repeats are thinned out (the same
line for the same client at most once per ``repeat_after``); a hold listener (the
review queue) hears of a hold only when its line was written, so a page that
withholds the same files on every request costs the queue nothing more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pipgate.policies.decision import Decision
from pipgate.policies.engine import Verdict
from pipgate.proxy.gate import Gate, ProjectView
from pipgate.proxy.observe.decision_log import DecisionSink
from pipgate.proxy.observe.metrics import Metrics


@dataclass(frozen=True, slots=True)
class Held:
    """A hold a request met: the file (``None``: the project itself) and the decision."""

    filename: str | None
    decision: Decision


class HoldListener(Protocol):
    """Told once per request of the holds it met: (index, project, held, client, now).

    ``page`` is true for a project page (it withholds files, or is refused), false
    for a request for a file or its metadata. ``by_name`` is true for a refusal
    decided by name alone, before upstream was asked: whether such a project
    exists at all is unknown.
    """

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
    ) -> None: ...


Judged = tuple[str | None, Verdict]
"""A filename (``None`` for the project itself) and its verdict."""


class Recorder:
    def __init__(
        self, log: DecisionSink, metrics: Metrics, *, clock: Callable[[], datetime]
    ) -> None:
        self._log = log
        self._metrics = metrics
        self._clock = clock
        self.listeners: list[HoldListener] = []

    def project(
        self,
        gate: Gate,
        name: str,
        verdict: Verdict,
        client: str,
        *,
        page: bool,
        by_name: bool = False,
    ) -> None:
        """A project verdict, for its page (``page``) or for one of its files;
        ``by_name``: decided before upstream was asked."""
        self._record(gate.index, name, [(None, verdict)], client, page=page, by_name=by_name)

    def file(self, gate: Gate, name: str, filename: str, verdict: Verdict, client: str) -> None:
        self._record(gate.index, name, [(filename, verdict)], client, page=False)

    def view(self, gate: Gate, name: str, view: ProjectView, client: str) -> None:
        """A whole page: the project's verdict, every held file and every dry-run objection."""
        if not (view.verdict.observed or view.held or view.dry_run):
            return  # nothing to record: the usual warm page
        judged: list[Judged] = [(None, view.verdict)]
        judged += [(f.filename, v) for f, v in (*view.held, *view.dry_run)]
        self._record(gate.index, name, judged, client, page=True)

    def _record(
        self,
        index: str,
        name: str,
        judged: Iterable[Judged],
        client: str,
        *,
        page: bool,
        by_name: bool = False,
    ) -> None:
        tally: Counter[tuple[str, str, str]] = Counter()
        held: list[Held] = []
        now = None
        for filename, verdict in judged:
            for d in verdict.observed:
                tally[(d.policy, str(d.action), "dry-run" if d.dry_run else "enforce")] += 1
                now = now or self._clock()
                written = self._log.record(
                    index=index,
                    project=name,
                    file=filename,
                    decision=d,
                    client=client,
                    now=now,
                    page=page,
                )
                # Only what really held something: not dry-run objections, nor ones an
                # explicit allow overrode.
                if written and not verdict.allowed and not d.dry_run:
                    held.append(Held(filename, d))
        if held:
            assert now is not None
            for listener in self.listeners:
                listener(index, name, held, client, now, page=page, by_name=by_name)
        for (policy, action, mode), count in tally.items():
            self._metrics.decisions.labels(index, policy, action, mode).inc(count)
