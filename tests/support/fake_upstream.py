"""A fake PyPI Simple Repository API upstream, served by starlette on a real port.

Model: ``FakeProject`` holds ``FakeFile`` s (real bytes on disk or in memory, or
"phantom" entries that only appear on pages). ``create_fake_upstream`` wraps them in a
``FakeUpstream`` whose ``.app`` is the ASGI app; tests flip its knobs at runtime::

    upstream = create_fake_upstream(standard_projects(tmp_path))
    with upstream.serve() as index_url:          # "http://127.0.0.1:PORT/simple/"
        upstream.project_modes["demo-pkg"] = "5xx"
        ...
        assert upstream.hits["/simple/demo-pkg/"] == 1

Routes (absolute file URLs point back at whichever host the request used)::

    GET /simple/                          project list (PEP 503 HTML / PEP 691 JSON)
    GET /simple/<name>/                   project page; non-normalized names and a
                                          missing trailing slash get a 301
    GET /packages/<sha8>/<file>           file bytes (404 for phantom files)
    GET /packages/<sha8>/<file>.metadata  PEP 658 core metadata, when the file has it
    GET /packages/<sha8>/<file>.provenance PEP 740 provenance, when the file has it

CLI (run from the repo root; prints ``FAKE_UPSTREAM_URL=http://HOST:PORT/simple/``)::

    python -m tests.support.fake_upstream --scenario {standard,bench} --data-dir DIR \\
        [--host 127.0.0.1] [--port 0] [--no-json]

From a benchmark: ``run_process([sys.executable, "-m", "tests.support.fake_upstream",
"--scenario", "bench", "--data-dir", d], url_line_prefix="FAKE_UPSTREAM_URL=", cwd=repo)``.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import functools
import hashlib
import html
import random
import signal
import tarfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal

import orjson
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.support.dists import (
    build_sdist,
    build_wheel,
    dist_name,
    sdist_filename,
    sha256_of,
    wheel_filename,
    wheel_metadata,
)
from tests.support.servers import run_app

#: How a page request fails: 503, hang (until healed or the client leaves), 200 junk, 404.
PageMode = Literal["5xx", "timeout", "garbage", "404"]
#: How a file request fails. ``truncate``: half the bytes, then the connection closes,
#: under a full ``Content-Length``. ``corrupt``: same length, different bytes.
#: ``slow``: small chunks with delays (``slow_chunk_size`` / ``slow_chunk_delay``).
#: (``truncate`` makes uvicorn log "ASGI callable returned without completing response";
#: that line is expected.)
FileMode = Literal["truncate", "corrupt", "slow", "5xx", "404", "timeout"]

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
HTML = "text/html"

#: Upload time of files that were not given one.
DEFAULT_UPLOAD_TIME = datetime(2024, 1, 1, tzinfo=UTC)
#: Subdirectory of ``--data-dir`` for built distributions; bump when dists change shape.
DATA_FORMAT = "v1"


# --- model -------------------------------------------------------------------------------


@dataclass(eq=False)
class FakeFile:
    """One file on a project page. Mutable: tests may change fields while serving.

    ``content`` is the real bytes (a path read on each request, or bytes); ``None`` makes
    a phantom file that appears on pages but answers 404 when fetched. ``sha256`` and
    ``size`` are what pages promise. ``metadata`` (core metadata bytes) is served at
    ``<url>.metadata`` and advertised with its sha256 when not ``None``; ``provenance``
    likewise at ``<url>.provenance`` (PEP 740). ``yanked`` is ``False``, ``True`` or the
    reason. ``upload_time`` must be timezone-aware, or ``None`` to omit it.
    """

    filename: str
    sha256: str
    size: int
    content: Path | bytes | None = None
    requires_python: str | None = None
    yanked: bool | str = False
    upload_time: datetime | None = DEFAULT_UPLOAD_TIME
    metadata: bytes | None = None
    provenance: bytes | None = None

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        *,
        requires_python: str | None = None,
        yanked: bool | str = False,
        upload_time: datetime | None = DEFAULT_UPLOAD_TIME,
        with_metadata: bool = True,
        provenance: bytes | None = None,
    ) -> FakeFile:
        """A real file on disk. ``requires_python`` defaults to the distribution's own
        ``Requires-Python``; ``with_metadata`` serves a wheel's METADATA (sdists never)."""
        path = Path(path)
        meta = _dist_metadata(path)
        if requires_python is None and meta is not None:
            requires_python = BytesParser().parsebytes(meta).get("Requires-Python")
        return cls(
            filename=path.name,
            sha256=sha256_of(path),
            size=path.stat().st_size,
            content=path,
            requires_python=requires_python,
            yanked=yanked,
            upload_time=upload_time,
            metadata=meta if with_metadata and path.name.endswith(".whl") else None,
            provenance=provenance,
        )

    @classmethod
    def from_bytes(cls, filename: str, data: bytes, **fields: Any) -> FakeFile:
        """A file held in memory; ``fields`` are the other dataclass fields."""
        return cls(filename, hashlib.sha256(data).hexdigest(), len(data), data, **fields)

    @classmethod
    def phantom(cls, filename: str, size: int, **fields: Any) -> FakeFile:
        """A page entry with no bytes; its sha256 is derived from the filename."""
        digest = hashlib.sha256(b"phantom:" + filename.encode()).hexdigest()
        return cls(filename, digest, size, None, **fields)

    def read(self) -> bytes | None:
        """The real bytes, or ``None`` for a phantom file."""
        if isinstance(self.content, Path):
            return self.content.read_bytes()
        return self.content

    @property
    def url_path(self) -> str:
        return f"/packages/{self.sha256[:8]}/{self.filename}"

    @property
    def version(self) -> str | None:
        return _version_of(self.filename)


