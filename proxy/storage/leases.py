"""Cluster-wide single flight: a lease row with an expiry in PostgreSQL.

One replica holds ``file:<sha256>`` (or ``page:<project>``) while it fetches from
upstream; the others wait for what it stores. ``acquire`` is one round trip: an
upsert that wins when the key is free or its lease expired. The holder renews
while it works (``renew``) and deletes the row when done (``release``). A holder
that crashed stops renewing, and its lease is free after ``ttl`` seconds.

Files use ``claim``, also one round trip, which says more when it loses: who holds
the lease (their URL, to stream from them) or that the file was stored already. A
holder that stored its file leaves the row as a marker (``release(stored=True)``:
expired, ``stored``) rather than deleting it, so a replica that looked in the bucket
just before the file arrived there learns it from its claim and looks again, rather
than fetching from upstream a second time; that is what lets a cold file cost one
look in the bucket and one claim before the upstream fetch, not a second look.
Markers are swept after ``MARKER_KEPT`` seconds (``sweep``).

Why a row and not an advisory lock: an advisory lock pins a pooled connection
per download in flight, cannot be seen by others (who holds it?), breaks behind
PgBouncer's transaction pooling, and is freed by a network blip while its holder
goes on downloading. A row costs one round trip and a crash costs at most ``ttl``.

Blocking methods (psycopg's synchronous pool): call them in a thread.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipgate.proxy.storage.postgres import PostgresDatabase


#: Seconds a stored-file marker is kept (far longer than a look-then-claim takes).
MARKER_KEPT = 3600


@dataclass(frozen=True)
class Lease:
    key: str
    holder: str


@dataclass(frozen=True)
class Claim:
    """The outcome of ``claim``: ``lease`` when it is ours; else who holds it (their
    ``holder_url``, empty when unknown) or whether the file was ``stored`` already."""

    lease: Lease | None
    holder_url: str = ""
    stored: bool = False


def holder_id() -> str:
    """Who this process is, in the ``leases`` table: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


class Leases:
    def __init__(
        self,
        database: PostgresDatabase,
        *,
        ttl: float,
        holder: str,
        url: str = "",
        prefix: str = "",
    ) -> None:
        self._database = database
        self.ttl = ttl
        self.holder = holder
        self._url = url
        self._prefix = prefix

    def scoped(self, upstream: str) -> Leases:
        """The same leases with keys of their own (``<upstream>/<key>``), for what one
        private upstream has under names another source may have too (its pages)."""
        return Leases(
            self._database, ttl=self.ttl, holder=self.holder, url=self._url, prefix=f"{upstream}/"
        )

    def acquire(self, key: str) -> Lease | None:
        """The lease of ``key`` if it was free or expired; ``None`` while another holds it."""
        key = self._prefix + key
        with self._database.write_free() as tx:
            row = tx.execute(
                "INSERT INTO leases (key, holder, holder_url, expires_at, started_at) "
                "VALUES (?, ?, ?, now() + make_interval(secs => ?), now()) "
                "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, "
                "holder_url = excluded.holder_url, expires_at = excluded.expires_at, "
                "started_at = excluded.started_at WHERE leases.expires_at < now() "
                "RETURNING holder",
                (key, self.holder, self._url, self.ttl),
            ).fetchone()
        return Lease(key, self.holder) if row is not None else None

    def claim(self, key: str, *, over_marker: bool = False) -> Claim:
        """Take the lease of a file when it is free or expired (one round trip).

        A stored-file marker is not taken (the file is in the shared store: read it),
        unless ``over_marker``: the marker says stored but the store did not have it."""
        key = self._prefix + key
        with self._database.write_free() as tx:
            row = tx.execute(
                "WITH claimed AS ("
                "INSERT INTO leases (key, holder, holder_url, expires_at, started_at, stored) "
                "VALUES (?, ?, ?, now() + make_interval(secs => ?), now(), false) "
                "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, "
                "holder_url = excluded.holder_url, expires_at = excluded.expires_at, "
                "started_at = excluded.started_at, stored = false "
                "WHERE leases.expires_at < now() AND (NOT leases.stored OR ?) "
                "RETURNING holder) "
                "SELECT true, '', false FROM claimed UNION ALL "
                "SELECT false, holder_url, stored FROM leases "
                "WHERE key = ? AND NOT EXISTS (SELECT 1 FROM claimed)",
                (key, self.holder, self._url, self.ttl, over_marker, key),
            ).fetchone()
        if row is None:  # taken by a transaction that committed after this one began
            return Claim(None)
        if row[0]:
            return Claim(Lease(key, self.holder))
        return Claim(None, holder_url=str(row[1] or ""), stored=bool(row[2]))

    def renew(self, lease: Lease) -> bool:
        """Extend the lease by ``ttl``; false if it was lost (expired and taken)."""
        with self._database.write_free() as tx:
            row = tx.execute(
                "UPDATE leases SET expires_at = now() + make_interval(secs => ?) "
                "WHERE key = ? AND holder = ? RETURNING key",
                (self.ttl, lease.key, lease.holder),
            ).fetchone()
        return row is not None

    def release(self, lease: Lease, *, stored: bool = False) -> None:
        """Let go of ``lease``; ``stored``: its file is in the shared store now (the row
        stays as a marker, see the module docstring)."""
        with self._database.write_free() as tx:
            if stored:
                tx.execute(
                    "UPDATE leases SET stored = true, expires_at = now(), holder_url = '' "
                    "WHERE key = ? AND holder = ?",
                    (lease.key, lease.holder),
                )
            else:
                tx.execute(
                    "DELETE FROM leases WHERE key = ? AND holder = ?", (lease.key, lease.holder)
                )

    def sweep(self) -> int:
        """Delete stored-file markers older than ``MARKER_KEPT``; returns how many."""
        with self._database.write_free() as tx:
            return int(
                tx.execute(
                    "DELETE FROM leases WHERE stored "
                    "AND expires_at < now() - make_interval(secs => ?)",
                    (MARKER_KEPT,),
                ).rowcount
            )

    def holder_of(self, key: str) -> str | None:
        """Who holds ``key`` now (``None``: nobody, or an expired lease)."""
        key = self._prefix + key
        with self._database.read() as tx:
            row = tx.execute(
                "SELECT holder FROM leases WHERE key = ? AND expires_at >= now()", (key,)
            ).fetchone()
        return None if row is None else str(row[0])
