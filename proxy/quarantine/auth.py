"""Who may do what: configured tokens, console sessions and CSRF, package-route auth.

Tokens are configured as the SHA-256 of the secret (``pipgate token hash``);
a presented token is hashed and compared with ``hmac.compare_digest`` against
every configured digest. Scopes: ``admin`` acts, ``read`` lists and shows,
``install`` only fetches packages (when ``[admin] package_auth`` is on),
``upload`` fetches packages and uploads to the hosted indexes whose ``upload``
list names it (``admin`` tokens too, where listed).

A console session is server-side (``sessions.SessionStore``, in the quarantine
store): the cookie holds only a random session id, HttpOnly, SameSite=Strict
and limited to ``/-/``. Logout, revocation, the token leaving the
configuration (or being replaced), ``session_idle`` without use and
``session_ttl`` after login each end it; each session has its own CSRF token.
Sessions survive restarts; no signing secret is involved.

The login form is protected against login CSRF by a double-submit token: a
random value in a cookie of its own (path ``/-/ui/login``) that the form must
repeat.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from pipgate.proxy.config.settings import AdminToken
from pipgate.proxy.errors import StoreUnavailable
from pipgate.proxy.quarantine.records import ListedSession, Session
from pipgate.proxy.quarantine.sessions import SessionStore
from pipgate.proxy.quarantine.store import QuarantineStore

log = logging.getLogger("pipgate.quarantine")

SESSION_COOKIE = "pipgate_session"
LOGIN_COOKIE = "pipgate_login"
_RANK = {"install": 0, "upload": 0, "read": 1, "admin": 2}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "pg_" + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting. ``csrf`` and ``session`` are set for a console session."""

    name: str
    scope: str
    csrf: str = ""
    session: int | None = None

    def can(self, scope: str) -> bool:
        if scope == "upload":  # beside the review ranks: it neither reads nor acts
            return self.scope in ("upload", "admin")
        return _RANK[self.scope] >= _RANK[scope]


class TokenBook:
    """The configured tokens, and the console sessions once ``use_sessions`` is called."""

    def __init__(self, tokens: Sequence[AdminToken], *, ttl: float, idle: float) -> None:
        self._tokens = tuple(tokens)
        self._ttl = ttl
        self._idle = idle
        self.sessions: SessionStore | None = None

    def __bool__(self) -> bool:
        return bool(self._tokens)

    def verify(self, presented: str) -> Principal | None:
        digest = hash_token(presented)
        found = None
        for token in self._tokens:  # no early exit: the time taken says nothing
            if hmac.compare_digest(digest, token.sha256):
                found = token
        return Principal(found.name, found.scope) if found else None

    def from_headers(self, connection: HTTPConnection, *, basic: bool = True) -> Principal | None:
        """A bearer token, or the password of HTTP basic auth (what pip sends).

        ``basic=False`` (the admin API) takes bearer tokens only: browsers replay
        cached basic credentials by themselves, which would make them ambient.
        """
        header = connection.headers.get("authorization", "")
        kind, _, value = header.partition(" ")
        if kind.lower() == "bearer" and value:
            return self.verify(value.strip())
        if basic and kind.lower() == "basic" and value:
            try:
                _, _, password = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            return self.verify(password)
        return None

    # -- sessions (blocking: call from a thread) ----------------------------------------------

    def use_sessions(self, store: QuarantineStore, clock: Callable[[], datetime]) -> None:
        """Keep sessions in ``store``; end those whose token is no longer configured."""
        self.sessions = SessionStore(
            store, ttl=self._ttl, idle=self._idle, clock=lambda: clock().timestamp()
        )
        try:
            self.sessions.end_unconfigured(
                {t.name: self._fingerprint(t.name) or "" for t in self._tokens}
            )
        except StoreUnavailable as exc:  # they are refused at lookup all the same
            log.warning("cannot mark the sessions of removed tokens as ended: %s", exc)

    def start_session(self, principal: Principal, *, client: str, user_agent: str) -> str:
        """A new session for ``principal`` (a verified token); returns the cookie value."""
        assert self.sessions is not None, "sessions are not set up yet"
        secret, _ = self.sessions.create(
            principal.name,
            self._fingerprint(principal.name) or "",
            client=client,
            user_agent=user_agent,
        )
        return secret

    def from_session(self, cookie: str | None) -> Principal | None:
        if not cookie or self.sessions is None:
            return None
        found = self.sessions.find(cookie, self._fingerprint)
        if found is None:
            return None
        session, csrf = found
        token = next(t for t in self._tokens if t.name == session.name)
        return Principal(token.name, token.scope, csrf, session.id)

    def end_session(self, cookie: str | None) -> None:
        if cookie and self.sessions is not None:
            self.sessions.end_secret(cookie, reason="logged out")

    def _fingerprint(self, name: str) -> str | None:
        """Of the digest configured under ``name`` now: a replaced token ends its sessions."""
        token = next((t for t in self._tokens if t.name == name), None)
        if token is None:
            return None
        return hashlib.sha256(b"pipgate-session:" + token.sha256.encode()).hexdigest()[:32]


def session_view(session: Session, principal: Principal) -> ListedSession:
    """A session as listed to ``principal`` (marks the caller's own)."""
    fields = {name: getattr(session, name) for name in Session.__dataclass_fields__}
    return ListedSession(**fields, current=session.id == principal.session)


def csrf_ok(principal: Principal, submitted: str | None) -> bool:
    return bool(principal.csrf) and hmac.compare_digest(
        principal.csrf.encode(), (submitted or "").encode()
    )


_OPEN_PREFIX = "/-/"
_OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _is_open(path: str) -> bool:
    # Exact paths only: a named index may well be called "metrics-team" or "healthzone".
    return path.startswith(_OPEN_PREFIX) or path in _OPEN_PATHS


class PackageAuth:
    """ASGI middleware: package routes need a token of any scope; ``/-/`` has its own auth."""

    def __init__(self, app: ASGIApp, tokens: TokenBook) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self.tokens.from_headers(HTTPConnection(scope)) is None:
            response = PlainTextResponse(
                "pipgate: this index needs credentials: use a token as the password "
                "(https://token:<token>@host/simple/) or a bearer token\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="pipgate"'},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
