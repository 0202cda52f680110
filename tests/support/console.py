"""Logging in to the console (``/-/ui``) as a browser does, on a port or in process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.support.proxies import ADMIN


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on ``html``."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client: httpx.Client, token: str = ADMIN, **headers: str) -> httpx.Response:
    """Fill in the login form as a browser does (its double-submit token included)."""
    form = client.get("/login", headers=headers)
    return client.post(
        "/login",
        data={"token": token, "next": "/-/ui/", "csrf": csrf_of(form.text)},
        headers=headers,
    )


@contextmanager
def logged_in(proxy: Any, token: str = ADMIN) -> Iterator[httpx.Client]:
    """A console client of ``proxy`` (a ``RunningProxy`` or ``InProcessProxy``) with a
    session of ``token``'s user; its cookie is checked to be HttpOnly, SameSite=Strict."""
    with proxy.at("/-/ui") as client:
        response = log_in(client, token)
        assert response.status_code == 303, response.text
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/-/" in cookie
        yield client
