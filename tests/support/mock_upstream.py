"""A scripted upstream in process: pipgate whole against an ``httpx.MockTransport``
(``app_on_mock_upstream``), the PEP 691 pages such an upstream answers with, and one for
the caches alone (``ScriptedUpstream``, under an ``index_cache``)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.testclient import TestClient

from pipgate.proxy.app import create_app
from pipgate.proxy.config.settings import deep_merge, load_settings
from pipgate.proxy.index.cache import IndexCache
from pipgate.proxy.upstream.client import UpstreamClient, UpstreamConfig
from tests.support.proxies import utc_now

UPSTREAM = "https://up.example/simple/"
FILES = "https://files.example"
#: The headers of a PEP 691 JSON answer.
JSON = {"content-type": "application/vnd.pypi.simple.v1+json"}
OLD = "2024-01-01T00:00:00Z"
#: A PEP 691 page of ``demo`` with no files.
EMPTY_PAGE = b'{"meta": {"api-version": "1.1"}, "name": "demo", "files": []}'

Handler = Callable[[httpx.Request], Any]


def json_page(files: list[dict[str, Any]], name: str = "demo") -> bytes:
    """A PEP 691 project page listing ``files`` (see ``json_entry``)."""
    return orjson.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files})


def json_entry(filename: str, data: bytes, **extra: Any) -> dict[str, Any]:
    """The entry of a file holding ``data``, served from ``FILES``, uploaded long ago."""
    return {
        "filename": filename,
        "url": f"{FILES}/{filename}",
        "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
        "size": len(data),
        "upload-time": OLD,
        **extra,
    }


@contextmanager
def app_on_mock_upstream(tmp_path: Path, handler: Handler, **config: Any) -> Iterator[TestClient]:
    """pipgate in process (lifespan running, server errors answered as 500s), its upstream
    ``UPSTREAM`` (files on ``FILES``) answered by ``handler``, with no retries.

    ``config`` tables are merged over that; the corpus is colorama and requests.
    """
    base = {
        "upstream": {"url": UPSTREAM, "retries": 0, "backoff": 0, "file_hosts": [FILES]},
        "cache": {"data_dir": str(tmp_path / "data")},
        "server": {"access_log": False},
    }
    settings = load_settings(None, environ={}, overrides=deep_merge(base, config))
    app = create_app(
        settings,
        clock=utc_now,
        transport=httpx.MockTransport(handler),
        corpus=["colorama", "requests"],
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


class ScriptedUpstream:
    """An upstream behind ``httpx.MockTransport`` for the caches: ``page(request)`` answers
    ``/simple/`` paths (``EMPTY_PAGE`` with an etag unless a test sets it), anything else is
    ``file_body``; a gate, while set to an unset event, holds its answers; ``calls`` are
    the requests seen."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []
        self.page = lambda request: httpx.Response(
            200, content=EMPTY_PAGE, headers={**JSON, "etag": '"1"'}
        )
        self.file_body = b"x" * 1000
        self.file_gate: asyncio.Event | None = None
        self.page_gate: asyncio.Event | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if request.url.path.startswith("/simple/"):
            if self.page_gate is not None:
                await self.page_gate.wait()
            return self.page(request)
        if self.file_gate is not None:
            await self.file_gate.wait()
        return httpx.Response(200, content=self.file_body)

    def client(self) -> UpstreamClient:
        return UpstreamClient(
            UpstreamConfig(url="https://up.example/simple/", retries=0, backoff=0),
            transport=httpx.MockTransport(self),
        )


def index_cache(
    tmp_path: Path, upstream: ScriptedUpstream, clock: list[float], **kw: Any
) -> IndexCache:
    """An ``IndexCache`` under ``tmp_path`` on ``upstream``, its time ``clock[0]``."""
    return IndexCache(
        tmp_path / "index", upstream.client(), ttl=60, negative_ttl=10, clock=lambda: clock[0], **kw
    )
