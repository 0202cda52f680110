"""How quarantine review plugs into the app: a few calls from ``app.py``.

``install`` (in ``create_app``) adds the package-auth and traffic middleware
and the token book; ``open_review`` and ``attach`` (in the lifespan) build the
``Review`` whose overrides the gates take, feed it the recorder's holds, keep
console sessions in its store and set the per-client limit on refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipgate.proxy.config.settings import Settings
from pipgate.proxy.observe.access_log import route_of
from pipgate.proxy.quarantine import api, console
from pipgate.proxy.quarantine.auth import PackageAuth, TokenBook
from pipgate.proxy.quarantine.review import Review
from pipgate.proxy.rate_limit import ClientBuckets
from pipgate.proxy.services import Services

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def routes() -> list[BaseRoute]:
    return [
        Mount("/-/admin", routes=api.routes()),
        Mount("/-/ui", routes=console.routes()),
        Mount("/-/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]


def install(app: Starlette, settings: Settings) -> None:
    admin = settings.admin
    tokens = TokenBook(
        admin.tokens,
        ttl=admin.session_ttl.total_seconds(),
        idle=admin.session_idle.total_seconds(),
    )
    app.state.admin_tokens = tokens
    app.add_middleware(Traffic)
    if admin.package_auth:
        app.add_middleware(PackageAuth, tokens=tokens)


def open_review(settings: Settings, clock: Callable[[], datetime]) -> Review:
    return Review(
        settings.cache.data_dir,
        clock=clock,
        webhook_url=settings.admin.webhook_url,
        webhook_retries=settings.admin.webhook_retries,
        webhook_interval=settings.admin.webhook_interval.total_seconds(),
    )


def attach(app: Starlette, services: Services, review: Review) -> None:
    services.extras["review"] = review
    services.extras["tokens"] = app.state.admin_tokens
    app.state.admin_tokens.use_sessions(review.store, review.clock)
    admin = services.settings.admin
    if admin.hold_limit > 0:
        services.extras["hold_limiter"] = ClientBuckets(admin.hold_limit / 60, admin.hold_burst)
    # Holds judged by name alone become entries only for projects known to exist.
    review.intake.page_known = services.index_cache.has_page
    services.recorder.listeners.append(review.intake)
    review.start()


class Traffic:
    """Counts files served (200 on a file route) per index and hour, for the charts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or route_of(scope["path"]) != "file":
            await self.app(scope, receive, send)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                review = scope["app"].state.services.extras.get("review")
                if review is not None:
                    parts = scope["path"].split("/")
                    review.intake.count("default" if parts[1] == "files" else parts[1], "served")
            await send(message)

        await self.app(scope, receive, counting)
