"""``GET /<index>/holds/<project>``: what an index withholds of a project, and why.

An installer only sees what is served; ``pipgate warm`` (and a person) ask this to
report what is held: the project verdict and, file by file, each held file with
the policy, the reason and when it becomes available by itself. It tells no more
than the refusals of those files' URLs would (a 403 with the same reason), records
nothing and creates no quarantine entry: it is a question, not a request for files.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from pipgate.policies.decision import Decision
from pipgate.policies.engine import Verdict
from pipgate.proxy.state import state_of


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "action": str(decision.action),
        "policy": decision.policy,
        "reason": decision.reason,
        "available_at": (
            decision.available_at.astimezone(UTC).isoformat()
            if decision.available_at is not None
            else None
        ),
    }


def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    return decision_json(verdict.decision)


async def project_holds(request: Request) -> Response:
    from pipgate.proxy import views  # the request helpers live there

    raw = request.path_params["project"]
    name = views.normalized_or_raise(raw)
    prefix = views.index_prefix(request)
    if raw != name:
        return RedirectResponse(f"{prefix}/holds/{name}", status_code=301)
    access = state_of(request).access
    index = views.index_of(request)
    body: dict[str, Any] = {"project": name, "index": index, "held": []}
    decision = await access.judge(index, name)  # records nothing: a question
    body |= _verdict_json(decision.verdict)
    if decision.allowed:
        view = await access.view(decision)
        body["held"] = [
            {"filename": f.filename, "version": str(f.version) if f.version else None}
            | _verdict_json(verdict)
            for f, verdict in view.held
        ]
    return JSONResponse(body)
