"""The web console under ``/-/ui/``: server-rendered pages, no JavaScript.

Log in with an admin or read token; the session is kept server-side and the
cookie holds its random id (see ``auth``). The login form carries a
double-submit token; every form that changes state carries the session's CSRF
token and is refused without it; only ``admin`` sessions may act (ending
one's own session aside). Actions redirect back (303) with a short notice.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from pipgate.policies.engine import Verdict
from pipgate.policies.names import BadProjectName, project_name
from pipgate.policies.scan import NAME as SCAN_POLICY
from pipgate.proxy.errors import PipgateError, ReviewError, StoreUnavailable
from pipgate.proxy.files.scan import FileScan
from pipgate.proxy.models import DistFile
from pipgate.proxy.quarantine.api import index_of, review_of, tokens_of
from pipgate.proxy.quarantine.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Principal,
    csrf_ok,
    session_view,
)
from pipgate.proxy.quarantine.charts import bar_chart, line_chart
from pipgate.proxy.quarantine.records import STATES, EntryQuery, Rule
from pipgate.proxy.quarantine.serialize import utc_text
from pipgate.proxy.state import state_of
from pipgate.proxy.views import client_of

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
PREFIX = "/-/ui"
#: Console forms are a few short fields; anything bigger is refused (400) while parsing.
FORM_LIMITS: dict[str, Any] = {"max_files": 0, "max_fields": 16, "max_part_size": 32 * 1024}
Page = Callable[[Request, Principal], Awaitable[Response]]
PAST = {"release": "released", "reject": "rejected"}


def when(value: datetime | str | None) -> str:
    """A time as the console shows it: ``2026-03-01 12:00`` (UTC), ``-`` for none."""
    if value is None or value == "":
        return "-"
    text = utc_text(value) if isinstance(value, datetime) else value
    return text.replace("T", " ").removesuffix("Z")[:16]


def build_templates() -> Jinja2Templates:
    """The console's templates (built by the app factory, kept on its state)."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.filters["when"] = when
    return templates


def _render(
    request: Request, principal: Principal | None, template: str, **context: Any
) -> Response:
    status = context.pop("status", 200)
    context |= {"user": principal, "notice": request.query_params.get("notice"), "prefix": PREFIX}
    templates = state_of(request).templates
    return templates.TemplateResponse(request, template, context, status_code=status)


def _safe_next(target: str | None) -> str:
    # Only paths inside the console: never an open redirect.
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        return target
    return PREFIX + "/"


async def session_of(request: Request) -> Principal | None:
    """The principal of the request's session cookie, if it is a live session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    return await to_thread.run_sync(tokens_of(request).from_session, cookie)


def page(handler: Page) -> Callable[[Request], Awaitable[Response]]:
    """A page for a logged-in user; others are sent to the login form."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        principal = await session_of(request)
        if principal is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{PREFIX}/login?next={quote(target)}", status_code=303)
        return await handler(request, principal)

    return endpoint


Action = Callable[[Request, Principal, dict[str, Any]], Awaitable[str]]


