"""``ReviewClient``: the review operations the CLI uses, in-process or over HTTP.

``LocalReview`` works on a data directory through ``Review`` itself (a server
using the directory picks the change up within a second); ``RemoteReview`` asks
a running pipgate's admin API and reads its answers back with ``serialize``.
Both return the same typed values (``records``) and raise the same errors
(``errors.PipgateError``: ``NotFound``, ``ReviewError``, ``StoreUnavailable``,
...), so a command prints the same whichever it talks to.

Who acts: in-process, ``actor`` (``user@local``); over HTTP, the token's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import httpx

from pipgate.proxy.errors import AdminApiError, NotFound, ReviewError, from_status
from pipgate.proxy.quarantine.decisions import DecisionQuery, search
from pipgate.proxy.quarantine.records import (
    EntryDetail,
    EntryPage,
    EntryQuery,
    RemovedRule,
    Rule,
)
from pipgate.proxy.quarantine.serialize import from_json, to_json

if TYPE_CHECKING:
    from pipgate.proxy.storage.postgres import PostgresDatabase

T = TypeVar("T")


class ReviewClient(Protocol):
    def entries(self, query: EntryQuery) -> EntryPage: ...

    def entry(self, entry_id: int) -> EntryDetail:
        """One entry; ``NotFound`` if there is none."""
        ...

    def release(
        self, entry_id: int, *, scope: str | None, file: str | None, until: str | None, reason: str
    ) -> Rule: ...

    def reject(
        self, entry_id: int, *, scope: str | None, file: str | None, index: str | None, reason: str
    ) -> Rule: ...

    def decide(
        self,
        kind: str,
        *,
        project: str,
        version: str | None,
        file: str | None,
        index: str | None,
        until: str | None,
        reason: str,
    ) -> Rule: ...

    def rules(self, *, kind: str | None = None, index: str | None = None) -> list[Rule]: ...

    def list_add(
        self, kind: str, *, rule: str, index: str | None, reason: str, everything: bool
    ) -> Rule: ...

    def list_remove(
        self, kind: str, *, rule: str, index: str | None, reason: str
    ) -> RemovedRule: ...

    def decisions(self, query: DecisionQuery) -> list[dict[str, Any]]:
        """Decision log lines, newest first."""
        ...

    def close(self) -> None: ...


class LocalReview:
    """The review store of a data directory, in this process."""

    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Callable[[], datetime],
        actor: str,
        database: PostgresDatabase | None = None,
    ) -> None:
        """``database``: the cluster's shared state store, which then holds the queue,
        the rules and the decision log (``data_dir`` keeps only ``audit.jsonl``)."""
        from pipgate.proxy.quarantine.review import Review

        if not data_dir.is_dir():
            raise ReviewError(f"data directory {str(data_dir)!r} does not exist")
        self._review = Review(data_dir, clock=clock, database=database)
        self._database = database
        self._decision_log = data_dir / "decisions.jsonl"
        self._actor = actor

    def close(self) -> None:
        self._review.close()  # and with it the database

    def entries(self, query: EntryQuery) -> EntryPage:
        return self._review.entries(query)

    def entry(self, entry_id: int) -> EntryDetail:
        found = self._review.entry(entry_id)
        if found is None:
            raise NotFound(f"no quarantine entry {entry_id}")
        return found

    def release(
        self, entry_id: int, *, scope: str | None, file: str | None, until: str | None, reason: str
    ) -> Rule:
        return self._review.release(
            entry_id, scope=scope, file=file, until=until, reason=reason, actor=self._actor
        )

    def reject(
        self, entry_id: int, *, scope: str | None, file: str | None, index: str | None, reason: str
    ) -> Rule:
        return self._review.reject(
            entry_id, scope=scope, file=file, index=index, reason=reason, actor=self._actor
        )

    def decide(
        self,
        kind: str,
        *,
        project: str,
        version: str | None,
        file: str | None,
        index: str | None,
        until: str | None,
        reason: str,
    ) -> Rule:
        return self._review.decide(
            kind,
            index=index,
            project=project,
            version=version,
            file=file,
            until=until,
            reason=reason,
            actor=self._actor,
        )

    def rules(self, *, kind: str | None = None, index: str | None = None) -> list[Rule]:
        return self._review.rules(kind=kind, index=index)

    def list_add(
        self, kind: str, *, rule: str, index: str | None, reason: str, everything: bool
    ) -> Rule:
        return self._review.list_add(
            kind, index=index, rule=rule, reason=reason, actor=self._actor, everything=everything
        )

    def list_remove(self, kind: str, *, rule: str, index: str | None, reason: str) -> RemovedRule:
        return self._review.list_remove(
            kind, index=index, rule=rule, reason=reason, actor=self._actor
        )

    def decisions(self, query: DecisionQuery) -> list[dict[str, Any]]:
        if self._database is not None:
            from pipgate.proxy.storage.decisions import search_table

            return search_table(self._database, q=query.q, limit=query.limit, **query.fields())
        return search(self._decision_log, q=query.q, limit=query.limit, **query.fields())


@dataclass(frozen=True, slots=True)
class _Rules:
    """``{"rules": [...]}``, as the admin API lists rules."""

    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class _Decisions:
    decisions: tuple[dict[str, Any], ...]


class RemoteReview:
    """The admin API of a running pipgate (``/-/admin/``), with a bearer token."""

    def __init__(
        self, url: str, token: str | None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=url.rstrip("/") + "/-/admin",
            headers=headers,
            timeout=30,
            trust_env=False,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def _call(
        self, method: str, path: str, *, params: Any = None, body: Any = None, into: type[T]
    ) -> T:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._client.request(method, path, params=clean, json=body)
        except httpx.HTTPError as exc:
            raise AdminApiError(f"cannot reach {self._client.base_url}: {exc}") from exc
        try:
            data = response.json()
        except ValueError:
            data = {"error": response.text.strip()}
        if response.status_code >= 400:
            message = data.get("error") if isinstance(data, dict) else response.text
            raise from_status(
                response.status_code, f"{response.request.url}: {response.status_code}: {message}"
            )
        return from_json(into, data)

    def entries(self, query: EntryQuery) -> EntryPage:
        return self._call("GET", "/quarantine", params=to_json(query), into=EntryPage)

    def entry(self, entry_id: int) -> EntryDetail:
        return self._call("GET", f"/quarantine/{entry_id}", into=EntryDetail)

    def release(
        self, entry_id: int, *, scope: str | None, file: str | None, until: str | None, reason: str
    ) -> Rule:
        body = {"scope": scope, "file": file, "until": until, "reason": reason}
        return self._call("POST", f"/quarantine/{entry_id}/release", body=body, into=Rule)

    def reject(
        self, entry_id: int, *, scope: str | None, file: str | None, index: str | None, reason: str
    ) -> Rule:
        body = {"scope": scope, "file": file, "index": index, "reason": reason}
        return self._call("POST", f"/quarantine/{entry_id}/reject", body=body, into=Rule)

    def decide(
        self,
        kind: str,
        *,
        project: str,
        version: str | None,
        file: str | None,
        index: str | None,
        until: str | None,
        reason: str,
    ) -> Rule:
        body = {
            "project": project,
            "version": version,
            "file": file,
            "index": index,
            "until": until,
            "reason": reason,
        }
        return self._call("POST", f"/decide/{kind}", body=body, into=Rule)

    def rules(self, *, kind: str | None = None, index: str | None = None) -> list[Rule]:
        path = f"/lists/{kind}" if kind in ("allow", "deny") else "/rules"
        params = {"index": index, "kind": None if kind in ("allow", "deny") else kind}
        found = self._call("GET", path, params=params, into=_Rules)
        return list(found.rules)

    def list_add(
        self, kind: str, *, rule: str, index: str | None, reason: str, everything: bool
    ) -> Rule:
        body = {"rule": rule, "index": index, "reason": reason, "everything": everything}
        return self._call("POST", f"/lists/{kind}/add", body=body, into=Rule)

    def list_remove(self, kind: str, *, rule: str, index: str | None, reason: str) -> RemovedRule:
        body = {"rule": rule, "index": index, "reason": reason}
        return self._call("POST", f"/lists/{kind}/remove", body=body, into=RemovedRule)

    def decisions(self, query: DecisionQuery) -> list[dict[str, Any]]:
        found = self._call("GET", "/decisions", params=to_json(query), into=_Decisions)
        return list(found.decisions)
