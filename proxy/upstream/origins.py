"""The origins pipgate may fetch from: the upstream's own and the configured file hosts.

An upstream page names the URLs of its files, their ``.metadata`` and
provenance, and an upstream answer may redirect anywhere: left alone, a page
could make pipgate fetch from a private address and serve the answer. So
every request to upstream, each redirect hop included, must go to an allowed
origin: the upstream's (scheme, host **and** port) or one of
``[upstream] file_hosts``. Hosts are compared as written, never resolved, so
another spelling of an allowed host is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from pipgate.proxy.errors import OriginRefused
from pipgate.proxy.urls import redact

#: (scheme, host, port), the port always given.
Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: Where an index keeps its files, allowed by default when it is the upstream.
KNOWN_FILE_HOSTS = {
    "pypi.org": "https://files.pythonhosted.org",
    "test.pypi.org": "https://test-files.pythonhosted.org",
}


def origin_of(url: str | httpx.URL) -> Origin:
    """The origin of an absolute ``http(s)://`` URL; ``ValueError`` for anything else."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{redact(str(url))!r} is not a URL: {exc}") from None
    scheme = parsed.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parsed.host:
        raise ValueError(f"{redact(str(url))!r} is not an http:// or https:// URL")
    return scheme, parsed.host.lower(), parsed.port or _DEFAULT_PORTS[scheme]


def format_origin(origin: Origin) -> str:
    scheme, host, port = origin
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + ("" if port == _DEFAULT_PORTS[scheme] else f":{port}")


def parse_origin(text: str) -> str:
    """``text`` as a normalized origin (``https://files.example:8443``); ``ValueError``
    when it is not one (a path, query or credentials make it a URL, not an origin)."""
    origin = origin_of(text)
    parsed = httpx.URL(text)
    if parsed.userinfo or parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        raise ValueError(f"{text!r} is not an origin; write scheme://host[:port] only")
    return format_origin(origin)


def default_file_hosts(upstream_url: str) -> tuple[str, ...]:
    """The upstream's origin, plus its known file host (PyPI's for ``pypi.org``)."""
    origin = origin_of(upstream_url)
    known = KNOWN_FILE_HOSTS.get(origin[1]) if origin[0] == "https" else None
    return (format_origin(origin), *((known,) if known else ()))


class Origins:
    """The origins one upstream client may fetch from.

    ``file_hosts`` ``None`` means the default (``default_file_hosts``); the
    upstream's own origin is always allowed, since its pages come from there.
    """

    def __init__(self, upstream_url: str, file_hosts: Iterable[str] | None = None) -> None:
        hosts = default_file_hosts(upstream_url) if file_hosts is None else tuple(file_hosts)
        self.allowed: frozenset[Origin] = frozenset(
            {origin_of(upstream_url), *(origin_of(host) for host in hosts)}
        )

    def __contains__(self, url: object) -> bool:
        try:
            return origin_of(url) in self.allowed  # type: ignore[arg-type]
        except ValueError:
            return False

    def check(self, url: str | httpx.URL, *, redirected: bool = False) -> None:
        """Raise ``OriginRefused`` (``reason`` ``redirect`` or ``origin``) unless ``url``
        is on an allowed origin."""
        if url in self:
            return
        allowed = ", ".join(sorted(format_origin(o) for o in self.allowed))
        where = "upstream redirected to" if redirected else "the upstream page points at"
        raise OriginRefused(
            f"{where} {redact(str(url))}, which is not on an allowed origin ({allowed}); "
            "not fetched (allow it with [upstream] file_hosts)",
            reason="redirect" if redirected else "origin",
        )
