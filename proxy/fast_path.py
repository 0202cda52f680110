"""The fast path: a project page whose bytes and verdict are cached, answered in pure ASGI.

Most requests an index sees are for pages already fetched, judged and rendered. For
those, ``project_page`` costs little, but Starlette's routing, ``Request`` and
``Response`` objects and the exception layers around it cost several times more.
``PageFastPath`` sits inside the middleware that every response passes (access log,
security headers, request id, package authentication) and answers a page request
itself when everything it depends on is cached and current:

- the index's one source a public upstream (the default; hosted, private or several
  sources go the usual way), and the page in memory within its TTL (``IndexCache.fresh``:
  a stale page, one on disk only or one being refreshed goes the usual way);
- the name-only verdict allowing it, and the judged view of that revision, with the
  same policies and reviewer rules, no hold lapsed since (``ProjectAccess.judged``), and
  the project allowed (a refusal, its rate limit and its recording go the usual way);
- the page rendered from that view, metadata epoch unchanged (``PageRenderer.rendered``).

Anything else (an error of pipgate's own, another route, a query string, a name to redirect, an unknown index, an
``Accept`` it cannot serve) is handed to the application. What it records and sends
is what ``project_page`` would: the same status, headers (``views.page_answer``), body,
cache metric and decision records.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.utils import NormalizedName
from starlette.types import ASGIApp, Receive, Scope, Send

from pipgate.policies.names import BadProjectName, project_name
from pipgate.proxy.errors import PipgateError
from pipgate.proxy.index.cache import IndexCache
from pipgate.proxy.index.render import NotAcceptable, negotiate
from pipgate.proxy.routing import UpstreamSource
from pipgate.proxy.state import KEY, AppState
from pipgate.proxy.views import page_answer


class PageFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and not scope.get("query_string")
        ):
            try:
                answer = _answer(scope)
            except PipgateError:  # the usual way answers it (a 503 for a store down, ...)
                answer = None
            if answer is not None:
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _answer(scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
    state: AppState | None = scope.get("state", {}).get(KEY)
    target = _page_target(scope["path"])
    if state is None or target is None:
        return None
    index, raw = target
    name = _normalized(raw)
    gate = state.access.gates.get(index)
    if name is None or name != raw or gate is None:
        return None
    headers = dict(scope["headers"])
    media_type = _media_type(_text(headers.get(b"accept")))
    if media_type is None or not gate.before_fetch(name).allowed:
        return None
    cache = _page_cache(state, index)
    result = cache.fresh(name, count=False) if cache is not None else None
    if cache is None or result is None:
        return None
    view = state.access.judged(gate, name, result.page.revision, "public")
    if view is None or not view.verdict.allowed:
        return None
    judged_from = (result.page.revision, gate.generation, "public")
    rendered = state.pages.rendered(index, name, view, judged_from, media_type)
    if rendered is None:
        return None
    cache.hit()
    state.access.served_warm(gate, name, view, _client(state, scope, headers))
    return page_answer(
        scope["method"],
        _text(headers.get(b"accept-encoding")),
        _text(headers.get(b"if-none-match")),
        rendered.status,
        media_type,
        rendered.body,
        result,
        view.verdict,
        rendered,
    )


def _page_cache(state: AppState, index: str) -> IndexCache | None:
    """The page cache ``index`` takes every page from: the one public upstream (what
    ``ProjectAccess.locate`` asks first and alone); ``None`` for an index with hosted or
    more sources, which always goes the usual way."""
    router = state.access.router
    if router is None:
        return state.index_cache
    sources = router.sources(index)
    if len(sources) == 1 and isinstance(sources[0], UpstreamSource):
        return sources[0].index_cache if sources[0].origin == "public" else None
    return None


def _page_target(path: str) -> tuple[str, str] | None:
    """``(index, project)`` of ``/simple/<project>/`` or ``/<index>/simple/<project>/``."""
    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "simple" and parts[3] == "" and parts[2]:
        return "default", parts[2]
    if len(parts) == 5 and parts[2] == "simple" and parts[4] == "" and parts[1] and parts[3]:
        return parts[1], parts[3]
    return None


@lru_cache(maxsize=4096)
def _normalized(raw: str) -> NormalizedName | None:
    try:
        return project_name(raw)
    except BadProjectName:
        return None


@lru_cache(maxsize=256)
def _media_type(accept: str | None) -> str | None:
    try:
        return negotiate(accept, None)
    except NotAcceptable:
        return None


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None


def _client(state: AppState, scope: Scope, headers: dict[bytes, bytes]) -> str:
    """``views.client_of`` for a scope."""
    if state.settings.server.trust_forwarded:
        forwarded = headers.get(b"x-forwarded-for")
        if forwarded:
            return forwarded.decode("latin-1").split(",")[-1].strip() or "-"
    client = scope.get("client")
    return client[0] if client else "-"
