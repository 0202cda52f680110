"""Console sessions, kept server-side in the quarantine store (table ``sessions``).

A session is a random secret (the cookie's value), stored only as its SHA-256,
with the name of the token that logged in and a fingerprint of that token's
configured digest, when it was created and last used, its absolute expiry
(``ttl``), its CSRF token and where it came from. It ends at logout, when
revoked (by its user, or by an admin), once its token is no longer configured
(removed or replaced), after ``idle`` seconds unused, or at its expiry. Ended
and expired sessions stay listed for ``KEEP`` and are then deleted.

Sessions live in the database, so they survive restarts and need no signing
secret. Methods block (SQLite): call them from a thread.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from pipgate.proxy.errors import NotFound, StoreUnavailable
from pipgate.proxy.quarantine.records import ALL_INDEXES, Session, from_timestamp, valid_id
from pipgate.proxy.quarantine.store import QuarantineStore

log = logging.getLogger("pipgate.quarantine")

#: How long ended and expired sessions stay listed.
KEEP = 7 * 86400.0
#: ``last_seen`` is written at most this often per session (a page view is not a write).
TOUCH_EVERY = 60.0
MAX_USER_AGENT = 200


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


class SessionStore:
    def __init__(
        self,
        store: QuarantineStore,
        *,
        ttl: float,
        idle: float,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self.ttl = ttl
        self.idle = idle
        self._clock = clock

    def create(self, name: str, token: str, *, client: str, user_agent: str) -> tuple[str, Session]:
        """A new session for token ``name`` (``token``: its fingerprint); returns
        the secret for the cookie and the session."""
        secret = secrets.token_urlsafe(32)
        now = self._clock()
        with self._store.write() as db:
            db.execute("DELETE FROM sessions WHERE coalesce(ended_at, expires) < ?", (now - KEEP,))
            session_id = db.execute(
                "INSERT INTO sessions (secret_sha256, name, token, csrf, client, user_agent, "
                "created, last_seen, expires) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
                (
                    secret_hash(secret),
                    name,
                    token,
                    secrets.token_urlsafe(24),
                    client,
                    user_agent[:MAX_USER_AGENT],
                    now,
                    now,
                    now + self.ttl,
                ),
            ).fetchone()[0]
        found = self.get(int(session_id))
        assert found is not None
        return secret, found

    def find(
        self, secret: str, token_of: Callable[[str], str | None]
    ) -> tuple[Session, str] | None:
        """The live session of cookie value ``secret`` and its CSRF token, or ``None``.

        ``token_of(name)`` is the fingerprint of the token configured under
        ``name`` now (``None``: no such token); a session of another token ends.
        """
        now = self._clock()
        with self._store.read() as db:
            row = db.execute(
                "SELECT * FROM sessions WHERE secret_sha256 = ? AND ended_at IS NULL",
                (secret_hash(secret),),
            ).fetchone()
        if row is None or row["expires"] <= now or row["last_seen"] + self.idle <= now:
            return None
        if token_of(row["name"]) != row["token"]:
            self._end(row["id"], by="pipgate", reason="token no longer configured")
            return None
        if now - row["last_seen"] >= TOUCH_EVERY:
            try:
                with self._store.write() as db:
                    db.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", (now, row["id"]))
            except StoreUnavailable as exc:  # the session still works; it may idle out sooner
                log.warning("cannot note that session %d was used: %s", row["id"], exc)
        return self._session(row, now), row["csrf"]

    def get(self, session_id: int) -> Session | None:
        if not valid_id(session_id):
            return None
        with self._store.read() as db:
            row = db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else self._session(row, self._clock())

    def list(self, *, name: str | None = None, ended: bool = False) -> list[Session]:
        """Sessions, newest first: live ones, and with ``ended`` also those that ended."""
        where, args = [], []
        if name:
            where.append("name = ?")
            args.append(name)
        now = self._clock()
        if not ended:
            where += ["ended_at IS NULL", "expires > ?", "last_seen + ? > ?"]
            args += [now, self.idle, now]
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        with self._store.read() as db:
            rows = db.execute(f"SELECT * FROM sessions{clause} ORDER BY id DESC", args).fetchall()
        return [self._session(row, now) for row in rows]

    def end(self, session_id: int, *, by: str, reason: str, audit: bool = True) -> Session:
        """End a session (revoke it); audited unless it is a logout."""
        session = self.get(session_id)
        if session is None:
            raise NotFound(f"no session {session_id}")
        if session.ended_at is not None:
            return session
        self._end(session_id, by=by, reason=reason, audit=audit, name=session.name)
        ended = self.get(session_id)
        assert ended is not None
        return ended

    def end_secret(self, secret: str, *, reason: str) -> None:
        """End the session of a cookie value (logout); unknown values are ignored."""
        with self._store.read() as db:
            row = db.execute(
                "SELECT id, name FROM sessions WHERE secret_sha256 = ? AND ended_at IS NULL",
                (secret_hash(secret),),
            ).fetchone()
        if row is not None:
            self._end(row["id"], by=row["name"], reason=reason)

    def end_unconfigured(self, tokens: Mapping[str, str]) -> int:
        """End the sessions whose token (``{name: fingerprint}``) is no longer configured."""
        with self._store.read() as db:
            rows = db.execute(
                "SELECT id, name, token FROM sessions WHERE ended_at IS NULL"
            ).fetchall()
        stale = [row["id"] for row in rows if tokens.get(row["name"]) != row["token"]]
        for session_id in stale:
            self._end(session_id, by="pipgate", reason="token no longer configured")
        return len(stale)

    def _end(
        self,
        session_id: int,
        *,
        by: str,
        reason: str,
        audit: bool = False,
        name: str = "",
    ) -> None:
        now = self._clock()
        with self._store.write() as db:
            db.execute(
                "UPDATE sessions SET ended_at = ?, ended_by = ?, end_reason = ? "
                "WHERE id = ? AND ended_at IS NULL",
                (now, by, reason, session_id),
            )
            if audit:
                self._store.audit.append(
                    db,
                    stamp=now,
                    actor=by,
                    action="session-end",
                    index=ALL_INDEXES,
                    target=f"session {session_id} of {name}",
                    reason=reason,
                    detail={"session": session_id},
                )

    def _session(self, row: Any, now: float) -> Session:
        idle_until = row["last_seen"] + self.idle
        live = row["ended_at"] is None and row["expires"] > now and idle_until > now
        return Session(
            id=int(row["id"]),
            name=row["name"],
            client=row["client"],
            user_agent=row["user_agent"],
            created=from_timestamp(row["created"]),  # type: ignore[arg-type]
            last_seen=from_timestamp(row["last_seen"]),  # type: ignore[arg-type]
            expires=from_timestamp(min(row["expires"], idle_until)),  # type: ignore[arg-type]
            active=live,
            ended_at=from_timestamp(row["ended_at"]),
            ended_by=row["ended_by"],
            end_reason=row["end_reason"]
            or (None if live else "expired" if row["expires"] <= now else "idle"),
        )
