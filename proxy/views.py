"""Thin route handlers: validate and normalize, ask the gate, delegate, set headers.

Every route that can hand out a project or a file asks the index's gate with
the normalized name, so neither another spelling, the other page format, a
pinned file URL nor a cached copy gets around a decision.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from anyio import to_thread
from packaging.utils import NormalizedName
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from pipgate.policies.engine import Verdict
from pipgate.policies.names import BadProjectName, project_name
from pipgate.policies.subjects import Origin
from pipgate.proxy.access import FileDecision, ProjectAccess
from pipgate.proxy.errors import (
    FileNotListed,
    IntegrityError,
    InvalidProjectName,
    PipgateError,
    StorageError,
    StoreUnavailable,
)
from pipgate.proxy.files.downloads import open_unstored
from pipgate.proxy.files.parts import WHOLE_BEFORE_SENDING, upstream_part, wanted_part
from pipgate.proxy.files.response import CHUNK, PacedResponse
from pipgate.proxy.files.serving import (
    FILE_CACHE_CONTROL,
    content_type_of,
    serve_handle,
    serve_stored,
)
from pipgate.proxy.files.slots import Slot
from pipgate.proxy.files.store import extract_wheel_metadata
from pipgate.proxy.headers import weighted
from pipgate.proxy.index.cache import PageResult
from pipgate.proxy.index.pages import (
    PROJECT_REFUSED,
    RenderedPage,
    refusal_status,
    status_reason,
)
from pipgate.proxy.index.render import JSON_V1, NotAcceptable, Page, negotiate, render, render_index
from pipgate.proxy.models import DistFile, Project
from pipgate.proxy.routing import HostedSource, UpstreamSource
from pipgate.proxy.state import AppState, state_of

PAGE_CACHE_CONTROL = "max-age=0, must-revalidate"


def client_of(request: Request) -> str:
    if state_of(request).settings.server.trust_forwarded:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            # The trusted proxy appends the address it saw; earlier entries are the
            # client's own say-so and must not decide who is named in the logs.
            return forwarded.split(",")[-1].strip() or "-"
    return request.client.host if request.client else "-"


def normalized_or_raise(raw: str) -> NormalizedName:
    """``raw`` normalized; a 404 naming it when it can never be a project (never asked upstream)."""
    try:
        return project_name(raw)
    except BadProjectName as exc:
        raise InvalidProjectName(str(exc)) from None


def index_of(request: Request) -> str:
    """The index a request is for; ``UnknownIndex`` (404) when none is configured there."""
    index = request.path_params.get("index", "default")
    state_of(request).access.gate(index)
    return index


def _redirect_to(request: Request, path: str) -> RedirectResponse:
    url = URL(path)
    if request.url.query:
        url = url.replace(query=request.url.query)
    return RedirectResponse(str(url), status_code=301)


def index_prefix(request: Request) -> str:
    index = request.path_params.get("index", "default")
    return "" if index == "default" else f"/{index}"


# -- /simple/ -----------------------------------------------------------------------------------


async def simple_index(request: Request) -> Response:
    """The projects this proxy knows (cached, configured or hosted) and a client may install
    from this index, never all of upstream (``ProjectAccess.listable``; no upstream
    request). A name is judged as coming from the first of the index's sources that has it."""
    state = state_of(request)
    index = index_of(request)
    media_type = _media_type(request)
    if isinstance(media_type, Response):
        return media_type
    configured = state.settings.indexes.get(index)
    sources = state.router.sources(index) if state.router else (_default_source(state),)

    def installable() -> list[str]:
        origins: dict[str, Origin] = {}
        for source in sources:
            if isinstance(source, HostedSource):
                assert state.hosted is not None
                known: list[str] = list(state.hosted.projects(source.name))
            else:
                known = source.index_cache.known_projects()
            for name in known:
                origins.setdefault(name, source.origin)
        for name in configured.projects if configured else ():
            origins.setdefault(name, "public")
        listable = state.access.listable
        return [
            name for name in sorted(origins) if listable(index, NormalizedName(name), origins[name])
        ]

    body = render_index(await to_thread.run_sync(installable), media_type)
    return _page_response(request, 200, media_type, body, None, None)


