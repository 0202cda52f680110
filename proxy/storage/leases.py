"""Cluster-wide single flight: a lease row with an expiry in PostgreSQL.

One replica holds ``file:<sha256>`` (or ``page:<project>``) while it fetches from
upstream; the others wait for what it stores. ``acquire`` is one round trip: an
upsert that wins when the key is free or its lease expired. The holder renews
while it works (``renew``) and deletes the row when done (``release``). A holder
that crashed stops renewing, and its lease is free after ``ttl`` seconds.

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


@dataclass(frozen=True)
class Lease:
    key: str
    holder: str


def holder_id() -> str:
    """Who this process is, in the ``leases`` table: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


class Leases:
    def __init__(
        self, database: PostgresDatabase, *, ttl: float, holder: str, url: str = ""
    ) -> None:
        self._database = database
        self.ttl = ttl
        self.holder = holder
        self._url = url

    def acquire(self, key: str) -> Lease | None:
        """The lease of ``key`` if it was free or expired; ``None`` while another holds it."""
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

    def renew(self, lease: Lease) -> bool:
        """Extend the lease by ``ttl``; false if it was lost (expired and taken)."""
        with self._database.write_free() as tx:
            row = tx.execute(
                "UPDATE leases SET expires_at = now() + make_interval(secs => ?) "
                "WHERE key = ? AND holder = ? RETURNING key",
                (self.ttl, lease.key, lease.holder),
            ).fetchone()
        return row is not None

    def release(self, lease: Lease) -> None:
        with self._database.write_free() as tx:
            tx.execute("DELETE FROM leases WHERE key = ? AND holder = ?", (lease.key, lease.holder))

    def holder_of(self, key: str) -> str | None:
        """Who holds ``key`` now (``None``: nobody, or an expired lease)."""
        with self._database.read() as tx:
            row = tx.execute(
                "SELECT holder FROM leases WHERE key = ? AND expires_at >= now()", (key,)
            ).fetchone()
        return None if row is None else str(row[0])
