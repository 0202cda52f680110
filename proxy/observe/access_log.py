"""ASGI middleware: a request id on every response, one access-log line, request metrics.

The access-log record carries its fields as ``extra`` (``request_id``, ``client``,
``method``, ``path``, ``status``, ``bytes``, ``duration_ms``) for JSON logs; its text
has every control character escaped (``log_format``).
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipgate.proxy.observe.log_format import escape_control
from pipgate.proxy.observe.metrics import Metrics, children

log = logging.getLogger("pipgate.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def route_of(path: str) -> str:
    """A low-cardinality label for ``path``, for metrics."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "root"
    if parts[0] in {"healthz", "readyz", "metrics"}:
        return parts[0]
    if parts[0] == "-":
        return parts[1] if len(parts) > 1 and parts[1] in {"admin", "ui"} else "other"
    if len(parts) > 1 and parts[1] in {"simple", "files"}:
        parts = parts[1:]
    if parts[0] == "simple":
        return "simple-index" if len(parts) == 1 else "project-page"
    if parts[0] == "files":
        if path.endswith(".metadata"):
            return "metadata"
        return "provenance" if path.endswith(".provenance") else "file"
    return "other"


class AccessLog:
    def __init__(self, app: ASGIApp, metrics: Metrics, *, enabled: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self._requests = children(metrics.requests)
        self.enabled = enabled
        # 16 hex digits, as uuid4().hex[:16] gave: a random half per process and a
        # counter (a uuid4 per request cost an os.urandom call, 6% of a warm page).
        prefix, numbers = secrets.token_hex(4), itertools.count(secrets.randbelow(1 << 32))
        self._new_id = lambda: f"{prefix}{next(numbers) & 0xFFFFFFFF:08x}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else self._new_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        sent = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = scope.get("path", "")
            self._requests(route_of(path), str(status)).inc()
            if self.enabled:
                client = scope.get("client") or ("-", 0)
                fields = {
                    "request_id": request_id,
                    "client": str(client[0]),
                    "method": str(scope.get("method", "-")),
                    "path": path,
                    "status": status,
                    "bytes": sent,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                }
                # The path is percent-decoded and the client may come from X-Forwarded-For:
                # a "%0a" must not start a line of its own, whatever formats the record.
                log.info(
                    '%s %s "%s %s" %d %d %.1fms',
                    *(
                        escape_control(fields[k])
                        for k in ("request_id", "client", "method", "path")
                    ),
                    status,
                    sent,
                    fields["duration_ms"],
                    extra=fields,
                )