@dataclass(eq=False)
class FakeProject:
    """One project. ``versions=None`` derives PEP 700 versions from the filenames.

    ``status``/``status_reason`` are PEP 792 markers (``"archived"``, ``"quarantined"``,
    ``"deprecated"``, ``"active"``). ``api_version=None`` picks the lowest version that
    covers what the page shows: "1.4" with a status, "1.3" with provenance, else "1.1".
    """

    name: str
    files: list[FakeFile] = field(default_factory=list)
    versions: list[str] | None = None
    status: str | None = None
    status_reason: str | None = None
    api_version: str | None = None

    @property
    def normalized(self) -> NormalizedName:
        return canonicalize_name(self.name)

    def all_versions(self) -> list[str]:
        if self.versions is not None:
            return list(self.versions)
        found = {v for f in self.files if (v := f.version) is not None}
        return sorted(found, key=_parsed_version)

    def effective_api_version(self) -> str:
        if self.api_version is not None:
            return self.api_version
        if self.status is not None:
            return "1.4"
        if any(f.provenance is not None for f in self.files):
            return "1.3"
        return "1.1"


@dataclass(frozen=True)
class SeenRequest:
    """One request as the fake saw it (headers lower-cased)."""

    method: str
    path: str
    headers: Mapping[str, str]
    at: float


@functools.cache
def _version_of(filename: str) -> str | None:
    stem = filename.removesuffix(".whl").removesuffix(".tar.gz").removesuffix(".zip")
    parts = stem.split("-")
    if len(parts) < 2:
        return None
    try:
        return str(Version(parts[1]))
    except InvalidVersion:
        return None


@functools.cache
def _parsed_version(version: str) -> Version:
    return Version(version)


def _dist_metadata(path: Path) -> bytes | None:
    """A wheel's METADATA or an sdist's PKG-INFO, or ``None`` if it has neither."""
    try:
        if path.name.endswith(".whl"):
            return wheel_metadata(path)
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path) as tf:
                for member in tf.getmembers():
                    if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                        fh = tf.extractfile(member)
                        return fh.read() if fh else None
    except (OSError, ValueError, tarfile.TarError):
        return None
    return None


# --- rendering ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _project_json(project: FakeProject, urls: dict[int, str]) -> dict[str, object]:
    api = project.effective_api_version()
    meta: dict[str, object] = {"api-version": api}
    files = []
    for f in project.files:
        entry: dict[str, object] = {
            "filename": f.filename,
            "url": urls[id(f)],
            "hashes": {"sha256": f.sha256},
            "requires-python": f.requires_python,
            "yanked": f.yanked,
            "size": f.size,
        }
        if f.upload_time is not None:
            entry["upload-time"] = _iso(f.upload_time)
        core: object = (
            {"sha256": hashlib.sha256(f.metadata).hexdigest()} if f.metadata is not None else False
        )
        entry["core-metadata"] = core
        entry["dist-info-metadata"] = core
        if _api_tuple(api) >= (1, 3):
            entry["provenance"] = urls[id(f)] + ".provenance" if f.provenance is not None else None
        files.append(entry)
    page: dict[str, object] = {
        "meta": meta,
        "name": project.normalized,
        "files": files,
        "versions": project.all_versions(),
    }
    if project.status is not None:
        status: dict[str, str] = {"status": project.status}
        if project.status_reason:
            status["reason"] = project.status_reason
        page["project-status"] = status
    return page


