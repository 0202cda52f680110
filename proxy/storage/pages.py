"""Project pages shared by replicas: the parsed page, its validators and revision.

A replica keeps hot pages in memory (its L1); this table is the truth they are
loaded from and stored to, so a page fetched by one replica within ``index_ttl``
serves them all, with the same revision (the same ETag everywhere). Upstream
404s are shared too (``missing_pages``), for ``negative_ttl``.

The page is pickled, as the embedded diskcache does; a row that cannot be read
back (another pipgate version) is ignored and fetched again. Blocking: call in a thread.

The public upstream's pages are keyed by project name; each private upstream
(``[upstreams.<name>]``) has its own, ``scoped(name)``: ``<name>/<project>`` (a
project name has no ``/``), so the same name on two upstreams never shares a row.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipgate.proxy.storage.postgres import PostgresDatabase


log = logging.getLogger("pipgate.storage")


@dataclass(frozen=True)
class Missing:
    until: float
    message: str


class PageState:
    def __init__(self, database: PostgresDatabase, *, prefix: str = "") -> None:
        self._database = database
        self._prefix = prefix

    def scoped(self, upstream: str) -> PageState:
        """The pages of the private upstream ``upstream``."""
        return PageState(self._database, prefix=f"{upstream}/")

    def load(self, name: str) -> object | None:
        """The stored page object of ``name`` (a ``CachedPage``), or ``None``."""
        with self._database.read() as tx:
            row = tx.execute(
                "SELECT body FROM pages WHERE name = ?", (self._prefix + name,)
            ).fetchone()
        if row is None:
            return None
        try:
            return pickle.loads(bytes(row[0]))
        except Exception:  # unpickling can raise almost anything
            log.warning("ignoring an unreadable shared page of %r", name, exc_info=True)
            return None

    def store(
        self, name: str, page: object, *, fetched_at: float, revision: int, etag: str | None
    ) -> None:
        body = pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL)
        with self._database.write_free() as tx:
            tx.execute(
                "INSERT INTO pages (name, fetched_at, etag, last_modified, revision, body) "
                "VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "fetched_at = excluded.fetched_at, etag = excluded.etag, "
                "revision = excluded.revision, body = excluded.body",
                (self._prefix + name, fetched_at, etag, revision, body),
            )
            tx.execute("DELETE FROM missing_pages WHERE name = ?", (self._prefix + name,))

    def delete(self, name: str) -> None:
        with self._database.write_free() as tx:
            tx.execute("DELETE FROM pages WHERE name = ?", (self._prefix + name,))

    def exists(self, name: str) -> bool:
        with self._database.read() as tx:
            found = tx.execute("SELECT 1 FROM pages WHERE name = ?", (self._prefix + name,))
            return found.fetchone() is not None

    def names(self) -> list[str]:
        with self._database.read() as tx:
            if self._prefix:
                rows = tx.execute(
                    "SELECT substr(name, ?) FROM pages WHERE left(name, ?) = ? ORDER BY name",
                    (len(self._prefix) + 1, len(self._prefix), self._prefix),
                )
            else:
                rows = tx.execute(
                    "SELECT name FROM pages WHERE strpos(name, '/') = 0 ORDER BY name"
                )
            return [str(row[0]) for row in rows]

    def missing(self, name: str) -> Missing | None:
        with self._database.read() as tx:
            row = tx.execute(
                "SELECT until, message FROM missing_pages WHERE name = ?", (self._prefix + name,)
            ).fetchone()
        return None if row is None else Missing(float(row[0]), str(row[1]))

    def mark_missing(self, name: str, until: float, message: str) -> None:
        with self._database.write_free() as tx:
            tx.execute(
                "INSERT INTO missing_pages (name, until, message) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET until = excluded.until, "
                "message = excluded.message",
                (self._prefix + name, until, message),
            )
            tx.execute("DELETE FROM pages WHERE name = ?", (self._prefix + name,))
