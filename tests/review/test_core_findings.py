"""Regression tests for bugs found in a review of the core request path.

Each test names the failure it demonstrates; most run the whole app against an
``httpx.MockTransport`` upstream (``app_with``) so no ports are needed.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from pipgate.proxy.app import create_app
from pipgate.proxy.config.settings import deep_merge, load_settings
from pipgate.proxy.errors import UpstreamUnavailable
from pipgate.proxy.index.cache import IndexCache
from pipgate.proxy.upstream.client import UpstreamClient, UpstreamConfig

JSON = {"content-type": "application/vnd.pypi.simple.v1+json"}
OLD = "2024-01-01T00:00:00Z"


def page(files: list[dict[str, Any]], name: str = "demo") -> bytes:
    import orjson

    return orjson.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files})


def entry(filename: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "filename": filename,
        "url": f"https://files.example/{filename}",
        "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
        "size": len(data),
        "upload-time": OLD,
        **extra,
    }


@contextmanager
def app_with(tmp_path: Path, handler: Callable[[httpx.Request], Any], **config: Any):
    base = {
        "upstream": {
            "url": "https://up.example/simple/",
            "retries": 0,
            "backoff": 0,
            "file_hosts": ["https://files.example"],
        },
        "cache": {"data_dir": str(tmp_path / "data")},
        "server": {"access_log": False},
    }
    settings = load_settings(None, environ={}, overrides=deep_merge(base, config))
    app = create_app(
        settings,
        clock=lambda: datetime.now(UTC),
        transport=httpx.MockTransport(handler),
        corpus=["colorama", "requests"],
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def index_cache(
    tmp_path: Path, handler: Callable[[httpx.Request], Any], clock: Clock
) -> IndexCache:
    upstream = UpstreamClient(
        UpstreamConfig(url="https://up.example/simple/", retries=0, backoff=0),
        transport=httpx.MockTransport(handler),
    )
    return IndexCache(tmp_path / "index", upstream, ttl=60, negative_ttl=10, clock=clock)


# -- malformed upstream pages ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        # one entry with an unparseable URL must drop that entry, not the page
        (
            "application/vnd.pypi.simple.v1+json",
            page(
                [
                    {"filename": "demo-0.9.tar.gz", "url": "http://[broken/demo-0.9.tar.gz"},
                    entry("demo-1.0.tar.gz", b"x"),
                ]
            ),
        ),
        (
            "text/html",
            b'<a href="http://[broken/demo-0.9.tar.gz">d</a>'
            b'<a href="https://files.example/demo-1.0.tar.gz">d</a>',
        ),
        (
            "text/html",
            b'<a href="https://files.example/demo-0.9.tar.gz" data-provenance="http://[x/p">d</a>'
            b'<a href="https://files.example/demo-1.0.tar.gz">d</a>',
        ),
    ],
)
def test_an_entry_with_an_invalid_url_is_skipped_not_a_500(tmp_path, content_type, body):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    no_age = {"policies": {"release_age": {"mode": "off"}}}  # HTML pages carry no upload times
    with app_with(tmp_path, handler, **no_age) as client:
        response = client.get(
            "/simple/demo/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        )
    assert response.status_code == 200, response.text
    assert "demo-1.0.tar.gz" in response.text


@pytest.mark.parametrize(
    "body",
    [
        b'<base href="http://[broken/"><a href="demo-1.0.tar.gz">d</a>',
        b"<html><![ oops",  # html.parser raises AssertionError on this
    ],
)
def test_an_unparseable_html_page_is_a_502_and_a_cached_copy_is_served_stale(tmp_path, body):
    good = [True]

    def handler(request: httpx.Request) -> httpx.Response:
        if good[0]:
            return httpx.Response(200, content=page([entry("demo-1.0.tar.gz", b"x")]), headers=JSON)
        return httpx.Response(200, content=body, headers={"content-type": "text/html"})

    clock = Clock()
    cache = index_cache(tmp_path, handler, clock)
    good[0] = False
    with pytest.raises(UpstreamUnavailable):
        asyncio.run(cache.get("other"))
    good[0] = True
    asyncio.run(cache.get("demo"))
    clock.now += 61
    good[0] = False
    stale = asyncio.run(cache.get("demo"))
    assert stale.stale_since is not None


def test_a_304_to_an_unconditional_request_is_a_502_not_a_500(tmp_path):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(304)

    with app_with(tmp_path, handler) as client:
        response = client.get("/simple/demo/")
    assert response.status_code == 502, response.text


# -- cache invalidation -------------------------------------------------------------------------


def test_a_project_that_returns_after_a_404_is_not_served_its_old_rendered_page(tmp_path):
    """The page revision restarted at 1 after an upstream 404 dropped the cached page,
    so the renderer's cached bytes of the *old* page (also revision 1) were served."""
    answers = [
        httpx.Response(200, content=page([entry("demo-1.0.tar.gz", b"old")]), headers=JSON),
        httpx.Response(404),
        httpx.Response(200, content=page([entry("demo-2.0.tar.gz", b"new")]), headers=JSON),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    with app_with(tmp_path, handler, cache={"index_ttl": "0s", "negative_ttl": "0s"}) as client:
        assert "demo-1.0.tar.gz" in client.get("/simple/demo/").text
        assert client.get("/simple/demo/").status_code == 404
        again = client.get("/simple/demo/")
    assert "demo-2.0.tar.gz" in again.text
    assert "demo-1.0.tar.gz" not in again.text


def test_a_page_loaded_from_disk_while_a_404_drops_it_is_not_resurrected(tmp_path):
    """A request that read the page from disk just before another request's upstream
    404 deleted it put the old page back in memory; once the negative entry lapsed,
    an upstream failure served that page stale: a takedown undone."""
    import threading

    clock = Clock()
    state = {"status": 200}

    def handler(request: httpx.Request) -> httpx.Response:
        if state["status"] == 200:
            return httpx.Response(200, content=page([entry("demo-1.0.tar.gz", b"x")]), headers=JSON)
        return httpx.Response(state["status"])

    cache = index_cache(tmp_path, handler, clock)
    release, loading = threading.Event(), threading.Event()
    real_load = cache._load
    calls = []

    def slow_load(name):
        calls.append(name)
        if len(calls) == 1:
            found = real_load(name)
            loading.set()
            release.wait(5)
            return found
        return real_load(name)

    async def scenario():
        from pipgate.proxy.errors import UpstreamNotFound

        await cache.get("demo")
        cache._memory.clear()  # evicted from memory; still on disk
        clock.now += 61
        cache._load = slow_load
        state["status"] = 404
        first = asyncio.create_task(cache.get("demo"))
        await asyncio.to_thread(loading.wait, 5)
        with pytest.raises(UpstreamNotFound):
            await cache.get("demo")  # upstream 404: the page is deleted
        release.set()
        with pytest.raises(UpstreamNotFound):
            await first
        clock.now += 11  # the negative entry lapses; upstream now fails
        state["status"] = 503
        with pytest.raises(UpstreamUnavailable):
            await cache.get("demo")

    asyncio.run(scenario())


def test_upstream_404s_for_many_names_do_not_grow_memory_without_bound(tmp_path):
    clock = Clock()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404)

    cache = index_cache(tmp_path, handler, clock)

    async def scenario():
        from pipgate.proxy.errors import UpstreamNotFound

        for n in range(3000):
            clock.now += 1  # each entry has lapsed long before the last request
            with pytest.raises(UpstreamNotFound):
                await cache.get(f"missing-{n}")

    asyncio.run(scenario())
    assert len(cache._negative) <= 1100