def _api_tuple(api: str) -> tuple[int, ...]:
    return tuple(int(part) for part in api.split("."))


def _project_html(project: FakeProject, urls: dict[int, str]) -> str:
    esc = html.escape
    head = [f'<meta name="pypi:repository-version" content="{project.effective_api_version()}">']
    if project.status is not None:
        head.append(f'<meta name="pypi:project-status" content="{esc(project.status)}">')
        if project.status_reason:
            head.append(
                f'<meta name="pypi:project-status-reason" content="{esc(project.status_reason)}">'
            )
    links = []
    for f in project.files:
        attrs = [f'href="{esc(urls[id(f)])}#sha256={f.sha256}"']
        if f.requires_python:
            attrs.append(f'data-requires-python="{esc(f.requires_python)}"')
        if f.yanked is not False:
            reason = f.yanked if isinstance(f.yanked, str) else ""
            attrs.append(f'data-yanked="{esc(reason)}"')
        if f.metadata is not None:
            digest = hashlib.sha256(f.metadata).hexdigest()
            attrs.append(f'data-core-metadata="sha256={digest}"')
            attrs.append(f'data-dist-info-metadata="sha256={digest}"')
        if f.provenance is not None:
            attrs.append(f'data-provenance="{esc(urls[id(f)])}.provenance"')
        links.append(f"    <a {' '.join(attrs)}>{esc(f.filename)}</a><br />")
    title = f"Links for {esc(project.normalized)}"
    return _html_page(head, title, links)


def _html_page(head: list[str], title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            "<html>",
            "  <head>",
            *(f"    {line}" for line in head),
            f"    <title>{title}</title>",
            "  </head>",
            "  <body>",
            f"    <h1>{title}</h1>",
            *body,
            "  </body>",
            "</html>",
            "",
        ]
    )


def _choose_type(request: Request, json_enabled: bool) -> str:
    """PEP 691 negotiation: JSON only when enabled and preferred; HTML otherwise."""
    wanted = request.query_params.get("format") or request.headers.get("accept") or HTML
    best, best_q = HTML, -1.0
    for item in wanted.split(","):
        media, *params = [part.strip() for part in item.split(";")]
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        media = {
            "application/vnd.pypi.simple.latest+json": JSON_V1,
            "application/vnd.pypi.simple.latest+html": HTML_V1,
        }.get(media, media)
        if media == JSON_V1 and not json_enabled:
            continue
        if media in (JSON_V1, HTML_V1, HTML, "*/*", "text/*") and q > 0:
            if q > best_q:
                best, best_q = (HTML if media in ("*/*", "text/*") else media), q
    return best


# --- raw responses -----------------------------------------------------------------------