def action(handler: Action, *, scope: str = "admin") -> Callable[[Request], Awaitable[Response]]:
    """A form POST: logged in, ``scope``, CSRF token; redirects back with a notice."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        principal = await session_of(request)
        if principal is None:
            return RedirectResponse(f"{PREFIX}/login", status_code=303)
        form = dict(await request.form(**FORM_LIMITS))
        if not csrf_ok(principal, str(form.get("csrf", ""))):
            return _render(
                request,
                principal,
                "error.html",
                message="The form expired or did not come from this console (CSRF check failed). Reload the page and try again.",
                status=403,
            )
        if not principal.can(scope):
            return _render(
                request,
                principal,
                "error.html",
                message=f"Token {principal.name!r} is read-only.",
                status=403,
            )
        back = _safe_next(str(form.get("next") or ""))
        try:
            notice = await handler(request, principal, form)
        except (ReviewError, StoreUnavailable) as exc:
            notice = f"Not done: {exc}"
        joiner = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{joiner}{urlencode({'notice': notice})}", status_code=303)

    return endpoint


# -- login --------------------------------------------------------------------------------


async def login_form(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    # A fresh double-submit token per form: a cross-site page can neither read it
    # nor set our cookie, so it cannot log a victim in to the attacker's session.
    check = secrets.token_urlsafe(24)
    response = _render(
        request,
        None,
        "login.html",
        next=_safe_next(request.query_params.get("next")),
        configured=bool(tokens_of(request)),
        login_check=check,
        error=error,
        status=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        check,
        path=f"{PREFIX}/login",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or state_of(request).settings.admin.secure_cookie


async def login(request: Request) -> Response:
    form = await request.form(**FORM_LIMITS)
    target = _safe_next(str(form.get("next") or ""))
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not csrf_ok(Principal("", "read", expected), str(form.get("csrf", ""))):
        return await login_form(
            request,
            error="The login form expired or did not come from this console. Try again.",
            status=403,
        )
    tokens = tokens_of(request)
    principal = tokens.verify(str(form.get("token", "")).strip())
    if principal is None or not principal.can("read"):
        return await login_form(request, error="That token is not valid here.", status=401)
    try:
        cookie = await to_thread.run_sync(
            lambda: tokens.start_session(
                principal,
                client=client_of(request),
                user_agent=request.headers.get("user-agent", ""),
            )
        )
    except StoreUnavailable as exc:
        return await login_form(request, error=f"Cannot log in now: {exc}", status=503)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        path="/-/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login")
    return response


async def logout(request: Request) -> Response:
    """End the session server-side (a copied cookie stops working too) and drop the cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        await to_thread.run_sync(tokens_of(request).end_session, cookie)
    except StoreUnavailable as exc:
        # Dropping the cookie alone would look like a logout while the session lives on.
        return _render(request, None, "error.html", message=f"Not logged out: {exc}", status=503)
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/-/")
    return response


# -- pages --------------------------------------------------------------------------------


@page
async def queue(request: Request, principal: Principal) -> Response:
    q = request.query_params
    state = q.get("state", "quarantined")
    try:
        offset = min(max(0, int(q.get("offset", 0))), 10**9)
    except ValueError:
        offset = 0
    query = EntryQuery(
        state=state if state in STATES else None,
        index=q.get("index") or None,
        project=q.get("project") or None,
        policy=q.get("policy") or None,
        limit=50,
        offset=offset,
    )
    review = review_of(request)
    found = await to_thread.run_sync(review.entries, query)
    aggregates = await to_thread.run_sync(review.aggregates, 24) if not offset else []
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return _render(
        request,
        principal,
        "queue.html",
        entries=found.entries,
        aggregates=aggregates,
        total=found.total,
        filters=query,
        state=state,
        states=STATES,
        offset=offset,
        here=here,
        indexes=list(state_of(request).gates),
    )


@page
async def entry(request: Request, principal: Principal) -> Response:
    found = await to_thread.run_sync(review_of(request).entry, request.path_params["entry"])
    if found is None:
        return _render(request, principal, "error.html", message="No such entry.", status=404)
    return _render(request, principal, "entry.html", entry=found, here=request.url.path)


@page
async def project(request: Request, principal: Principal) -> Response:
    index = request.path_params["index"]
    try:
        name = project_name(request.path_params["project"])
    except BadProjectName as exc:
        return _render(request, principal, "error.html", message=str(exc), status=404)
    access = state_of(request).access
    if index not in access.gates:
        return _render(request, principal, "error.html", message=f"No index {index!r}.", status=404)
    query = EntryQuery(index=index, project=name, limit=500)
    found = await to_thread.run_sync(review_of(request).entries, query)
    entries = [e for e in found.entries if e.project == name]
    shown: dict[str, Any] = {
        "name": name,
        "index": index,
        "entries": entries,
        "here": request.url.path,
        "files": [],
        "by_file": {},
        "findings": {},
        "problem": None,
    }
    try:
        decision = await access.judge(index, name)
    except PipgateError as exc:
        return _render(
            request, principal, "project.html", verdict=None, **shown | {"problem": str(exc)}
        )
    shown["verdict"] = decision.verdict
    if not decision.by_name:
        files = await access.file_verdicts(decision)
        files.sort(key=lambda fv: (fv[0].upload_time is None, fv[0].upload_time), reverse=True)
        shown["files"] = files
        shown["by_file"] = {f.file: e for e in entries for f in e.files}
        shown["findings"] = await _scan_findings(state_of(request).scan, files)
    return _render(request, principal, "project.html", **shown)


