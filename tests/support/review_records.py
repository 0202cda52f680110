"""Review records built for tests: holds of ``demo`` as the gate records them (``hold``,
``record``), the file subject they are about, and an entry with sensible defaults, all
at the fixed time ``NOW``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from packaging.utils import canonicalize_name

from pipgate.policies.decision import Action, Decision
from pipgate.policies.subjects import FileSubject
from pipgate.proxy.models import version_of
from pipgate.proxy.quarantine.records import Entry, HeldFile, Hold
from pipgate.proxy.quarantine.review import Review

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
#: A release-age hold: the version was uploaded an hour before ``NOW``.
AGE = Decision(
    Action.QUARANTINE, "release-age", "uploaded 1 h ago", available_at=NOW + timedelta(days=7)
)
SQUAT = Decision(Action.QUARANTINE, "typosquat", "looks like requests")


def hold(
    project: str = "demo",
    file: str | None = "demo-1.0-py3-none-any.whl",
    d: Decision = AGE,
    client: str = "10.0.0.1",
    when: datetime = NOW,
    *,
    page: bool = False,
) -> Hold:
    """A hold of ``file`` (``None``: the whole project) on the default index for ``d``."""
    return Hold(
        "default",
        project,
        file,
        d.policy,
        str(d.action),
        d.reason,
        d.available_at,
        client,
        when,
        page=page,
    )


def record(review: Review, *holds: Hold) -> list[Entry]:
    """Each hold as a request of its own; returns the entries they created."""
    return review.store.record([[h] for h in holds])


def subject(filename: str = "demo-1.0-py3-none-any.whl", project: str = "demo") -> FileSubject:
    return FileSubject(canonicalize_name(project), filename, version_of(filename), NOW)


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