# -- files from upstream ------------------------------------------------------------------------


def test_a_file_served_with_a_content_encoding_is_stored_as_sent(tmp_path):
    """Apache's classic ``AddEncoding x-gzip .gz`` labels a .tar.gz ``Content-Encoding:
    gzip``. The index's sha256 and size are of the bytes as sent; httpx decoded them,
    so a good file was refused (502). pip asks for ``identity`` and reads raw bytes too."""
    from tests.support.archives import pkg_info
    from tests.support.archives import sdist as tar_gz

    # A real .tar.gz: the content scan holds a file that is not an archive.
    sdist = tar_gz({"PKG-INFO": pkg_info(), "demo/__init__.py": "x = 1\n"})
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/simple/"):
            return httpx.Response(
                200, content=page([entry("demo-1.0.tar.gz", sdist)]), headers=JSON
            )
        seen.append(request)

        async def as_sent():  # streamed, as from a real server (not pre-read by httpx)
            yield sdist

        return httpx.Response(
            200,
            content=as_sent(),
            headers={"content-encoding": "gzip", "content-length": str(len(sdist))},
        )

    with app_with(tmp_path, handler) as client:
        response = client.get(
            "/files/demo/demo-1.0.tar.gz", headers={"Accept-Encoding": "identity"}
        )
    assert response.status_code == 200, response.text
    assert response.content == sdist
    assert seen[0].headers["accept-encoding"] == "identity"


