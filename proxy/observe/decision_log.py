"""The append-only decision log: one JSON line per non-allow decision.

Fields: time, client, index, project, file, policy, action, reason, mode
(``enforce`` or ``dry-run``), and ``available_at`` for holds that lapse.
A page that withholds the same file on every request is logged once per
``repeat_after`` for each client, so the log stays readable; the metrics
count every occurrence. Pages and file requests are thinned apart: a request
for a file a page withheld moments before is logged (and reaches the review
queue as a download of that file). A line the disk refuses (full) is lost, never the
request: it is counted in ``failed`` and by ``on_error`` (metrics), reported in
the server log at most once a minute, and the hold still reaches the quarantine
intake. A line cut short by a full disk is ended before the next one, so
readers skip just that line.

``DecisionLog`` is the embedded default (``decisions.jsonl`` in the data directory);
replicas on PostgreSQL write the same entries to its ``decisions`` table instead
(``storage.decisions.SharedDecisionLog``), so every replica reads all of them.
Both are a ``DecisionSink``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from pipgate.policies.decision import Decision

log = logging.getLogger("pipgate.decisions")

#: The text fields of an entry that filters (``search``) may name.
FIELDS = ("index", "project", "policy", "action", "mode", "client")


class DecisionSink(Protocol):
    """Where decisions are written and read back (newest first)."""

    def record(
        self,
        *,
        index: str,
        project: str,
        file: str | None,
        decision: Decision,
        client: str,
        now: datetime,
        page: bool = False,
    ) -> bool:
        """Write one entry unless the same one was written recently for the same kind of
        request (``page``: a project page; else a file); true if it was not a
        repeat (even when it could not be written: the decision still stands). Never
        raises for a store that refuses; never blocks on one."""
        ...

    def search(
        self, *, q: str | None = None, limit: int = 100, **fields: str | None
    ) -> list[dict[str, Any]]:
        """Entries newest first. ``q`` matches any text (case-insensitive); ``fields``
        (``project=``, ``policy=``, ...; see ``FIELDS``) must match exactly. Blocking."""
        ...

    def close(self) -> None: ...


def decision_entry(
    *, index: str, project: str, file: str | None, decision: Decision, client: str, now: datetime
) -> dict[str, Any]:
    """One entry of the decision log, as ``decisions.jsonl`` has it."""
    entry: dict[str, Any] = {
        "time": now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "client": client,
        "index": index,
        "project": project,
        "file": file,
        "policy": decision.policy,
        "action": str(decision.action),
        "mode": "dry-run" if decision.dry_run else "enforce",
        "reason": decision.reason,
    }
    if decision.available_at is not None:
        entry["available_at"] = decision.available_at.astimezone(UTC).isoformat()
    return entry


class Repeats:
    """Thins out repeats: the same entry for the same client once per ``repeat_after``."""

    def __init__(self, repeat_after: float) -> None:
        self._recent: dict[tuple[str | bool, ...], float] = {}
        self._repeat_after = repeat_after

    def first(
        self,
        index: str,
        project: str,
        file: str | None,
        decision: Decision,
        client: str,
        page: bool = False,
    ) -> bool:
        """Whether this entry was not seen within ``repeat_after`` for the same kind of
        request (``page``: a project page; else a file), and note it now."""
        key = (index, project, file or "", decision.policy, str(decision.action), client, page)
        mono = time.monotonic()
        last = self._recent.get(key)
        if last is not None and mono - last < self._repeat_after:
            return False
        if len(self._recent) > 100_000:
            self._recent.clear()
        self._recent[key] = mono
        return True


class DecisionLog:
    """The decision log in ``decisions.jsonl`` (a ``DecisionSink``)."""

    def __init__(
        self,
        path: Path,
        *,
        repeat_after: float = 600.0,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("ab", buffering=0)
        self._lock = threading.Lock()
        self._repeats = Repeats(repeat_after)
        #: Lines that could not be written.
        self.failed = 0
        self._reported = -60.0
        self._on_error = on_error or (lambda store: None)
        self._torn = False

    def close(self) -> None:
        self._handle.close()

    def record(
        self,
        *,
        index: str,
        project: str,
        file: str | None,
        decision: Decision,
        client: str,
        now: datetime,
        page: bool = False,
    ) -> bool:
        """Append one line unless the same line was recorded recently for the same kind
        of request (``page``: a project page; else a file); true if it was not a repeat
        (even when the disk refused the line: the decision still stands)."""
        if not self._repeats.first(index, project, file, decision, client, page):
            return False
        entry = decision_entry(
            index=index, project=project, file=file, decision=decision, client=client, now=now
        )
        line = orjson.dumps(entry) + b"\n"
        with self._lock:
            self._append(line, time.monotonic())
        return True

    def search(
        self, *, q: str | None = None, limit: int = 100, **fields: str | None
    ) -> list[dict[str, Any]]:
        from pipgate.proxy.quarantine.decisions import search

        return search(self.path, q=q, limit=limit, **fields)

    def _append(self, line: bytes, mono: float) -> None:
        if self._torn:
            line = b"\n" + line
        try:
            written = self._handle.write(line)
        except OSError as exc:
            written, error = 0, exc
        else:
            error = None
        if written == len(line):
            self._torn = False
            return
        self._torn = self._torn or bool(written)
        self.failed += 1
        self._on_error("decisions")
        if mono - self._reported >= 60:
            self._reported = mono
            log.error(
                "cannot write the decision log %s (%s); %d lines lost so far",
                self.path,
                error or "short write",
                self.failed,
            )


def read_decisions(path: Path) -> Iterator[dict[str, object]]:
    """Every entry of a decision log, oldest first; unreadable lines are skipped."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for line in handle:
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError:
                log.warning("skipping an unreadable line in %s", path)
