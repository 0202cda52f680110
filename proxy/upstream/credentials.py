"""Credentials for a private upstream, sent to its own origin and nowhere else.

A private index (devpi, Artifactory, Nexus) wants HTTP basic auth on its pages and on
its files, whose URLs on a page are often absolute and carry no credentials. The
credentials (``username``/``password`` settings, or the userinfo of the upstream URL)
are added to every request to the upstream's origin that has no ``Authorization`` of
its own; a file host of another origin never sees them, and httpx drops the header on a
redirect to another origin.
"""

from __future__ import annotations

import base64
from collections.abc import Generator

import httpx

from pipgate.proxy.upstream.origins import origin_of


class OriginAuth(httpx.Auth):
    def __init__(self, url: str, username: str, password: str) -> None:
        self.origin = origin_of(url)
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._header = f"Basic {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "authorization" not in request.headers and origin_of(request.url) == self.origin:
            request.headers["Authorization"] = self._header
        yield request


def credentials_auth(url: str, username: str | None, password: str | None) -> OriginAuth | None:
    """The auth for an upstream at ``url``: the given credentials, else the URL's own."""
    if username is None:
        parsed = httpx.URL(url)
        if not parsed.username:
            return None
        username, password = parsed.username, parsed.password
    return OriginAuth(url, username, password or "")