async def project_page(request: Request) -> Response:
    raw = request.path_params["project"]
    name = normalized_or_raise(raw)
    prefix = index_prefix(request)
    if raw != name or not request.url.path.endswith("/"):
        return _redirect_to(request, f"{prefix}/simple/{name}/")
    media_type = _media_type(request)
    if isinstance(media_type, Response):
        return media_type
    state = state_of(request)
    decision = await state.access.page(index_of(request), name, client_of(request))
    if decision.view is None:  # refused by name, upstream never asked
        verdict = decision.project.verdict
        page = Page(Project(name, ()), (), "quarantined", status_reason(verdict.decision))
        body = render(page, media_type)
        return _page_response(
            request,
            refusal_status(verdict.decision, PROJECT_REFUSED),
            media_type,
            body,
            None,
            verdict,
        )
    result = decision.project.page
    assert result is not None
    rendered = await state.pages.page(
        index_of(request), result.page.project, decision.view, decision.built_from, media_type
    )
    return _page_response(
        request,
        rendered.status,
        media_type,
        rendered.body,
        result,
        decision.view.verdict,
        rendered=rendered,
    )


def _media_type(request: Request) -> str | Response:
    try:
        return negotiate(request.headers.get("accept"), request.query_params.get("format"))
    except NotAcceptable as exc:
        return PlainTextResponse(
            f"406 Not Acceptable: {exc}. This index serves application/vnd.pypi.simple.v1+json, "
            "application/vnd.pypi.simple.v1+html and text/html.\n",
            status_code=406,
            headers={"Vary": "Accept"},
        )


def _decision_headers(verdict: Verdict | None) -> dict[str, str]:
    if verdict is None or verdict.allowed:
        return {}
    d = verdict.decision
    headers = {
        "X-Pipgate-Action": str(d.action),
        "X-Pipgate-Policy": d.policy,
        "X-Pipgate-Reason": _latin1(d.reason),
    }
    if d.available_at is not None:
        headers["X-Pipgate-Available-At"] = d.available_at.astimezone(UTC).isoformat()
    return headers


def _latin1(text: str) -> str:
    """``text`` as a header value: latin-1, with control characters (CR, LF, NUL ...) as spaces."""
    text = text.encode("latin-1", "replace").decode("latin-1")
    return "".join(" " if (ord(c) < 32 and c != "\t") or 127 <= ord(c) < 160 else c for c in text)


def _page_response(
    request: Request,
    status: int,
    media_type: str,
    body: bytes,
    result: PageResult | None,
    verdict: Verdict | None,
    *,
    rendered: RenderedPage | None = None,
) -> Response:
    headers = request.headers
    return RawResponse(
        *page_answer(
            request.method,
            headers.get("accept-encoding"),
            headers.get("if-none-match"),
            status,
            media_type,
            body,
            result,
            verdict,
            rendered,
        )
    )


