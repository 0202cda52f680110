"""The upstream index client: project pages and file streams over httpx.

Owns retries, timeouts and the translation of httpx's errors into the proxy's
(``errors.py``). Honours the standard proxy environment variables
(``HTTPS_PROXY``, ``NO_PROXY`` ...) through httpx's ``trust_env``. URLs in
messages and logs never carry credentials (``urls.redact``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import httpx
from anyio import to_thread
from packaging.utils import NormalizedName

from pipgate.proxy import __version__
from pipgate.proxy.config.settings import UpstreamSettings
from pipgate.proxy.errors import (
    OriginRefused,
    UpstreamError,
    UpstreamNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from pipgate.proxy.index.parse import PageParseError, parse_html_page, parse_json_page
from pipgate.proxy.models import Project
from pipgate.proxy.upstream.circuit import BreakerConfig, Breakers
from pipgate.proxy.upstream.credentials import credentials_auth
from pipgate.proxy.upstream.origins import Origins
from pipgate.proxy.urls import ensure_trailing_slash, redact

log = logging.getLogger("pipgate.upstream")

PAGE_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
)
RETRY_STATUSES = frozenset({500, 502, 503, 504, 429})
T = TypeVar("T")


@dataclass(frozen=True)
class UpstreamConfig:
    url: str = "https://pypi.org/simple/"
    timeout: float = 30.0
    connect_timeout: float = 10.0
    retries: int = 2
    backoff: float = 0.25
    #: A project page larger than this (decoded) is refused rather than read into memory.
    page_limit: int = 256 << 20
    #: Origins files may come from besides the upstream's own; ``None``: the default
    #: (``origins.default_file_hosts``).
    file_hosts: tuple[str, ...] | None = None
    #: Basic-auth credentials for the upstream's origin only (``credentials.py``); the
    #: URL's own userinfo when unset.
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_settings(cls, upstream: UpstreamSettings) -> UpstreamConfig:
        """The client configuration of ``[upstream]``: the only place the two meet."""
        return cls(
            url=upstream.url,
            timeout=upstream.timeout.total_seconds(),
            connect_timeout=upstream.connect_timeout.total_seconds(),
            retries=upstream.retries,
            backoff=upstream.backoff.total_seconds(),
            file_hosts=upstream.effective_file_hosts,
            username=upstream.username,
            password=upstream.password,
        )


@dataclass(frozen=True)
class FetchedPage:
    """A parsed project page and the validators to revalidate it with."""

    project: Project
    etag: str | None
    last_modified: str | None


#: See ``RawPage.small``.
SMALL_JSON = 64 * 1024
SMALL_HTML = 4 * 1024


@dataclass(frozen=True)
class RawPage:
    """A project page as upstream sent it, not parsed yet: parsing a large page is CPU
    work for a worker thread (``parse``). ``url`` is where it came from (after redirects;
    relative file URLs are resolved against it), ``requested`` the URL asked for."""

    name: NormalizedName
    body: bytes
    content_type: str
    url: str
    requested: str
    etag: str | None
    last_modified: str | None

    @property
    def small(self) -> bool:
        """Whether parsing (and digesting) this page costs less than handing it to a
        worker thread (~0.2 ms a hop): a JSON page under ``SMALL_JSON`` bytes (about 150
        files, 0.1 ms) or an HTML one under ``SMALL_HTML`` (HTML parses ~30x slower)."""
        limit = SMALL_JSON if self.content_type.endswith("json") else SMALL_HTML
        return len(self.body) < limit

    def parse(self) -> Project:
        """The page as a ``Project``; ``UpstreamUnavailable`` if it is not a usable page.
        CPU-bound (about 1.5 µs a file for JSON in PyPI's form): call it in a worker
        thread unless the page is ``small``."""
        try:
            if self.content_type.endswith("json"):
                return parse_json_page(self.body, self.url, self.name)
            return parse_html_page(self.body, self.url, self.name)
        except PageParseError as exc:
            raise UpstreamUnavailable(
                f"upstream sent an unusable page: {exc} ({redact(self.requested)})"
            ) from exc


class NotModified(Exception):
    """Upstream answered 304: the cached page is still current."""


Observer = Callable[[str, float, str], None]
"""Called with (operation, seconds, outcome) after each upstream request, for metrics."""
#: Marks a request whose origin was checked once: a later check of it is a redirect hop.
_CHECKED = "pipgate.origin_checked"


class UpstreamClient:
    """Talks to one upstream simple index. Create once per app; ``aclose`` at shutdown."""

    def __init__(
        self,
        config: UpstreamConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        observe: Observer | None = None,
        refused: Callable[[str], None] | None = None,
        breakers: Breakers | None = None,
    ) -> None:
        self.config = config
        self.base_url = ensure_trailing_slash(config.url)
        self.origins = Origins(config.url, config.file_hosts)
        self._observe = observe or (lambda op, seconds, outcome: None)
        self._refused = refused or (lambda reason: None)
        self.breakers = breakers or Breakers(BreakerConfig())
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            headers={"User-Agent": f"pipgate/{__version__}"},
            follow_redirects=True,
            trust_env=True,
            event_hooks={"request": [self._check_origin]},
            auth=credentials_auth(config.url, config.username, config.password),
        )

    async def _check_origin(self, request: httpx.Request) -> None:
        """Refuse a request (redirect hops included: httpx runs request hooks for each)
        to an origin outside ``origins``; ``refused`` is told the reason, for metrics."""
        redirected = _CHECKED in request.extensions
        request.extensions[_CHECKED] = True
        try:
            self.origins.check(request.url, redirected=redirected)
        except OriginRefused as exc:
            log.warning("%s", exc)
            self._refused(exc.reason)
            raise

    async def aclose(self) -> None:
        await self._client.aclose()

    def project_url(self, name: NormalizedName) -> str:
        return f"{self.base_url}{name}/"

    async def get_project(
        self, name: NormalizedName, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchedPage:
        """Fetch and parse ``name``'s page, JSON preferred (``fetch_page``, then ``parse``
        in a worker thread)."""
        raw = await self.fetch_page(name, etag=etag, last_modified=last_modified)
        project = await to_thread.run_sync(raw.parse)
        return FetchedPage(project, raw.etag, raw.last_modified)

    async def fetch_page(
        self, name: NormalizedName, *, etag: str | None = None, last_modified: str | None = None
    ) -> RawPage:
        """Fetch ``name``'s page, JSON preferred, without parsing it.

        Raises ``NotModified`` on a 304 to the given validators,
        ``UpstreamNotFound`` on 404/410, ``UpstreamTimeout`` or
        ``UpstreamUnavailable`` when no page could be had.
        """
        url = self.project_url(name)
        headers = {"Accept": PAGE_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        body = b""

        async def attempt() -> httpx.Response:
            nonlocal body
            request = self._client.build_request("GET", url, headers=headers)
            response = await self._client.send(request, stream=True)
            try:
                if response.status_code == 200:
                    body = await _read_limited(
                        response, self.config.page_limit, f"project page {name!r}", url
                    )
            finally:
                await response.aclose()
            return response

        response = await self._with_retries("page", url, attempt)
        if response.status_code == 304:
            raise NotModified(url)
        if response.status_code in (404, 410):
            raise UpstreamNotFound(f"upstream has no project {name!r} ({redact(url)})")
        if response.status_code != 200:
            raise UpstreamUnavailable(
                f"upstream answered {response.status_code} for project {name!r} ({redact(url)})"
            )
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        return RawPage(
            name,
            body,
            content_type,
            str(response.url),
            url,
            response.headers.get("etag"),
            response.headers.get("last-modified"),
        )

    @asynccontextmanager
    async def stream(
        self, url: str, what: str, *, part: tuple[int, int] | None = None
    ) -> AsyncIterator[httpx.Response]:
        """Open a streaming GET of ``url`` (a file, ``.metadata`` or provenance).

        Yields a 200 response whose body has not been read (read it with ``aiter_raw``:
        the bytes are never content-decoded for hashing). ``what`` names the
        thing in error messages (``"file 'demo-1.0.tar.gz'"``). With ``part``, the
        inclusive byte range ``(first, last)`` is asked for: the response is then a 206
        (check its ``Content-Range``) or a 200 with the whole body (a server that
        ignores ranges).
        """
        headers = {"Accept-Encoding": "identity"}
        if part is not None:
            headers["Range"] = f"bytes={part[0]}-{part[1]}"

        async def attempt() -> httpx.Response:
            # Bytes as the server stores them: hashes and sizes in the index are of those
            # (pip does the same), even where a server labels a .tar.gz Content-Encoding: gzip.
            request = self._client.build_request("GET", url, headers=headers)
            response = await self._client.send(request, stream=True)
            if response.status_code in RETRY_STATUSES:
                await response.aclose()
            return response

        response = await self._with_retries("file", url, attempt)
        try:
            if response.status_code in (404, 410):
                raise UpstreamNotFound(f"upstream has no {what} ({redact(url)})")
            if response.status_code != 200 and not (part and response.status_code == 206):
                raise UpstreamUnavailable(
                    f"upstream answered {response.status_code} for {what} ({redact(url)})"
                )
            yield response
        finally:
            await response.aclose()

    async def get_bytes(self, url: str, what: str, *, limit: int = 64 << 20) -> bytes:
        """GET a small resource whole (``.metadata``, provenance), at most ``limit`` bytes."""
        chunks, total = [], 0
        async with self.stream(url, what) as response:
            try:
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
                    if total > limit:
                        raise UpstreamUnavailable(f"{what} is larger than {limit} bytes")
                    chunks.append(chunk)
            except httpx.HTTPError as exc:
                raise translate(exc, what, url) from exc
        return b"".join(chunks)

    async def _with_retries(
        self, operation: str, url: str, attempt: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        """Run ``attempt`` with bounded retries and jittered exponential backoff.

        Retries connection errors, timeouts and 429/5xx answers; the last 5xx
        answer is returned as is, the last exception is translated. Every try
        first asks the origin's circuit breaker (``circuit.py``), which raises
        ``CircuitOpen`` instead of waiting on a host that keeps failing.
        """
        tries = self.config.retries + 1
        breaker = self.breakers.for_url(url)
        for number in range(tries):
            probe = breaker.admit(f"{operation} {redact(url)}")
            started = time.perf_counter()
            try:
                response = await attempt()
            except httpx.HTTPError as exc:
                breaker.failed(probe)
                self._observe(operation, time.perf_counter() - started, type(exc).__name__)
                if number + 1 >= tries:
                    raise translate(exc, operation, url) from exc
                log.warning("upstream %s %s failed (%s); retrying", operation, redact(url), exc)
            except BaseException:
                breaker.abandoned(probe)
                raise
            else:
                if response.status_code in RETRY_STATUSES:
                    breaker.failed(probe)
                else:
                    breaker.succeeded(probe)
                self._observe(operation, time.perf_counter() - started, str(response.status_code))
                if response.status_code not in RETRY_STATUSES or number + 1 >= tries:
                    return response
                log.warning(
                    "upstream %s %s answered %s; retrying",
                    operation,
                    redact(url),
                    response.status_code,
                )
            await asyncio.sleep(self.config.backoff * (2**number) * (0.5 + random.random()))
        raise AssertionError("unreachable")


async def _read_limited(response: httpx.Response, limit: int, what: str, url: str) -> bytes:
    """The (decoded) body of ``response``, refused once it passes ``limit`` bytes."""
    chunks, total = [], 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > limit:
            raise UpstreamUnavailable(f"{what} is larger than {limit} bytes ({redact(url)})")
        chunks.append(chunk)
    return b"".join(chunks)


def translate(exc: httpx.HTTPError, what: str, url: str) -> UpstreamError:
    """The proxy's error for an httpx error while fetching ``what`` from ``url``."""
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(f"upstream timed out for {what} ({redact(url)})")
    return UpstreamUnavailable(f"upstream failed for {what} ({redact(url)}): {type(exc).__name__}")
