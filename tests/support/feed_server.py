"""A tiny HTTP server for one feed zip, with ETag/Last-Modified, 304 and failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.support.servers import run_app

PATH = "/PyPI/all.zip"


@dataclass
class FeedServer:
    """Serves ``body`` at ``/PyPI/all.zip``; ``fail`` makes it answer 500 (or, with
    ``"garbage"``, 200 with bytes that are no zip; with ``"chunked"``, the body
    without a Content-Length). ``requests`` keeps each request's
    conditional headers and ``statuses`` each status sent."""

    body: bytes = b""
    etag: str = '"v1"'
    last_modified: str = "Wed, 01 Jan 2025 00:00:00 GMT"
    fail: str | None = None
    requests: list[dict[str, str | None]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def publish(self, body: bytes, etag: str) -> None:
        self.body, self.etag = body, etag

    async def _zip(self, request: Request) -> Response:
        self.requests.append(
            {
                "if-none-match": request.headers.get("if-none-match"),
                "if-modified-since": request.headers.get("if-modified-since"),
            }
        )
        if self.fail == "500":
            response = Response(b"broken", status_code=500)
        elif self.fail == "garbage":
            response = Response(b"<html>maintenance</html>" * 10, media_type="application/zip")
        elif self.fail == "chunked":  # no Content-Length: only the bytes tell the size

            async def chunks():  # type: ignore[no-untyped-def]
                for at in range(0, len(self.body), 64):
                    yield self.body[at : at + 64]

            response = StreamingResponse(chunks(), media_type="application/zip")
        elif request.headers.get("if-none-match") == self.etag:
            response = Response(status_code=304, headers={"ETag": self.etag})
        else:
            response = Response(
                self.body,
                media_type="application/zip",
                headers={"ETag": self.etag, "Last-Modified": self.last_modified},
            )
        self.statuses.append(response.status_code)
        return response

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve on a free loopback port; yields the feed's URL."""
        app = Starlette(routes=[Route(PATH, self._zip)])
        with run_app(app) as url:
            yield url + PATH