async def _scan_findings(scan: FileScan, files: list[tuple[DistFile, Verdict]]) -> dict[str, Any]:
    """The scan reports of the files the scan objects to, by filename: a reviewer sees every
    finding (rule, weight, ``file:line``, detail), not only the heaviest three the reason
    names. Reports come from memory or the report folder; none is made here."""
    if not scan.active:
        return {}
    wanted = [
        (f.filename, f.sha256) for f, v in files if v.decision.policy == SCAN_POLICY and f.sha256
    ]
    if not wanted:
        return {}

    def look_up() -> dict[str, Any]:
        reports = {}
        for filename, sha256 in wanted:
            report = scan.flagged.get(sha256) or scan.verdicts.known(sha256)
            if report is not None and report.findings:
                reports[filename] = report
        return reports

    return await to_thread.run_sync(look_up)


@page
async def decisions(request: Request, principal: Principal) -> Response:
    q = request.query_params
    decision_log = state_of(request).decision_log
    found = await to_thread.run_sync(
        lambda: decision_log.search(q=q.get("q"), limit=200, action=q.get("action") or None)
    )
    return _render(
        request,
        principal,
        "decisions.html",
        decisions=found,
        q=q.get("q", ""),
        action=q.get("action", ""),
    )


@page
async def stats(request: Request, principal: Principal) -> Response:
    data = await to_thread.run_sync(review_of(request).stats, 48)
    labels = [when(h.hour)[11:16] for h in data.hours]
    series = {k: [getattr(h, k) for h in data.hours] for k in ("served", "quarantined", "blocked")}
    top = [
        (t.project + ("" if t.index == "default" else f" ({t.index})"), t.views + t.requests)
        for t in data.top_held
    ]
    return _render(
        request,
        principal,
        "stats.html",
        over_time=line_chart(labels, series),
        top=bar_chart(top),
        totals={k: sum(v) for k, v in series.items()},
        states=data.states,
    )


@page
async def lists(request: Request, principal: Principal) -> Response:
    review = review_of(request)
    rules, audit = await to_thread.run_sync(lambda: (review.rules(), review.audit(limit=50)))
    return _render(
        request,
        principal,
        "lists.html",
        rules=rules,
        audit=audit,
        indexes=list(state_of(request).gates),
        here=request.url.path,
    )


# -- actions ------------------------------------------------------------------------------


def _reason(form: dict[str, Any]) -> str:
    reason = str(form.get("reason", "")).strip()
    if not reason:
        raise ReviewError("give a reason")
    return reason


@action
async def decide_entry(request: Request, principal: Principal, form: dict[str, Any]) -> str:
    kind = str(form.get("kind"))
    if kind not in ("release", "reject"):
        raise ReviewError("choose release or reject")
    entry_id = request.path_params["entry"]
    fields: dict[str, Any] = {
        "scope": str(form.get("scope") or "") or None,
        "file": str(form.get("file") or "") or None,
        "reason": _reason(form),
        "actor": principal.name,
    }
    if kind == "release":
        fields["until"] = str(form.get("until") or "") or None
    else:
        fields["index"] = index_of(request, str(form.get("reject_on") or "") or None)
    rule = await to_thread.run_sync(lambda: getattr(review_of(request), kind)(entry_id, **fields))
    return _done(kind, rule)


