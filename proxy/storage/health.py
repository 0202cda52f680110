"""Whether each shared store answers, for /readyz, the metrics and the log.

A probe task asks each store once a second (PostgreSQL ``SELECT 1``, S3 ``HEAD``).
What follows from a store being down (see README "Degraded modes"): pages and
files in L1 are still served; anything that needs the store answers 503 with the
reason. /readyz answers 503 only when this replica can serve nothing new: both
stores down, the database never reached since start, or its schema not usable
by this code. One store down is a line in its body, with 200, so a load
balancer does not drain every replica on a database blip.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

log = logging.getLogger("pipgate.storage")


@dataclass
class StoreStatus:
    name: str
    label: str
    #: ``None``: not reached yet since start.
    up: bool | None = None
    since: float = field(default_factory=time.time)
    reason: str = ""
    #: Whether the store answered at least once since start-up.
    reached: bool = False

    def update(self, error: Exception | None) -> bool:
        """Record a probe; true when the state changed."""
        up = error is None
        reason = "" if error is None else str(error)
        changed = up != self.up
        if changed:
            self.since = time.time()
            level = logging.INFO if up else logging.ERROR
            log.log(
                level,
                "%s store %s is %s%s",
                self.name,
                self.label,
                "up" if up else "down",
                "" if up else f": {reason}",
            )
        self.up, self.reason = up, reason
        self.reached = self.reached or up
        return changed

    def describe(self) -> str | None:
        if self.up:
            return None
        if self.up is None:
            return f"{self.name} store {self.label} not reached yet" + (
                f": {self.reason}" if self.reason else ""
            )
        since = datetime.fromtimestamp(self.since, UTC).isoformat(timespec="seconds")
        return f"{self.name} store {self.label} down since {since}: {self.reason}"


@dataclass
class StoreHealth:
    state: StoreStatus
    blobs: StoreStatus | None
    #: Why the database's schema cannot be used (``None``: it can).
    schema_problem: str | None = "schema not checked yet"

    def problems(self) -> list[str]:
        """Reasons for /readyz to answer 503."""
        problems = []
        if self.state.up is None:
            problems.append(self.state.describe() or "")
        elif self.schema_problem:
            problems.append(self.schema_problem)
        if self.state.up is False and self.blobs is not None and self.blobs.up is False:
            problems.append("both shared stores are down")
        return problems

    def notes(self) -> list[str]:
        """Degraded but still serving: one line per store that is down."""
        return [
            line
            for line in (self.state.describe(), self.blobs.describe() if self.blobs else None)
            if line and self.state.up is not None
        ]