class _BodyResponse:
    """Sends ``data`` under a full ``Content-Length``, honouring a file failure mode."""

    def __init__(
        self, data: bytes, content_type: str, mode: FileMode | None, upstream: FakeUpstream
    ) -> None:
        self.data, self.content_type, self.mode, self.upstream = data, content_type, mode, upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        data = self.data
        if self.mode == "corrupt":
            data = bytes(b ^ 0x55 for b in data) if len(data) < 1 << 16 else _xor_fast(data)
        status, size = 200, len(data)
        headers = [(b"content-type", self.content_type.encode())]
        part = _byte_range(dict(scope["headers"]).get(b"range", b""), size)
        if part is not None and self.upstream.ranges is not False:
            first, last = part
            if self.upstream.ranges == "wrong":  # a server that answers another part
                first, last = max(0, first - 1), max(0, last - 1)
            data, status = data[first : last + 1], 206
            headers.append((b"content-range", f"bytes {first}-{last}/{size}".encode()))
        headers.append((b"content-length", str(len(data)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if self.mode == "truncate":
            await send(
                {"type": "http.response.body", "body": data[: len(data) // 2], "more_body": True}
            )
            return  # uvicorn closes the connection: the client sees a short body
        if self.mode == "slow":
            step = max(1, self.upstream.slow_chunk_size)
            for start in range(0, len(data), step):
                await send(
                    {
                        "type": "http.response.body",
                        "body": data[start : start + step],
                        "more_body": True,
                    }
                )
                await asyncio.sleep(self.upstream.slow_chunk_delay)
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.body", "body": data})


def _byte_range(header: bytes, size: int) -> tuple[int, int] | None:
    """The inclusive part a single ``bytes=first-last`` / ``bytes=-n`` range asks for."""
    text = header.decode("latin-1").strip()
    if not text.startswith("bytes=") or "," in text:
        return None
    first, _, last = text[6:].partition("-")
    try:
        if not first:
            return max(size - int(last), 0), size - 1
        return int(first), min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None


def _xor_fast(data: bytes) -> bytes:
    n = int.from_bytes(data, "little") ^ int.from_bytes(b"\x55" * len(data), "little")
    return n.to_bytes(len(data), "little")


_GARBAGE_HTML = b"\x89PNG\r\n\x1a\n\x00\x00 this is not a simple index \xff\xfe<<<"
_GARBAGE_JSON = b'{"meta": {"api-version": "1.1"}, "name": "garbage", "files": [{"filename": '


# --- the app -----------------------------------------------------------------------------


class FakeUpstream:
    """A fake index: ``.app`` is the ASGI app; the attributes below are runtime knobs.

    Knobs (plain attributes, safe to set from the test thread while serving):

    - ``mode``: failure mode of every ``/simple/`` page; ``project_modes[name]`` for one
      project (keyed by normalized name; checked after ``mode``).
    - ``file_mode`` / ``file_modes[basename]``: failure mode of file requests; the key is
      the requested basename, so ``"x.whl.metadata"`` targets only the metadata.
    - ``json_enabled``: answer PEP 691 JSON when asked (else always HTML, like old indexes).
    - ``etag`` / ``last_modified``: send validators on pages; matching ``If-None-Match`` /
      ``If-Modified-Since`` get a 304. ``cache_control``: a ``Cache-Control`` value or None.
    - ``relative_urls``: file URLs relative to the page instead of absolute.
    - ``hang_seconds``: how long ``"timeout"`` hangs (ended early by ``heal()`` or a
      client disconnect, then answers 503). ``hanging`` counts the requests hanging now.
    - ``raw_pages[name]``: ``(content_type, body)`` served as the page of project ``name``
      (normalized) as is, in place of the rendered one: a hostile or odd upstream page.
    - ``redirects[path]``: a request for URL path ``path`` is answered ``302 Location:`` value.
    - ``ranges``: a file request with a single ``Range`` gets that part (206), as PyPI's CDN
      answers; ``False``: the whole file (a server that ignores ranges); ``"wrong"``: a
      part one byte earlier than asked.

    ``projects`` maps normalized names to ``FakeProject`` and may be changed while serving.
    """

    def __init__(
        self,
        projects: Mapping[str, FakeProject] | Iterable[FakeProject],
        *,
        json_enabled: bool = True,
        etag: bool = True,
        last_modified: bool = False,
        cache_control: str | None = None,
        relative_urls: bool = False,
        hang_seconds: float = 30.0,
        slow_chunk_size: int = 1024,
        slow_chunk_delay: float = 0.05,
    ) -> None:
        values = projects.values() if isinstance(projects, Mapping) else projects
        self.projects: dict[str, FakeProject] = {p.normalized: p for p in values}
        self.mode: PageMode | None = None
        self.project_modes: dict[str, PageMode] = {}
        self.file_mode: FileMode | None = None
        self.file_modes: dict[str, FileMode] = {}
        self.json_enabled = json_enabled
        self.etag = etag
        self.last_modified = last_modified
        self.cache_control = cache_control
        self.relative_urls = relative_urls
        self.hang_seconds = hang_seconds
        self.slow_chunk_size = slow_chunk_size
        self.slow_chunk_delay = slow_chunk_delay
        self.raw_pages: dict[str, tuple[str, bytes]] = {}
        self.redirects: dict[str, str] = {}
        self.ranges: bool | str = True
        self._lock = threading.Lock()
        self._hits: Counter[str] = Counter()
        self._requests: list[SeenRequest] = []
        self._healed = threading.Event()
        self._heal_generation = 0
        self._hanging = 0
        routes = [
            Route("/simple/", self._index),
            Route("/simple/{name}/", self._project),
            Route("/simple/{name}", self._project_no_slash),
            Route("/packages/{prefix}/{filename}", self._file),
        ]
        self.app: ASGIApp = self._count(Starlette(routes=routes))

    # -- test-facing API --

    @property
    def hits(self) -> Counter[str]:
        """A snapshot: requests per URL path (query excluded); missing paths count 0."""
        with self._lock:
            return Counter(self._hits)

    @property
    def requests(self) -> list[SeenRequest]:
        """A snapshot of every request seen, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def hanging(self) -> int:
        """How many requests are hanging in ``"timeout"`` mode right now."""
        with self._lock:
            return self._hanging

    def reset_hits(self) -> None:
        with self._lock:
            self._hits.clear()
            self._requests.clear()

    def heal(self) -> None:
        """Clear every failure mode and release requests hanging in ``"timeout"``."""
        self.mode = None
        self.file_mode = None
        self.project_modes.clear()
        self.file_modes.clear()
        with self._lock:
            self._heal_generation += 1

    def add(self, project: FakeProject) -> FakeProject:
        """Add or replace a project (by normalized name) and return it."""
        self.projects[project.normalized] = project
        return project

    def project(self, name: str) -> FakeProject:
        return self.projects[canonicalize_name(name)]

    def file(self, filename: str) -> FakeFile:
        """The file named ``filename`` in any project; ``KeyError`` if none."""
        for project in list(self.projects.values()):
            for f in project.files:
                if f.filename == filename:
                    return f
        raise KeyError(filename)

    def file_path(self, filename: str) -> str:
        """The URL path a file is served at, e.g. for ``hits[...]``."""
        return self.file(filename).url_path

    @contextmanager
    def serve(self, host: str = "127.0.0.1") -> Iterator[str]:
        """Serve on a free port; yield the index URL ``http://host:port/simple/``.

        On exit, hanging requests are released before the server stops.
        """
        with run_app(self.app, host) as base:
            try:
                yield base + "/simple/"
            finally:
                with self._lock:
                    self._heal_generation += 1

    # -- plumbing --

    def _count(self, app: ASGIApp) -> ASGIApp:
        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
                seen = SeenRequest(scope["method"], scope["path"], headers, time.time())
                with self._lock:
                    self._hits[scope["path"]] += 1
                    self._requests.append(seen)
                location = self.redirects.get(scope["path"])
                if location is not None:
                    await RedirectResponse(location, 302)(scope, receive, send)
                    return
            await app(scope, receive, send)

        return counting

    async def _hang(self, request: Request) -> Response:
        with self._lock:
            generation = self._heal_generation
            self._hanging += 1
        try:
            deadline = time.monotonic() + self.hang_seconds
            while time.monotonic() < deadline:
                with self._lock:
                    if self._heal_generation != generation:
                        break
                if await request.is_disconnected():
                    break
                await asyncio.sleep(0.05)
        finally:
            with self._lock:
                self._hanging -= 1
        return PlainTextResponse("upstream timed out", status_code=503)

    async def _page_failure(
        self, request: Request, mode: PageMode | None, fmt: str
    ) -> Response | None:
        if mode is None:
            return None
        if mode == "5xx":
            return PlainTextResponse("Service Unavailable", status_code=503)
        if mode == "404":
            return PlainTextResponse("Not Found", status_code=404)
        if mode == "timeout":
            return await self._hang(request)
        if fmt == JSON_V1:
            return Response(_GARBAGE_JSON, media_type=JSON_V1)
        return Response(_GARBAGE_HTML, headers={"content-type": "text/html"})

    def _render(self, request: Request, fmt: str, body: bytes, last: datetime | None) -> Response:
        headers = {"vary": "Accept"}
        if self.cache_control:
            headers["cache-control"] = self.cache_control
        not_modified = False
        if self.etag:
            tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            headers["etag"] = tag
            inm = request.headers.get("if-none-match")
            if inm is not None:
                candidates = {c.strip().removeprefix("W/") for c in inm.split(",")}
                not_modified = tag in candidates or "*" in candidates
        if self.last_modified and last is not None:
            headers["last-modified"] = email.utils.format_datetime(
                last.astimezone(UTC), usegmt=True
            )
            ims = request.headers.get("if-modified-since")
            if ims is not None and "if-none-match" not in request.headers:
                try:
                    not_modified = email.utils.parsedate_to_datetime(ims) >= last.replace(
                        microsecond=0
                    )
                except (TypeError, ValueError):
                    pass
        if not_modified:
            return Response(status_code=304, headers=headers)
        content_type = fmt if fmt != HTML else "text/html; charset=utf-8"
        return Response(body, headers={**headers, "content-type": content_type})

    async def _index(self, request: Request) -> Response:
        fmt = _choose_type(request, self.json_enabled)
        failure = await self._page_failure(request, self.mode, fmt)
        if failure is not None:
            return failure
        projects = sorted(self.projects.values(), key=lambda p: p.normalized)
        if fmt == JSON_V1:
            doc = {"meta": {"api-version": "1.1"}, "projects": [{"name": p.name} for p in projects]}
            body = orjson.dumps(doc)
        else:
            links = [
                f'    <a href="/simple/{p.normalized}/">{html.escape(p.name)}</a><br />'
                for p in projects
            ]
            head = ['<meta name="pypi:repository-version" content="1.1">']
            body = _html_page(head, "Simple index", links).encode()
        return self._render(request, fmt, body, None)

    async def _project_no_slash(self, request: Request) -> Response:
        return RedirectResponse(f"/simple/{canonicalize_name(request.path_params['name'])}/", 301)

    async def _project(self, request: Request) -> Response:
        raw = request.path_params["name"]
        name = canonicalize_name(raw)
        if raw != name:
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/simple/{name}/{query}", 301)
        fmt = _choose_type(request, self.json_enabled)
        failure = await self._page_failure(request, self.mode or self.project_modes.get(name), fmt)
        if failure is not None:
            return failure
        given = self.raw_pages.get(name)
        if given is not None:
            return Response(given[1], headers={"content-type": given[0]})
        project = self.projects.get(name)
        if project is None:
            return PlainTextResponse("Not Found", status_code=404)
        base = "" if self.relative_urls else str(request.base_url).rstrip("/")
        urls = {
            id(f): (f"../..{f.url_path}" if self.relative_urls else base + f.url_path)
            for f in project.files
        }
        if fmt == JSON_V1:
            body = orjson.dumps(_project_json(project, urls))
        else:
            body = _project_html(project, urls).encode()
        times = [f.upload_time for f in project.files if f.upload_time is not None]
        return self._render(request, fmt, body, max(times) if times else DEFAULT_UPLOAD_TIME)

    async def _file(self, request: Request) -> Response | _BodyResponse:
        basename = request.path_params["filename"]
        mode = self.file_modes.get(basename) or self.file_mode
        if mode == "5xx":
            return PlainTextResponse("Service Unavailable", status_code=503)
        if mode == "404":
            return PlainTextResponse("Not Found", status_code=404)
        if mode == "timeout":
            return await self._hang(request)
        filename, kind = basename, "file"
        for suffix in (".metadata", ".provenance"):
            if basename.endswith(suffix):
                filename, kind = basename.removesuffix(suffix), suffix[1:]
        try:
            f = self.file(filename)
        except KeyError:
            return PlainTextResponse("Not Found", status_code=404)
        if f.url_path != f"/packages/{request.path_params['prefix']}/{filename}":
            return PlainTextResponse("Not Found", status_code=404)
        if kind == "metadata":
            data, content_type = f.metadata, "application/octet-stream"
        elif kind == "provenance":
            data, content_type = f.provenance, "application/json"
        else:
            data, content_type = await asyncio.to_thread(f.read), "application/octet-stream"
        if data is None:
            return PlainTextResponse(f"no bytes for {basename}", status_code=404)
        return _BodyResponse(data, content_type, mode, self)


def create_fake_upstream(
    projects: Mapping[str, FakeProject] | Iterable[FakeProject], **knobs: Any
) -> FakeUpstream:
    """A ``FakeUpstream`` over ``projects``; ``knobs`` are ``FakeUpstream``'s keyword args."""
    return FakeUpstream(projects, **knobs)


# --- fixture sets ------------------------------------------------------------------------


def _wheel(dist_dir: Path, name: str, version: str, **kw: Any) -> Path:
    """``build_wheel``, reusing an existing file (builds are deterministic)."""
    target = dist_dir / wheel_filename(name, version)
    return target if target.exists() else build_wheel(dist_dir, name, version, **kw)


def _sdist(dist_dir: Path, name: str, version: str, **kw: Any) -> Path:
    target = dist_dir / sdist_filename(name, version)
    return target if target.exists() else build_sdist(dist_dir, name, version, **kw)


def _release(
    dist_dir: Path,
    name: str,
    version: str,
    *,
    requires: tuple[str, ...] = (),
    requires_python: str | None = None,
    uploaded: datetime = DEFAULT_UPLOAD_TIME,
    with_metadata: bool = True,
    sdist: bool = True,
    yanked: bool | str = False,
) -> list[FakeFile]:
    """A wheel (and sdist) of one version, as page entries."""
    paths = [_wheel(dist_dir, name, version, requires=requires, requires_python=requires_python)]
    if sdist:
        paths.append(
            _sdist(dist_dir, name, version, requires=requires, requires_python=requires_python)
        )
    return [
        FakeFile.from_path(p, upload_time=uploaded, with_metadata=with_metadata, yanked=yanked)
        for p in paths
    ]


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def standard_projects(dist_dir: str | Path) -> list[FakeProject]:
    """The everyday fixture set, built into ``dist_dir`` (existing files are reused):

    - ``demo-pkg`` 1.0.0 (needs ``demo-dep>=0.1``) and 1.1.0 (needs ``demo-dep>=0.2``,
      ``Requires-Python: >=3.8,<4``): wheel + sdist each; wheels serve ``.metadata``.
    - ``demo-dep`` 0.1.0 and 0.2.0: wheel + sdist; no ``.metadata`` (PEP 658 absent).
    - ``demo-yanked``: 1.0.0 fine, 1.1.0 yanked "broken build", 1.2.0 yanked, no reason.
    - ``demo-archived`` 1.0.0: PEP 792 status ``archived`` (api-version 1.4).

    Upload times are fixed dates in 2024; set ``FakeFile.upload_time`` to make one new.
    """
    d = Path(dist_dir)
    d.mkdir(parents=True, exist_ok=True)
    return [
        FakeProject(
            "demo-pkg",
            _release(
                d, "demo-pkg", "1.0.0", requires=("demo-dep>=0.1",), uploaded=_at("2024-01-10")
            )
            + _release(
                d,
                "demo-pkg",
                "1.1.0",
                requires=("demo-dep>=0.2",),
                requires_python=">=3.8,<4",
                uploaded=_at("2024-03-10"),
            ),
        ),
        FakeProject(
            "demo-dep",
            _release(d, "demo-dep", "0.1.0", uploaded=_at("2023-11-01"), with_metadata=False)
            + _release(d, "demo-dep", "0.2.0", uploaded=_at("2024-02-01"), with_metadata=False),
        ),
        FakeProject(
            "demo-yanked",
            _release(d, "demo-yanked", "1.0.0", uploaded=_at("2024-01-01"), sdist=False)
            + _release(
                d,
                "demo-yanked",
                "1.1.0",
                uploaded=_at("2024-02-01"),
                sdist=False,
                yanked="broken build",
            )
            + _release(
                d, "demo-yanked", "1.2.0", uploaded=_at("2024-03-01"), sdist=False, yanked=True
            ),
        ),
        FakeProject(
            "demo-archived",
            _release(d, "demo-archived", "1.0.0", uploaded=_at("2022-05-01")),
            status="archived",
            status_reason="superseded by demo-pkg",
        ),
    ]


_PY_TAGS = ("cp38", "cp39", "cp310", "cp311", "cp312", "cp313", "cp314")
_PLATFORMS = (
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "musllinux_1_2_x86_64",
    "macosx_10_9_x86_64",
    "macosx_11_0_arm64",
    "win_amd64",
    "win32",
    "manylinux_2_5_i686.manylinux1_i686",
)


def generated_big_project(
    name: str, n_files: int = 10_000, *, dist_dir: str | Path | None = None
) -> FakeProject:
    """A realistic huge page: exactly ``n_files`` entries over many versions.

    Each version has an sdist and binary wheels for CPython 3.8-3.14 on eight platforms,
    with realistic sizes, weekly upload times from 2015 and every 25th version yanked.
    These are phantom files (404 when fetched). With ``dist_dir``, the newest version
    instead has a real ``py3-none-any`` wheel and sdist, so installing the project works.
    Deterministic for a given ``(name, n_files)``.
    """
    rng = random.Random(f"big:{name}:{n_files}")
    real: list[FakeFile] = []
    if dist_dir is not None:
        newest = "9999.0.0"
        real = _release(Path(dist_dir), name, newest, uploaded=_at("2024-06-01"))
    files: list[FakeFile] = []
    stem = dist_name(name)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    index = 0
    while len(files) < n_files - len(real):
        version = f"{index // 100}.{(index // 10) % 10}.{index % 10}"
        when = start + timedelta(days=7 * index, seconds=rng.randrange(86_400))
        yanked: bool | str = "yanked by the generator" if index % 25 == 24 else False
        requires_python = f">=3.{8 + min(index // 40, 4)}"
        entries = [(f"{stem}-{version}.tar.gz", rng.randrange(200_000, 2_000_000))]
        for py in _PY_TAGS:
            for plat in _PLATFORMS:
                entries.append(
                    (f"{stem}-{version}-{py}-{py}-{plat}.whl", rng.randrange(300_000, 9_000_000))
                )
        for filename, size in entries:
            if len(files) == n_files - len(real):
                break
            files.append(
                FakeFile.phantom(
                    filename, size, upload_time=when, yanked=yanked, requires_python=requires_python
                )
            )
        index += 1
    return FakeProject(name, files + real)


#: Projects the bench requirement set installs: ``bench-app`` pulls in all of them.
BENCH_LIBS = tuple(f"bench-lib-{i:02d}" for i in range(1, 21))
BENCH_BASES = ("bench-base-01", "bench-base-02", "bench-base-03")
BIG_WHEEL_SIZE = 30 * 1024 * 1024


def bench_projects(dist_dir: str | Path) -> list[FakeProject]:
    """The benchmark fixture set (deterministic; built once into ``dist_dir``):

    - ``bench-small`` 1.0.0: one small wheel + sdist.
    - ``bench-huge``: 10,000 files (``generated_big_project``), newest version installable.
    - ``big-wheel`` 1.0.0: a ~30 MB wheel.
    - ``bench-app`` 1.0.0 requiring ``bench-lib-01`` .. ``bench-lib-20`` (two versions each,
      wheel + sdist); every third lib requires one of ``bench-base-01`` .. ``03``.
      ``pip install bench-app`` installs 24 projects.
    """
    d = Path(dist_dir)
    d.mkdir(parents=True, exist_ok=True)
    day = _at("2024-01-01")
    projects = [
        FakeProject("bench-small", _release(d, "bench-small", "1.0.0", uploaded=day)),
        generated_big_project("bench-huge", 10_000, dist_dir=d),
        FakeProject(
            "big-wheel",
            [
                FakeFile.from_path(
                    _wheel(d, "big-wheel", "1.0.0", size_padding=BIG_WHEEL_SIZE), upload_time=day
                )
            ],
        ),
        FakeProject(
            "bench-app",
            _release(
                d,
                "bench-app",
                "1.0.0",
                requires=tuple(f"{lib}>=1.0" for lib in BENCH_LIBS),
                uploaded=day,
            ),
        ),
    ]
    for base in BENCH_BASES:
        projects.append(FakeProject(base, _release(d, base, "2.0.0", uploaded=day)))
    for i, lib in enumerate(BENCH_LIBS, start=1):
        requires = (f"{BENCH_BASES[(i // 3) % 3]}>=2",) if i % 3 == 0 else ()
        files: list[FakeFile] = []
        for n, version in enumerate(("1.0.0", "1.1.0")):
            files += _release(
                d, lib, version, requires=requires, uploaded=day + timedelta(days=30 * n + i)
            )
        projects.append(FakeProject(lib, files))
    return projects


SCENARIOS = {"standard": standard_projects, "bench": bench_projects}


# --- CLI ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Serve a scenario until SIGTERM/SIGINT; print ``FAKE_UPSTREAM_URL=<index url>``."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.fake_upstream")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="standard")
    parser.add_argument(
        "--data-dir", type=Path, required=True, help="where dists are built (cached)"
    )
    parser.add_argument("--no-json", action="store_true", help="serve HTML only, like an old index")
    args = parser.parse_args(argv)

    projects = SCENARIOS[args.scenario](args.data_dir / DATA_FORMAT)
    upstream = create_fake_upstream(projects, json_enabled=not args.no_json)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with run_app(upstream.app, args.host, args.port) as base:
        print(f"FAKE_UPSTREAM_URL={base}/simple/", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