def test_json_file_urls_lose_their_fragment_so_metadata_is_fetched_from_the_right_url(tmp_path):
    """A JSON page whose file URL carries ``#sha256=...`` made the PEP 658 URL
    ``<file>#sha256=...metadata``: the wheel itself was fetched as its metadata."""
    wheel, metadata = b"PK wheel bytes", b"Metadata-Version: 2.1\nName: demo\n"
    listed = entry("demo-1.0-py3-none-any.whl", wheel, **{"core-metadata": True})
    listed["url"] += "#sha256=" + listed["hashes"]["sha256"]
    fetched: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/simple/"):
            return httpx.Response(200, content=page([listed]), headers=JSON)
        fetched.append(request.url.path)
        if request.url.path.endswith(".metadata"):
            return httpx.Response(200, content=metadata)
        return httpx.Response(200, content=wheel)

    with app_with(tmp_path, handler) as client:
        response = client.get("/files/demo/demo-1.0-py3-none-any.whl.metadata")
    assert response.status_code == 200, response.text
    assert response.content == metadata
    assert fetched == ["/demo-1.0-py3-none-any.whl.metadata"]


def test_a_huge_project_page_is_refused_not_read_whole_into_memory(tmp_path):
    chunks = [0]

    async def endless():
        while chunks[0] < 10_000:  # ~2.5 GB if nothing stops reading
            chunks[0] += 1
            yield b"<a>" + b"x" * (256 * 1024) + b"</a>"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless(), headers={"content-type": "text/html"})

    upstream = UpstreamClient(
        UpstreamConfig(url="https://up.example/simple/", retries=0, backoff=0, page_limit=1 << 20),
        transport=httpx.MockTransport(handler),
    )
    with pytest.raises(UpstreamUnavailable, match="larger than"):
        asyncio.run(upstream.get_project("demo"))
    assert chunks[0] < 10


# -- headers ------------------------------------------------------------------------------------


def test_a_reason_with_control_characters_makes_safe_headers():
    """A reviewer's reason typed in a textarea arrives with CRLF line breaks; only
    ``\\n`` was replaced, so ``\\r`` reached the X-Pipgate-Reason header (h11 refuses
    the response; httptools writes it raw: a header split)."""
    from pipgate.policies.decision import Action, Decision
    from pipgate.policies.engine import Verdict
    from pipgate.proxy.views import _decision_headers

    decision = Decision(Action.BLOCK, "review", "rejected by ana: bad\r\nX-Evil: 1\x00\x7f")
    verdict = Verdict(decision, (decision,))
    headers = _decision_headers(verdict)
    for value in headers.values():
        assert all(32 <= ord(c) < 127 or 160 <= ord(c) < 256 or c == "\t" for c in value), value


