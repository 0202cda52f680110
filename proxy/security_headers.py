"""ASGI middleware: a Content-Security-Policy and ``nosniff`` on every response.

The Simple API pages repeat what upstream wrote (filenames, yanked reasons,
status reasons) on the console's own origin, so a browser must never run or
load anything from them: they get ``default-src 'none'``. The console (no
JavaScript; one stylesheet; inline SVG charts) gets a policy that allows just
that. ``nosniff`` keeps a browser from reading a text or JSON body as HTML.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'"
CONSOLE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
CONSOLE_PREFIXES = ("/-/ui/", "/-/static/")


def policy_for(path: str) -> str:
    """The Content-Security-Policy of the response to ``path``."""
    return CONSOLE_CSP if path.startswith(CONSOLE_PREFIXES) or path == "/-/ui" else API_CSP


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = [
            (b"content-security-policy", policy_for(scope.get("path", "")).encode()),
            (b"x-content-type-options", b"nosniff"),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)
