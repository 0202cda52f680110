"""The admin API under ``/-/admin/``: JSON, bearer tokens, OpenAPI at ``/-/admin/openapi.json``.

``read`` tokens may list and show; ``admin`` tokens may also act. Errors are
``{"error": message}`` with 400 (bad input), 401 (no or wrong token), 403
(scope too small), 404, 409, or 503 with ``Retry-After`` when the store cannot
be written (disk full): nothing was done, try again. Statuses come from the
exception raised (``errors.py``); bodies are the records in ``serialize``'s shape.

A queue entry is a held version (its files inside) or project: releasing or
rejecting an entry decides its version (or the project) by default; ``scope``
``file`` with ``file`` decides one of its files, ``project`` the whole project.

``index`` in a body is a configured index or ``*`` (every index). Omitted, a
reject and a deny-list entry apply on every index, a release and an allow-list
entry on ``default`` (a release of an entry: on the entry's index).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from pipgate.proxy.errors import NotFound, PipgateError, ReviewError, UnsupportedMediaType
from pipgate.proxy.quarantine.auth import Principal, TokenBook, session_view
from pipgate.proxy.quarantine.records import ALL_INDEXES, MAX_REASON, STATES, EntryQuery
from pipgate.proxy.quarantine.review import Review
from pipgate.proxy.quarantine.serialize import to_json
from pipgate.proxy.state import state_of

Handler = Callable[[Request, Principal], Awaitable[Response]]


def review_of(request: Request) -> Review:
    return state_of(request).review


def tokens_of(request: Request) -> TokenBook:
    return state_of(request).tokens


def error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def requires(scope: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            tokens = tokens_of(request)
            challenge = {"WWW-Authenticate": 'Bearer realm="pipgate admin"'}
            if not tokens:
                return error(
                    401,
                    "no admin tokens are configured; add [admin] tokens "
                    "(make a hash with 'pipgate token hash')",
                    **challenge,
                )
            principal = tokens.from_headers(request, basic=False)
            if principal is None:
                return error(
                    401, "a valid admin token is required (Authorization: Bearer ...)", **challenge
                )
            if not principal.can(scope):
                return error(
                    403,
                    f"token {principal.name!r} has scope {principal.scope!r}; this needs {scope!r}",
                )
            try:
                return await handler(request, principal)
            except PipgateError as exc:
                return error(exc.status_code, str(exc), **exc.response_headers)

        return endpoint

    return decorate


async def _body(request: Request) -> dict[str, Any]:
    # Only application/json: a cross-site form can send text/plain that parses as JSON
    # without a CORS preflight, application/json cannot.
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("the request body must be JSON (Content-Type: application/json)")
    try:
        body = await request.json()
    except ValueError:
        raise ReviewError("the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ReviewError("the request body must be a JSON object")
    return body


def _int(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        raise ReviewError(f"{name} must be a whole number, got {raw!r}") from None
    return max(0, min(value, high))


def _reason(body: dict[str, Any]) -> str:
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ReviewError("a reason is required")
    return reason.strip()


def index_of(request: Request, value: str | None) -> str | None:
    """A configured index, ``*`` (every index) or ``None`` (the action's default)."""
    if value is None or value == ALL_INDEXES:
        return value
    if value not in state_of(request).gates:
        raise ReviewError(f"no index {value!r} is configured; use one of them or '*' (every index)")
    return value


def _text(body: dict[str, Any], name: str, default: str | None = None) -> str | None:
    """An optional string field; anything else (number, list, object) is a 400."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ReviewError(f"{name!r} must be a string")
    return value


# -- reading ------------------------------------------------------------------------------


@requires("read")
async def check(request: Request, principal: Principal) -> Response:
    """``pipgate policy check --url``: this server's decision for each ``requirement``
    (``NAME[==VERSION]``), judged by ``ProjectAccess.check`` like a request but recorded
    nowhere. ``online=1`` consults the page cache and upstream."""
    from pipgate.proxy.cli.policy_check import InvalidRequirement, parse_requirement

    q = request.query_params
    index = q.get("index") or "default"
    if index not in state_of(request).gates:
        raise ReviewError(f"no index {index!r} is configured")
    texts = q.getlist("requirement")
    if not texts or len(texts) > 1000:
        raise ReviewError("give 1 to 1000 'requirement' parameters (NAME or NAME==VERSION)")
    try:
        parsed = [parse_requirement(text) for text in texts]
    except InvalidRequirement as exc:
        raise ReviewError(str(exc)) from None
    access, online = state_of(request).access, q.get("online") in ("1", "true", "yes")
    results = [await access.check(index, name, version, online=online) for name, version in parsed]
    return JSONResponse({"results": [r.as_json() for r in results]})


@requires("read")
async def whoami(request: Request, principal: Principal) -> Response:
    return JSONResponse({"name": principal.name, "scope": principal.scope})


@requires("read")
async def list_entries(request: Request, principal: Principal) -> Response:
    q = request.query_params
    state = q.get("state")
    if state and state not in STATES:
        raise ReviewError(f"unknown state {state!r}; choose from {', '.join(STATES)}")
    query = EntryQuery(
        state=state,
        index=q.get("index"),
        project=q.get("project"),
        policy=q.get("policy"),
        limit=_int(request, "limit", 50, 500),
        offset=_int(request, "offset", 0, 10**9),
    )
    page = await to_thread.run_sync(review_of(request).entries, query)
    return JSONResponse(to_json(page))


@requires("read")
async def show_entry(request: Request, principal: Principal) -> Response:
    entry_id = request.path_params["entry"]
    entry = await to_thread.run_sync(review_of(request).entry, entry_id)
    if entry is None:
        raise NotFound(f"no quarantine entry {entry_id}")
    return JSONResponse(to_json(entry))


@requires("read")
async def list_rules(request: Request, principal: Principal) -> Response:
    kind = request.path_params.get("kind") or request.query_params.get("kind")
    index = request.query_params.get("index")
    rules = await to_thread.run_sync(lambda: review_of(request).rules(kind=kind, index=index))
    return JSONResponse({"rules": to_json(rules)})


@requires("read")
async def audit(request: Request, principal: Principal) -> Response:
    limit, offset = _int(request, "limit", 100, 1000), _int(request, "offset", 0, 10**9)
    records = await to_thread.run_sync(lambda: review_of(request).audit(limit=limit, offset=offset))
    return JSONResponse({"audit": to_json(records)})


@requires("read")
async def decisions(request: Request, principal: Principal) -> Response:
    q = request.query_params
    limit = _int(request, "limit", 100, 1000)
    decision_log = state_of(request).decision_log
    entries = await to_thread.run_sync(
        lambda: decision_log.search(
            q=q.get("q"),
            limit=limit,
            index=q.get("index"),
            project=q.get("project"),
            policy=q.get("policy"),
            action=q.get("action"),
            mode=q.get("mode"),
            client=q.get("client"),
        )
    )
    return JSONResponse({"decisions": entries})


@requires("read")
async def stats(request: Request, principal: Principal) -> Response:
    hours = max(1, _int(request, "hours", 48, 24 * 90))
    return JSONResponse(to_json(await to_thread.run_sync(review_of(request).stats, hours)))


@requires("read")
async def aggregates(request: Request, principal: Principal) -> Response:
    """Holds that did not enter the queue one by one (names judged by name alone that
    are not known upstream, dependency-confusion and denylist refusals): per hour,
    index, policy and action, with a count and sample names."""
    hours = max(1, _int(request, "hours", 24, 24 * 90))
    rows = await to_thread.run_sync(review_of(request).aggregates, hours)
    return JSONResponse({"aggregates": to_json(rows)})


# -- acting -------------------------------------------------------------------------------


@requires("admin")
async def release(request: Request, principal: Principal) -> Response:
    body = await _body(request)
    rule = await to_thread.run_sync(
        lambda: review_of(request).release(
            request.path_params["entry"],
            scope=_text(body, "scope"),
            file=_text(body, "file"),
            until=_text(body, "until"),
            reason=_reason(body),
            actor=principal.name,
        )
    )
    return JSONResponse(to_json(rule))


@requires("admin")
async def reject(request: Request, principal: Principal) -> Response:
    body = await _body(request)
    rule = await to_thread.run_sync(
        lambda: review_of(request).reject(
            request.path_params["entry"],
            scope=_text(body, "scope"),
            file=_text(body, "file"),
            index=index_of(request, _text(body, "index")),
            reason=_reason(body),
            actor=principal.name,
        )
    )
    return JSONResponse(to_json(rule))


@requires("admin")
async def decide(request: Request, principal: Principal) -> Response:
    """Release or reject a target by name: ``{"project", "version"?, "file"?, "index"?}``."""
    body = await _body(request)
    if not isinstance(body.get("project"), str):
        raise ReviewError("'project' is required")
    index = index_of(request, _text(body, "index"))
    rule = await to_thread.run_sync(
        lambda: review_of(request).decide(
            request.path_params["kind"],
            index=index,
            project=body["project"],
            version=_text(body, "version"),
            file=_text(body, "file"),
            until=_text(body, "until"),
            reason=_reason(body),
            actor=principal.name,
        )
    )
    return JSONResponse(to_json(rule))


@requires("admin")
async def list_add(request: Request, principal: Principal) -> Response:
    body = await _body(request)
    if not isinstance(body.get("rule"), str):
        raise ReviewError("'rule' is required: a name, glob or 'name==version'")
    everything = body.get("everything", False)
    if not isinstance(everything, bool):
        raise ReviewError("'everything' must be true or false")
    rule = await to_thread.run_sync(
        lambda: review_of(request).list_add(
            request.path_params["kind"],
            index=index_of(request, _text(body, "index")),
            rule=body["rule"],
            reason=_reason(body),
            actor=principal.name,
            everything=everything,
        )
    )
    return JSONResponse(to_json(rule), status_code=201)


@requires("admin")
async def list_remove(request: Request, principal: Principal) -> Response:
    body = await _body(request)
    if not isinstance(body.get("rule"), str):
        raise ReviewError("'rule' is required")
    removed = await to_thread.run_sync(
        lambda: review_of(request).list_remove(
            request.path_params["kind"],
            index=index_of(request, _text(body, "index")),
            rule=body["rule"],
            reason=_text(body, "reason", "") or "",
            actor=principal.name,
        )
    )
    return JSONResponse(to_json(removed))


@requires("read")
async def list_sessions(request: Request, principal: Principal) -> Response:
    """Console sessions: a ``read`` token sees its own, an ``admin`` token everyone's
    (``?name=``); ``?ended=1`` lists those that ended too."""
    store = tokens_of(request).sessions
    assert store is not None
    q = request.query_params
    name = q.get("name") if principal.can("admin") else principal.name
    ended = q.get("ended", "").lower() in ("1", "true", "yes")
    found = await to_thread.run_sync(lambda: store.list(name=name, ended=ended))
    return JSONResponse({"sessions": to_json([session_view(s, principal) for s in found])})


@requires("read")
async def end_session(request: Request, principal: Principal) -> Response:
    """End (revoke) a console session: one's own, or any with an ``admin`` token."""
    store = tokens_of(request).sessions
    assert store is not None
    session_id = request.path_params["session"]
    session = await to_thread.run_sync(store.get, session_id)
    if session is None or not (principal.can("admin") or session.name == principal.name):
        raise NotFound(f"no session {session_id}" + ("" if principal.can("admin") else " of yours"))
    reason = request.query_params.get("reason") or "revoked through the API"
    ended = await to_thread.run_sync(
        lambda: store.end(session_id, by=principal.name, reason=reason[:MAX_REASON])
    )
    return JSONResponse(to_json(session_view(ended, principal)))


async def openapi(request: Request) -> Response:
    from pipgate.proxy.quarantine.openapi import SCHEMA

    return JSONResponse(SCHEMA)


def routes() -> list[BaseRoute]:
    lists = "{kind:str}"
    return [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/whoami", whoami, methods=["GET"]),
        Route("/check", check, methods=["GET"]),
        Route("/quarantine", list_entries, methods=["GET"]),
        Route("/quarantine/{entry:int}", show_entry, methods=["GET"]),
        Route("/quarantine/{entry:int}/release", release, methods=["POST"]),
        Route("/quarantine/{entry:int}/reject", reject, methods=["POST"]),
        Route("/decide/{kind:str}", decide, methods=["POST"]),
        Route("/rules", list_rules, methods=["GET"]),
        Route(f"/lists/{lists}", list_rules, methods=["GET"]),
        Route(f"/lists/{lists}/add", list_add, methods=["POST"]),
        Route(f"/lists/{lists}/remove", list_remove, methods=["POST"]),
        Route("/audit", audit, methods=["GET"]),
        Route("/decisions", decisions, methods=["GET"]),
        Route("/stats", stats, methods=["GET"]),
        Route("/aggregates", aggregates, methods=["GET"]),
        Route("/sessions", list_sessions, methods=["GET"]),
        Route("/sessions/{session:int}", end_session, methods=["DELETE"]),
    ]
