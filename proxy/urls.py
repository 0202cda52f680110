"""URL helpers that keep credentials out of logs and messages."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redact(url: str) -> str:
    """``url`` with any user-info replaced by ``***`` (safe to log or show)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def ensure_trailing_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