def page_answer(
    method: str,
    accept_encoding: str | None,
    if_none_match: str | None,
    status: int,
    media_type: str,
    body: bytes,
    result: PageResult | None,
    verdict: Verdict | None,
    rendered: RenderedPage | None,
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """A page's status, raw headers and body (the fast path sends the same, ``fast_path.py``)."""
    headers = {
        "Vary": "Accept, Accept-Encoding",
        "Cache-Control": PAGE_CACHE_CONTROL,
        **_decision_headers(verdict),
    }
    content_type = media_type if media_type == JSON_V1 else f"{media_type}; charset=utf-8"
    headers["Content-Type"] = content_type
    if result is not None and result.stale_since is not None:
        since = datetime.fromtimestamp(result.stale_since, UTC)
        headers["X-Pipgate-Stale"] = f"upstream unavailable; copy from {since.isoformat()}"
        headers["Warning"] = '110 pipgate "Response is Stale"'
    gzipped = rendered.gzipped if rendered is not None else None
    use_gzip = gzipped is not None and accepts_gzip(accept_encoding)
    if rendered is not None:
        # Each encoding is its own representation, with its own validator.
        etag = rendered.etag[:-1] + '-gz"' if use_gzip else rendered.etag
        headers["ETag"] = etag
        if status == 200 and _etag_matches(if_none_match, etag):
            return 304, _raw(_without_content_type(headers)), b""
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
        body = gzipped  # type: ignore[assignment]
    if method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return status, _raw(headers), b""
    headers["Content-Length"] = str(len(body))
    return status, _raw(headers), body


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


class RawResponse(Response):
    """A response whose headers are given as they are sent (``page_answer``)."""

    def __init__(self, status: int, raw_headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = status
        self.body = body
        self.raw_headers = raw_headers
        self.background = None


def _without_content_type(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "Content-Type"}


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` admits gzip (``gzip;q=0`` and ``*;q=0`` refuse it)."""
    if not accept_encoding:
        return False
    allowed = {coding: quality > 0 for coding, quality in weighted(accept_encoding)}
    return allowed.get("gzip", allowed.get("x-gzip", allowed.get("*", False)))


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


# -- files --------------------------------------------------------------------------------------

_SUBRESOURCES = (".metadata", ".provenance")


async def project_file(request: Request) -> Response:
    """A distribution file, its ``.metadata`` (PEP 658) or its ``.provenance`` (PEP 740)."""
    raw, requested = request.path_params["project"], request.path_params["filename"]
    name = normalized_or_raise(raw)
    if raw != name:
        return _redirect_to(request, f"{index_prefix(request)}/files/{name}/{quote(requested)}")
    filename, subresource = requested, ""
    for suffix in _SUBRESOURCES:
        if requested.endswith(suffix):
            filename, subresource = requested[: -len(suffix)], suffix
    state, client = state_of(request), client_of(request)
    decision = await state.access.file(
        index_of(request), name, filename, client, content=not subresource
    )
    if decision.file is None:
        return _refusal(decision.verdict, f"project {name!r}")
    if not decision.allowed:
        return _refusal(decision.verdict, f"file {filename!r}")
    file, source = decision.file, decision.project.source
    if isinstance(source, HostedSource):
        check = ScanCheck(state.access, decision, client)
        response = await _hosted_file(request, state, file, subresource, check)
        decision = check.decision
    else:
        upstream = source if source is not None else _default_source(state)
        if subresource == ".metadata":
            # The metadata of a file is served without scanning it: the file is what runs.
            response = await _metadata(request, state, upstream, name, file)
        elif subresource == ".provenance":
            response = await _provenance(upstream, file)
        else:
            check = ScanCheck(state.access, decision, client)
            response = await _file(request, state, upstream, name, file, check)
            decision = check.decision
    warning = next((d for d in decision.verdict.observed if d.dry_run), None)
    if warning is not None:
        # Served despite an objection not enforced (dry-run, or vulnerabilities' "warn").
        response.headers["X-Pipgate-Warning"] = _latin1(f"{warning.policy}: {warning.reason}")
    return response


def _refusal(verdict: Verdict, what: str) -> Response:
    d = verdict.decision
    lines = [f"pipgate: {what} is {d.action.past} by policy {d.policy!r}: {d.reason}"]
    if d.available_at is not None:
        stamp = d.available_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"It becomes available by itself at {stamp}.")
    else:
        lines.append("Ask your security team to review it.")
    return PlainTextResponse(
        "\n".join(lines) + "\n",
        status_code=refusal_status(d),
        headers=_decision_headers(verdict),
    )


@dataclass
class ScanCheck:
    """Asked once a file being served has its content-scan report (its download scanned
    it, or it was scanned in memory): a refusal, or ``None`` to serve the file."""

    access: ProjectAccess
    decision: FileDecision
    client: str

    async def __call__(self) -> Response | None:
        self.decision = await self.access.recheck(self.decision, self.client)
        if self.decision.allowed:
            return None
        assert self.decision.file is not None
        return _refusal(self.decision.verdict, f"file {self.decision.file.filename!r}")


class ScanRefusedMidStream(Exception):
    """A streamed file's scan objected after its response started: the body is cut short
    before the last byte, so the client never holds the file whole."""


#: The largest file served unstored (the disk is full) that is scanned in memory first;
#: a larger one is held as unscannable while the scan is on.
UNSTORED_SCAN_LIMIT = 64 * 1024 * 1024


def _default_source(state: AppState) -> UpstreamSource:
    """The ``[upstream]`` as a source (for an app built without a router)."""
    return UpstreamSource("pypi", "public", state.upstream, state.index_cache, state.downloads)


async def _hosted_file(
    request: Request, state: AppState, file: DistFile, subresource: str, check: ScanCheck
) -> Response:
    """A file uploaded to a hosted index, or its PEP 658 metadata; never from upstream.

    The upload was scanned where it arrived; a replica (or rules) without that report
    scans the file before serving it, as it would a download."""
    hosted = state.hosted
    assert hosted is not None and file.sha256 is not None
    sha256 = file.sha256
    if subresource == ".metadata":
        body = await to_thread.run_sync(hosted.get_metadata, sha256)
        if body is None:
            raise FileNotListed(f"no metadata is available for {file.filename!r}")
        return Response(body, media_type="application/octet-stream")
    if subresource:
        raise FileNotListed(f"no provenance is available for {file.filename!r}")
    if state.scan.active and request.method == "GET":
        report = await state.scan.report(sha256, file.filename, lambda: hosted.open(sha256))
        refused = await check() if report is not None else None
        if refused is not None:
            return refused
    slot = state.slots.acquire(client_of(request)) if request.method == "GET" else None
    try:
        handle = await to_thread.run_sync(hosted.open, file.sha256)
        if handle is None:
            raise StorageError(f"hosted file {file.filename!r} is missing from the data directory")
        response = serve_handle(
            request,
            handle,
            file.sha256,
            file.filename,
            state.metrics,
            on_close=slot.release if slot is not None else None,
        )
    except BaseException:
        if slot is not None:
            slot.release()
        raise
    if slot is not None and not isinstance(response, PacedResponse):
        slot.release()
    response.headers["X-Pipgate-Cache"] = "hosted"
    return response


async def _file(
    request: Request,
    state: AppState,
    source: UpstreamSource,
    project: str,
    file: DistFile,
    check: ScanCheck,
) -> Response:
    """A file body holds a download slot (``download_slots.py``) until it ends; over a
    cap the request gets 503 with ``Retry-After``."""
    slot = state.slots.acquire(client_of(request)) if request.method == "GET" else None
    try:
        response = await _file_response(request, state, source, project, file, slot, check)
    except BaseException:
        if slot is not None:
            slot.release()
        raise
    if slot is not None and not isinstance(response, PacedResponse):
        slot.release()  # no body to send (304, 416, a refusal): the slot is not needed
    return response


async def _file_response(
    request: Request,
    state: AppState,
    source: UpstreamSource,
    project: str,
    file: DistFile,
    slot: Slot | None,
    check: ScanCheck,
) -> Response:
    on_close = slot.release if slot is not None else None
    sha256 = file.sha256 or await state.store.threads.run(state.store.sha256_for_url, file.url)
    if sha256 is not None:
        response = await serve_stored(
            request, state.store, sha256, file.filename, state.metrics, on_close=on_close
        )
        if response is not None:
            state.metrics.cache.labels("file", "hit").inc()
            return response
    part = wanted_part(request.headers, file.size, f'"{sha256}"' if sha256 else None)
    if part is not None and request.method == "GET":
        response = await _part(request, state, file, sha256, part, on_close)
        if response is not None:
            return response
    if not await state.store.threads.run(state.store.has_room, file.size):
        return await _unstored(request, state, source, file, on_close, check)
    state.metrics.cache.labels("file", "miss").inc()
    download = source.downloads.start(project, file.filename, file.url, file.sha256, file.size)
    try:
        if file.size is not None and file.size <= WHOLE_BEFORE_SENDING:
            # Small files are verified (and scanned) whole before the first byte goes out,
            # so a corrupt, truncated or flagged file becomes a clean refusal with a reason;
            # not kept yet, maybe (answered from the download while it is stored).
            await download.wait_until_verified()
            refused = await check()
            if refused is not None:
                return refused
            handle = await download.open_verified()
            if handle is not None:
                response = serve_handle(
                    request,
                    handle,
                    str(download.sha256),
                    file.filename,
                    state.metrics,
                    on_close=on_close,
                )
                response.headers["X-Pipgate-Cache"] = "miss"
                return response
        await download.wait_for_headers()
    except StoreUnavailable:
        raise  # a shared store is down: 503, never a file that bypassed the stores
    except StorageError:
        return await _unstored(request, state, source, file, on_close, check)
    headers = {"Content-Type": content_type_of(file.filename), "X-Pipgate-Cache": "miss"}
    if sha256:
        headers["ETag"] = f'"{sha256}"'
        headers["Cache-Control"] = FILE_CACHE_CONTROL
    if download.size is not None:
        headers["Content-Length"] = str(download.size)
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers)

    async def body() -> AsyncIterator[bytes | bytearray]:
        held_back: bytes | bytearray = b""
        async for chunk in download.follow(CHUNK):
            if held_back:
                state.metrics.bytes.labels("served").inc(len(held_back))
                yield held_back
            held_back = chunk
        # follow() ends once the download is verified, which is after its content scan.
        if await check() is not None:
            raise ScanRefusedMidStream(f"{file.filename!r} was held by its content scan")
        if held_back:
            state.metrics.bytes.labels("served").inc(len(held_back))
            yield held_back

    return PacedResponse(body(), headers=headers, on_close=on_close)


async def _part(
    request: Request,
    state: AppState,
    file: DistFile,
    sha256: str | None,
    part: tuple[int, int] | str,
    on_close: Callable[[], None] | None,
) -> Response | None:
    """A range of a large file not stored yet (``parts.py``): from the download under
    way when it has the bytes, else from upstream; ``None`` to serve it as usual."""
    assert file.size is not None
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Type": content_type_of(file.filename),
        "X-Pipgate-Cache": "miss",
    }
    if sha256:
        headers["ETag"] = f'"{sha256}"'
        headers["Cache-Control"] = FILE_CACHE_CONTROL
    if not isinstance(part, tuple):  # past the end
        return Response(
            status_code=416, headers={**headers, "Content-Range": f"bytes */{file.size}"}
        )
    first, last = part
    download = state.downloads.in_progress(file.url, file.sha256)
    if download is not None and download.has_part(last):
        chunks: AsyncIterator[bytes | bytearray] = download.part(first, last, CHUNK)
    else:
        found = await upstream_part(
            state.upstream, file.url, f"file {file.filename!r}", part, file.size, CHUNK
        )
        if found is None:
            return None
        chunks = found
    state.metrics.cache.labels("file", "part").inc()
    headers["Content-Range"] = f"bytes {first}-{last}/{file.size}"
    headers["Content-Length"] = str(last - first + 1)

    async def body() -> AsyncIterator[bytes | bytearray]:
        try:
            async for chunk in chunks:
                state.metrics.bytes.labels("served").inc(len(chunk))
                yield chunk
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    return PacedResponse(body(), status_code=206, headers=headers, on_close=on_close)


async def _unstored(
    request: Request,
    state: AppState,
    source: UpstreamSource,
    file: DistFile,
    on_close: Callable[[], None] | None,
    check: ScanCheck,
) -> Response:
    """A cold file the disk cannot take: streamed from upstream, checked on the way.

    With the content scan on, the verified file is first gathered in memory (up to
    ``UNSTORED_SCAN_LIMIT``) and scanned: no file reaches a client before its report."""
    state.metrics.cache.labels("file", "unstored").inc()
    headers = {"Content-Type": content_type_of(file.filename), "X-Pipgate-Cache": "unstored"}
    if file.sha256:
        headers["ETag"] = f'"{file.sha256}"'
        headers["Cache-Control"] = FILE_CACHE_CONTROL
    if request.method == "HEAD":
        if file.size is not None:
            headers["Content-Length"] = str(file.size)
        return Response(status_code=200, headers=headers)
    size, chunks = await open_unstored(
        source.upstream, file.url, file.filename, file.sha256, file.size, chunk_size=CHUNK
    )
    if size is not None:
        headers["Content-Length"] = str(size)
    if state.scan.active:
        gathered = bytearray()
        try:
            async for chunk in chunks:
                gathered += chunk
                if len(gathered) > UNSTORED_SCAN_LIMIT:
                    break
        finally:
            await chunks.aclose()
        if len(gathered) > UNSTORED_SCAN_LIMIT:
            state.scan.note_unscannable(
                file.sha256 or hashlib.sha256(gathered).hexdigest(),
                "too large to scan in memory while the file store is full",
            )
        else:
            digest = hashlib.sha256(gathered).hexdigest()
            await state.scan.scan_bytes(digest, file.filename, bytes(gathered))
        refused = await check()
        if refused is not None:
            return refused
        state.metrics.bytes.labels("served").inc(len(gathered))
        return Response(bytes(gathered), headers=headers)

    async def body() -> AsyncIterator[bytes | bytearray]:
        try:
            async for chunk in chunks:
                state.metrics.bytes.labels("served").inc(len(chunk))
                yield chunk
        finally:
            await chunks.aclose()

    return PacedResponse(body(), headers=headers, on_close=on_close)


async def _metadata(
    request: Request, state: AppState, source: UpstreamSource, project: str, file: DistFile
) -> Response:
    """PEP 658 metadata: from the store (kept from upstream or extracted from the
    cached wheel), else from upstream, verified against the advertised hash and kept."""
    expected = file.core_metadata.get("sha256") if isinstance(file.core_metadata, dict) else None
    if file.sha256:
        body = await state.store.threads.run(state.store.get_metadata, file.sha256)
        if body is not None and (expected is None or hashlib.sha256(body).hexdigest() == expected):
            return Response(body, media_type="application/octet-stream")
    if not file.core_metadata and file.sha256 and file.filename.endswith(".whl"):
        # A page may advertise metadata extracted from the cached wheel after the store
        # evicted it: extract it again (from the wheel, fetched again if evicted too).
        body = await _metadata_from_wheel(state, source, project, file, file.sha256)
        if body is not None:
            return Response(body, media_type="application/octet-stream")
    if not file.core_metadata:
        raise FileNotListed(f"no metadata is available for {file.filename!r}")
    body = await source.upstream.get_bytes(file.url + ".metadata", f"metadata of {file.filename!r}")
    if expected and hashlib.sha256(body).hexdigest() != expected:
        raise IntegrityError(f"metadata of {file.filename!r} from upstream does not match its hash")
    if file.sha256:
        await state.store.threads.run(state.store.put_metadata, file.sha256, body)
    return Response(body, media_type="application/octet-stream")


async def _metadata_from_wheel(
    state: AppState, source: UpstreamSource, project: str, file: DistFile, sha256: str
) -> bytes | None:
    handle = await state.store.threads.run(state.store.open, sha256)
    if handle is None:
        download = source.downloads.start(project, file.filename, file.url, file.sha256, file.size)
        try:
            await download.wait_until_done()
        except StorageError:
            return None  # the disk is full: pip then reads the metadata from the wheel
        handle = await download.open_verified()
        if handle is None:
            return None
    try:
        body = await to_thread.run_sync(extract_wheel_metadata, handle)
    finally:
        handle.close()
    if body is not None:
        await state.store.threads.run(state.store.put_metadata, sha256, body)
    return body


async def _provenance(source: UpstreamSource, file: DistFile) -> Response:
    if not file.provenance:
        raise FileNotListed(f"no provenance is available for {file.filename!r}")
    body = await source.upstream.get_bytes(file.provenance, f"provenance of {file.filename!r}")
    return Response(body, media_type="application/json")


# -- operations ---------------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


async def readyz(request: Request) -> Response:
    """503 while the proxy cannot do its job (data directory unwritable or nearly
    full); 200 otherwise. Then one line per degraded part, information, never a
    reason to fail: an upstream whose circuit is open (cached pages and files are
    still served, so the proxy stays ready) and each advisory feed."""
    state = state_of(request)
    problems = await to_thread.run_sync(state.readiness_problems)
    notes = [*state.readiness_notes(), *(state.intel.status() if state.intel else ())]
    detail = "".join(f"{line}\n" for line in notes)
    if problems:
        return PlainTextResponse(
            "not ready: " + "; ".join(problems) + "\n" + detail, status_code=503
        )
    return PlainTextResponse("ready\n" + detail)


async def metrics(request: Request) -> Response:
    from pipgate.proxy.observe.metrics import CONTENT_TYPE_LATEST

    return Response(state_of(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)


async def root(request: Request) -> Response:
    lines = ["pipgate: a policy-enforcing PyPI proxy", "", "indexes:"]
    for index, gate in state_of(request).gates.items():
        path = "/simple/" if index == "default" else f"/{index}/simple/"
        lines.append(f"  {path}  policies: {', '.join(gate.policies.names) or 'none'}")
    return PlainTextResponse("\n".join(lines) + "\n")


def error_response(request: Request, exc: Exception) -> Response:
    """Map the proxy's errors to statuses (``errors.py``); the body says what failed."""
    assert isinstance(exc, PipgateError)
    return PlainTextResponse(
        f"pipgate: {exc}\n", status_code=exc.status_code, headers=exc.response_headers
    )
