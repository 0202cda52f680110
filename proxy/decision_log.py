"""The append-only decision log: one JSON line per non-allow decision.

Fields: time, client, index, project, file, policy, action, reason, mode
(``enforce`` or ``dry-run``), and ``available_at`` for holds that lapse.
A page that withholds the same file on every request is logged once per
``repeat_after`` for each client, so the log stays readable; the metrics
count every occurrence. A line the disk refuses (full) is counted in
``failed`` and reported in the server log at most once a minute; the request
goes on (the hold still reaches the quarantine intake).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson

from pipgate.policies.decision import Decision

log = logging.getLogger("pipgate.decisions")


class DecisionLog:
    def __init__(self, path: Path, *, repeat_after: float = 600.0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("ab", buffering=0)
        self._lock = threading.Lock()
        self._recent: dict[tuple[str, ...], float] = {}
        self._repeat_after = repeat_after
        #: Lines that could not be written.
        self.failed = 0
        self._reported = -60.0

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
    ) -> bool:
        """Append one line unless the same line was written recently; true if written."""
        key = (index, project, file or "", decision.policy, str(decision.action), client)
        mono = time.monotonic()
        last = self._recent.get(key)
        if last is not None and mono - last < self._repeat_after:
            return False
        if len(self._recent) > 100_000:
            self._recent.clear()
        self._recent[key] = mono
        entry = {
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
        line = orjson.dumps(entry) + b"\n"
        with self._lock:
            try:
                self._handle.write(line)
            except OSError as exc:
                self.failed += 1
                if mono - self._reported >= 60:
                    self._reported = mono
                    log.error(
                        "cannot write the decision log %s (%s); %d lines lost so far",
                        self.path,
                        exc,
                        self.failed,
                    )
        return True


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


def tail(entries: Iterable[dict[str, object]], count: int) -> list[dict[str, object]]:
    from collections import deque

    return list(deque(entries, maxlen=count))
