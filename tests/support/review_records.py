"""Review records built for tests: a held version with sensible defaults."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from pipgate.proxy.quarantine.records import Entry, HeldFile

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def entry_of(**changes: Any) -> Entry:
    """A quarantined version of ``demo`` on the default index, held by release age."""
    entry = Entry(
        id=1,
        index="default",
        project="demo",
        version="1.0",
        policy="release-age",
        action="quarantine",
        reason="uploaded 1 h ago",
        available_at=None,
        first_requested=NOW,
        last_requested=NOW,
        views=1,
        requests=0,
        files=(HeldFile("demo-1.0.tar.gz", "uploaded 1 h ago", None, 0, NOW, None, "quarantined"),),
        top_clients=("10.0.0.1",),
        state="quarantined",
        changed_by=None,
        changed_at=None,
        change_reason=None,
        until=None,
    )
    return dataclasses.replace(entry, **changes)
