"""Who may do what: configured tokens, console sessions and CSRF, package-route auth.

Tokens are configured as the SHA-256 of the secret (``pipgate token hash``);
a presented token is hashed and compared with ``hmac.compare_digest`` against
every configured digest. Scopes: ``admin`` acts, ``read`` lists and shows,
``install`` only fetches packages (when ``[admin] package_auth`` is on).

A console session is a cookie ``<payload>.<hmac>`` holding the token's name,
a fingerprint of its digest (rotating the token ends its sessions), an expiry
and the session's CSRF token. It is HttpOnly, SameSite=Strict and limited to
``/-/``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..settings import AdminToken

SESSION_COOKIE = "pipgate_session"
_RANK = {"install": 0, "read": 1, "admin": 2}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "pg_" + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    scope: str
    csrf: str = ""

    def can(self, scope: str) -> bool:
        return _RANK[self.scope] >= _RANK[scope]


class TokenBook:
    def __init__(self, tokens: Sequence[AdminToken], *, secret: str | None, ttl: float) -> None:
        self._tokens = tuple(tokens)
        self._secret = (secret or secrets.token_hex(32)).encode()
        self._ttl = ttl

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

    # -- sessions --------------------------------------------------------------------------

    def session_cookie(self, principal: Principal) -> str:
        payload = {
            "n": principal.name,
            "f": self._fingerprint(principal.name),
            "e": int(time.time() + self._ttl),
            "c": secrets.token_urlsafe(24),
        }
        body = base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def from_session(self, cookie: str | None) -> Principal | None:
        if not cookie or "." not in cookie:
            return None
        body, _, signature = cookie.rpartition(".")
        # Bytes: a cookie may hold any latin-1 text, and str comparison refuses non-ASCII.
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        try:
            payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, orjson.JSONDecodeError):
            return None
        if payload.get("e", 0) < time.time():
            return None
        token = next((t for t in self._tokens if t.name == payload.get("n")), None)
        if token is None or not hmac.compare_digest(
            payload.get("f", ""), self._fingerprint(token.name)
        ):
            return None
        return Principal(token.name, token.scope, payload["c"])

    def _sign(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()

    def _fingerprint(self, name: str) -> str:
        token = next((t for t in self._tokens if t.name == name), None)
        return "" if token is None else self._sign("fp:" + token.sha256)[:16]


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