@action
async def decide_target(request: Request, principal: Principal, form: dict[str, Any]) -> str:
    kind = str(form.get("kind"))
    index = str(form.get("index") or "default")
    if kind == "reject":
        index = str(form.get("reject_on") or "*")
    index = index_of(request, index) or "default"
    rule = await to_thread.run_sync(
        lambda: review_of(request).decide(
            kind,
            index=index,
            project=str(form.get("project", "")),
            version=str(form.get("version") or "") or None,
            file=str(form.get("file") or "") or None,
            until=str(form.get("until") or "") or None,
            reason=_reason(form),
            actor=principal.name,
        )
    )
    return _done(kind, rule)


def _done(kind: str, rule: Rule) -> str:
    return f"{PAST[kind]} {rule.target}" + _on(rule.index)


def _on(index: str) -> str:
    return " on every index" if index == "*" else f" on index {index}"


@action
async def list_change(request: Request, principal: Principal, form: dict[str, Any]) -> str:
    kind, change = request.path_params["kind"], request.path_params["change"]
    index = index_of(request, str(form.get("index") or "") or None)
    rule = str(form.get("rule", "")).strip()
    if change == "add":
        added = await to_thread.run_sync(
            lambda: review_of(request).list_add(
                kind, index=index, rule=rule, reason=_reason(form), actor=principal.name
            )
        )
        return f"added {rule!r} to the {kind} list" + _on(added.index)
    removed = await to_thread.run_sync(
        lambda: review_of(request).list_remove(
            kind, index=index, rule=rule, reason=str(form.get("reason") or ""), actor=principal.name
        )
    )
    return f"removed {rule!r} from the {kind} list" + _on(removed.index)


@page
async def sessions(request: Request, principal: Principal) -> Response:
    """Live sessions: one's own, or everyone's for an admin."""
    store = tokens_of(request).sessions
    assert store is not None
    name = None if principal.can("admin") else principal.name
    found = await to_thread.run_sync(lambda: store.list(name=name))
    return _render(
        request,
        principal,
        "sessions.html",
        sessions=[session_view(s, principal) for s in found],
        here=request.url.path,
    )


async def _end_session(request: Request, principal: Principal, form: dict[str, Any]) -> str:
    store = tokens_of(request).sessions
    assert store is not None
    session_id = request.path_params["session"]
    session = await to_thread.run_sync(store.get, session_id)
    if session is None or not (principal.can("admin") or session.name == principal.name):
        raise ReviewError(f"no session {session_id} of yours")
    reason = str(form.get("reason") or "").strip() or "ended from the console"
    await to_thread.run_sync(lambda: store.end(session_id, by=principal.name, reason=reason))
    return f"ended session {session_id} of {session.name}"


end_session = action(_end_session, scope="read")


async def use(request: Request) -> Response:
    """How to use each index: installer snippets with its URL filled in (no login:
    it tells only what ``/`` tells, in the form each tool wants)."""
    from pipgate.proxy.snippets import snippets

    settings = state_of(request).settings
    base = str(request.base_url)
    hosted = set(settings.hosted_indexes())
    indexes = [
        (
            name,
            snippets(
                base,
                name,
                needs_token=settings.admin.package_auth,
                hosted=name in hosted,
            ),
        )
        for name in settings.index_names
    ]
    return _render(request, await session_of(request), "use.html", indexes=indexes)


def routes() -> list[BaseRoute]:
    return [
        Route("/use", use, methods=["GET"]),
        Route("/", queue, methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/entries/{entry:int}", entry, methods=["GET"]),
        Route("/entries/{entry:int}/decide", decide_entry, methods=["POST"]),
        Route("/decide", decide_target, methods=["POST"]),
        Route("/projects/{index}/{project}", project, methods=["GET"]),
        Route("/decisions", decisions, methods=["GET"]),
        Route("/stats", stats, methods=["GET"]),
        Route("/lists", lists, methods=["GET"]),
        Route("/lists/{kind:str}/{change:str}", list_change, methods=["POST"]),
        Route("/sessions", sessions, methods=["GET"]),
        Route("/sessions/{session:int}/end", end_session, methods=["POST"]),
    ]
