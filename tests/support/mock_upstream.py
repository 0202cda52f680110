"""A scripted upstream in process: pipgate whole against an ``httpx.MockTransport``
(``app_on_mock_upstream``), and the PEP 691 pages such an upstream answers with."""

from __future__ import annotations

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
from tests.support.proxies import utc_now

UPSTREAM = "https://up.example/simple/"
FILES = "https://files.example"
#: The headers of a PEP 691 JSON answer.
JSON = {"content-type": "application/vnd.pypi.simple.v1+json"}
OLD = "2024-01-01T00:00:00Z"

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
