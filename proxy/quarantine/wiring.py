"""How quarantine review plugs into the app: a few calls from ``app.py``.

``token_book``, ``templates`` and ``install`` (in ``create_app``) make the token
book and the console's templates and add the package-auth and traffic middleware; ``open_review`` and ``attach`` (in the
lifespan) build the ``Review`` whose overrides the gates take, feed it the
recorder's holds and keep console sessions in its store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipgate.proxy.config.settings import Settings
from pipgate.proxy.observe.access_log import route_of
from pipgate.proxy.quarantine import api, console
from pipgate.proxy.quarantine.auth import PackageAuth, TokenBook
from pipgate.proxy.quarantine.review import Review
from pipgate.proxy.state import AppState, state_of
from pipgate.proxy.storage.sql import Database

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def routes() -> list[BaseRoute]:
    return [
        Mount("/-/admin", routes=api.routes()),
        Mount("/-/ui", routes=console.routes()),
        Mount("/-/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]


def token_book(settings: Settings) -> TokenBook:
    """The configured admin tokens; console sessions are attached in the lifespan."""
    admin = settings.admin
    return TokenBook(
        admin.tokens,
        ttl=admin.session_ttl.total_seconds(),
        idle=admin.session_idle.total_seconds(),
    )


def templates() -> Jinja2Templates:
    return console.build_templates()


def install(app: Starlette, settings: Settings, tokens: TokenBook) -> None:
    app.add_middleware(Traffic)
    if settings.admin.package_auth:
        app.add_middleware(PackageAuth, tokens=tokens)


def open_review(
    settings: Settings, clock: Callable[[], datetime], *, database: Database | None = None
) -> Review:
    """The review of the data directory's SQLite store, or of ``database`` (PostgreSQL)."""
    return Review(
        settings.cache.data_dir,
        clock=clock,
        database=database,
        webhook_url=settings.admin.webhook_url,
        webhook_retries=settings.admin.webhook_retries,
        webhook_interval=settings.admin.webhook_interval.total_seconds(),
    )


def attach(state: AppState) -> None:
    """Keep console sessions in the review store and feed it the recorder's holds."""
    review = state.review
    state.tokens.use_sessions(review.store, review.clock)
    # Holds judged by name alone become entries only for projects known to exist.
    review.intake.page_known = state.index_cache.has_page
    state.recorder.listeners.append(review.intake)
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
                parts = scope["path"].split("/")
                index = "default" if parts[1] == "files" else parts[1]
                state_of(scope).review.intake.count(index, "served")
            await send(message)

        await self.app(scope, receive, counting)