# -- concurrency --------------------------------------------------------------------------------


def test_a_failed_page_fetch_nobody_waits_for_is_not_an_unretrieved_exception(tmp_path):
    """When the only client of a cold page hangs up, the shared fetch goes on; if it then
    failed, asyncio logged 'Task exception was never retrieved'."""
    import gc

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return httpx.Response(503)

    clock = Clock()
    cache = index_cache(tmp_path, handler, clock)
    problems: list[dict[str, Any]] = []

    async def scenario():
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: problems.append(ctx))
        client = asyncio.create_task(cache.get("demo"))
        await asyncio.sleep(0.01)
        client.cancel()
        await asyncio.sleep(0.2)
        gc.collect()
        await asyncio.sleep(0)

    asyncio.run(scenario())
    assert not [p for p in problems if "never retrieved" in p.get("message", "")], problems


def test_replacing_an_index_policies_always_changes_its_generation():
    """``generation`` used ``id(policies)``: a new PolicySet allocated where a freed one
    lived has the same id, so pages rendered under the old policies were reused."""
    from pipgate.policies.engine import PolicySet
    from pipgate.proxy.gate import Gate

    gate = Gate("default", PolicySet(()), clock=lambda: datetime.now(UTC))
    seen = {gate.generation}
    for _ in range(50):
        gate.policies = PolicySet(())
        assert gate.generation not in seen
        seen.add(gate.generation)


def test_metadata_the_page_advertises_is_served_after_the_store_evicted_it(tmp_path):
    """Metadata extracted from a cached wheel is advertised (with its hash) by the page;
    when the LRU store evicted that metadata entry, ``.metadata`` answered 404, and pip
    fails an install whose advertised metadata cannot be fetched."""
    import io
    import zipfile

    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("demo-1.0.dist-info/METADATA", metadata)
    wheel = buffer.getvalue()
    name = "demo-1.0-py3-none-any.whl"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/simple/"):
            return httpx.Response(200, content=page([entry(name, wheel)]), headers=JSON)
        return httpx.Response(200, content=wheel)

    json_v1 = {"Accept": "application/vnd.pypi.simple.v1+json"}
    with app_with(tmp_path, handler) as client:
        assert client.get(f"/files/demo/{name}").content == wheel
        # The client has the file once it is verified; it is kept (its metadata
        # extracted) just after, and the page advertises the metadata from then on.
        deadline = time.monotonic() + 10
        while "core-metadata" not in (
            listed := client.get("/simple/demo/", headers=json_v1).json()["files"][0]
        ):
            assert time.monotonic() < deadline, listed
            time.sleep(0.01)
        assert listed["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
        store = client.app.state.pipgate.store
        store._cache.delete("metadata:" + hashlib.sha256(wheel).hexdigest())  # LRU eviction
        response = client.get(f"/files/demo/{name}.metadata")
        assert response.status_code == 200, response.text
        assert response.content == metadata
        for key in ("metadata:", "file:"):  # the wheel evicted too: fetched again
            store._cache.delete(key + hashlib.sha256(wheel).hexdigest())
        again = client.get(f"/files/demo/{name}.metadata")
    assert again.status_code == 200, again.text
    assert again.content == metadata


def test_a_wheel_whose_metadata_inflates_to_gigabytes_is_not_read_into_memory(tmp_path):
    """Every committed wheel has its METADATA extracted; a wheel (any PyPI upload)
    whose METADATA member inflates to gigabytes was read whole into memory."""
    import zipfile

    from pipgate.proxy.files.store import extract_wheel_metadata

    wheel = tmp_path / "bomb-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb-1.0.dist-info/METADATA", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(80):  # 80 MiB inflated, ~80 KiB on disk
                member.write(block)
    assert wheel.stat().st_size < 1 << 20
    assert extract_wheel_metadata(wheel) is None
