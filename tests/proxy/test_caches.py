"""index_cache.py, file_store.py and downloads.py against httpx.MockTransport."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import time

import httpx
import pytest

from pipgate.proxy.errors import IntegrityError, UpstreamNotFound, UpstreamUnavailable
from pipgate.proxy.files.downloads import Downloads, open_unstored
from pipgate.proxy.files.store import FileStore, extract_wheel_metadata
from tests.support.mock_upstream import (
    EMPTY_PAGE as PAGE,
)
from tests.support.mock_upstream import (
    JSON,
    ScriptedUpstream,
    app_on_mock_upstream,
    index_cache,
    json_entry,
    json_page,
)


@pytest.fixture
def clock():
    now = [1000.0]
    return now


async def test_fresh_page_is_served_from_cache_then_revalidated(tmp_path, clock):
    upstream = ScriptedUpstream()
    pages = index_cache(tmp_path, upstream, clock)
    first = await pages.get("demo")
    await pages.get("demo")
    assert len(upstream.calls) == 1
    clock[0] += 61
    upstream.page = lambda request: httpx.Response(304)
    again = await pages.get("demo")
    assert len(upstream.calls) == 2
    assert upstream.calls[1].headers["if-none-match"] == '"1"'
    assert again.page.revision == first.page.revision
    assert again.stale_since is None


async def test_stale_copy_when_upstream_fails_and_error_when_nothing_cached(tmp_path, clock):
    upstream = ScriptedUpstream()
    pages = index_cache(tmp_path, upstream, clock)
    await pages.get("demo")
    clock[0] += 61
    upstream.page = lambda request: httpx.Response(503)
    stale = await pages.get("demo")
    assert stale.stale_since == 1000.0
    assert "503" in stale.stale_reason
    with pytest.raises(UpstreamUnavailable, match="other"):
        await pages.get("other")


async def test_past_its_ttl_a_page_is_served_stale_while_one_refresh_waits(tmp_path, clock):
    upstream = ScriptedUpstream()
    pages = index_cache(tmp_path, upstream, clock, revalidate_wait=0.05)
    first = await pages.get("demo")
    clock[0] += 61
    upstream.page_gate = asyncio.Event()  # upstream takes its time
    waited = await pages.get("demo")
    at_once = await pages.get("demo")
    assert len(upstream.calls) == 2  # one refresh for both
    for result in (waited, at_once):
        assert result.page is first.page
        assert result.stale_since == 1000.0
        assert "has not answered for project 'demo' within 0.05 s" in result.stale_reason
    upstream.page = lambda request: httpx.Response(
        200, content=PAGE.replace(b'"files": []', b'"files": [], "versions": ["1.0"]'), headers=JSON
    )
    upstream.page_gate.set()
    await pages.wait_idle()
    refreshed = await pages.get("demo")
    assert refreshed.stale_since is None
    assert refreshed.page.revision == first.page.revision + 1
    assert len(upstream.calls) == 2


async def test_after_a_failed_refresh_upstream_is_not_asked_for_refresh_backoff(tmp_path, clock):
    upstream = ScriptedUpstream()
    pages = index_cache(tmp_path, upstream, clock, refresh_backoff=30)
    await pages.get("demo")
    clock[0] += 61
    upstream.page = lambda request: httpx.Response(503)
    for _ in range(3):
        assert "503" in (await pages.get("demo")).stale_reason
    assert len(upstream.calls) == 2
    clock[0] += 30
    upstream.page = lambda request: httpx.Response(200, content=PAGE, headers=JSON)
    assert (await pages.get("demo")).stale_since is None
    assert len(upstream.calls) == 3


async def test_upstream_404_is_remembered_and_drops_the_cached_copy(tmp_path, clock):
    upstream = ScriptedUpstream()
    pages = index_cache(tmp_path, upstream, clock)
    await pages.get("demo")
    clock[0] += 61
    upstream.page = lambda request: httpx.Response(404)
    for _ in range(2):
        with pytest.raises(UpstreamNotFound):
            await pages.get("demo")
    assert len(upstream.calls) == 2  # the second 404 came from the negative cache
    clock[0] += 11
    upstream.page = lambda request: httpx.Response(200, content=PAGE, headers=JSON)
    assert (await pages.get("demo")).stale_since is None


async def test_concurrent_misses_share_one_request_and_persist(tmp_path, clock):
    upstream = ScriptedUpstream()
    pages = index_cache(tmp_path, upstream, clock)
    results = await asyncio.gather(*(pages.get("demo") for _ in range(10)))
    assert len(upstream.calls) == 1
    assert len({id(r.page) for r in results}) == 1
    await pages.wait_idle()  # written to disk in the background
    pages.close()
    reopened = index_cache(tmp_path, upstream, clock)
    await reopened.get("demo")
    assert len(upstream.calls) == 1
    assert reopened.known_projects() == ["demo"]


def test_file_store_commits_whole_files_and_cleans_temporaries(tmp_path):
    store = FileStore(tmp_path, size_limit=10**6)
    leftover = store.new_temp_path()
    leftover.write_bytes(b"partial")
    store.close()
    store = FileStore(tmp_path, size_limit=10**6)
    assert not leftover.exists()
    temp = store.new_temp_path()
    temp.write_bytes(b"abc")
    store.commit("a" * 64, temp)
    assert not temp.exists()
    with store.open("a" * 64) as handle:
        assert handle.read() == b"abc"
    assert store.open("b" * 64) is None


def test_extract_wheel_metadata(tmp_path):
    import zipfile

    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo-1.0.dist-info/METADATA", "Name: demo\n")
        archive.writestr("demo/x.dist-info/METADATA", "nested, ignored")
    assert extract_wheel_metadata(wheel) == b"Name: demo\n"
    (tmp_path / "bad.whl").write_bytes(b"not a zip")
    assert extract_wheel_metadata(tmp_path / "bad.whl") is None


async def test_single_flight_download_verifies_and_stores_once(tmp_path):
    upstream = ScriptedUpstream()
    upstream.file_gate = asyncio.Event()
    store = FileStore(tmp_path, size_limit=10**6)
    committed = []
    downloads = Downloads(store, upstream.client(), on_committed=lambda *a: committed.append(a))
    sha = hashlib.sha256(upstream.file_body).hexdigest()
    started = [
        downloads.start("demo", "demo-1.0.tar.gz", "https://up.example/f", sha, 1000)
        for _ in range(5)
    ]
    assert len({id(d) for d in started}) == 1
    upstream.file_gate.set()

    async def read(download):
        return b"".join([chunk async for chunk in download.follow()])

    bodies = await asyncio.gather(*(read(d) for d in started))
    await downloads.wait_idle()
    assert bodies == [upstream.file_body] * 5
    assert len([c for c in upstream.calls if c.url.path == "/f"]) == 1
    assert sha in store
    assert committed == [("demo", "demo-1.0.tar.gz", sha, False)]


@pytest.mark.parametrize(
    ("sha", "size", "message"), [("0" * 64, 1000, "sha256"), (None, 999, "999")]
)
async def test_mismatched_download_is_refused_and_not_stored(tmp_path, sha, size, message):
    upstream = ScriptedUpstream()
    store = FileStore(tmp_path, size_limit=10**6)
    downloads = Downloads(store, upstream.client())
    download = downloads.start("demo", "demo-1.0.tar.gz", "https://up.example/f", sha, size)
    with pytest.raises(IntegrityError, match=message):
        await download.wait_until_done()
    assert not list(store.tmp_dir.iterdir())
    assert hashlib.sha256(upstream.file_body).hexdigest() not in store


async def test_an_unreadable_cached_page_is_refetched_not_an_error(tmp_path, clock):
    import diskcache

    with diskcache.Cache(str(tmp_path / "index")) as disk:
        disk.set("demo", {"written by": "an older pipgate"})
    upstream = ScriptedUpstream()
    result = await index_cache(tmp_path, upstream, clock).get("demo")
    assert result.page.project.name == "demo"
    assert len(upstream.calls) == 1


async def test_a_file_listed_without_a_hash_is_kept_under_the_hash_it_arrived_with(tmp_path):
    upstream = ScriptedUpstream()
    store = FileStore(tmp_path, size_limit=10**6)
    downloads = Downloads(store, upstream.client())
    url = "https://user:secret@up.example/f"
    download = downloads.start("demo", "demo-1.0.tar.gz", url, None, None)
    await download.wait_until_done()
    sha = hashlib.sha256(upstream.file_body).hexdigest()
    assert store.sha256_for_url(url) == sha
    assert sha in store
    assert store.sha256_for_url("https://up.example/other") is None


class FullStore(FileStore):
    """A store on a disk with no room left for one more file."""

    def commit(self, sha256, temp_path):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")


async def test_a_verified_file_the_store_refuses_is_still_served_whole(tmp_path):
    upstream = ScriptedUpstream()
    downloads = Downloads(FullStore(tmp_path, size_limit=10**6), upstream.client())
    sha = hashlib.sha256(upstream.file_body).hexdigest()
    download = downloads.start("demo", "demo-1.0.tar.gz", "https://up.example/f", sha, 1000)
    followed = b"".join([chunk async for chunk in download.follow()])
    await download.wait_until_done()
    assert followed == upstream.file_body
    assert not download.stored
    with await download.open_verified() as late:  # a follower that came after the end
        assert late.read() == upstream.file_body


async def test_a_file_the_disk_cannot_take_is_streamed_unstored_and_still_checked(tmp_path):
    upstream = ScriptedUpstream()
    client = upstream.client()
    good = hashlib.sha256(upstream.file_body).hexdigest()
    size, chunks = await open_unstored(
        client, "https://up.example/f", "demo-1.0.tar.gz", good, None, chunk_size=256
    )
    assert size == 1000
    assert b"".join([chunk async for chunk in chunks]) == upstream.file_body
    _, chunks = await open_unstored(
        client, "https://up.example/f", "demo-1.0.tar.gz", "0" * 64, 1000, chunk_size=256
    )
    received: list[bytes] = []

    async def read_all() -> None:
        async for chunk in chunks:
            received.append(chunk)

    with pytest.raises(IntegrityError, match="sha256 of file 'demo-1.0.tar.gz'"):
        await read_all()
    assert len(b"".join(received)) < 1000  # the last chunk is never sent


async def test_a_late_follower_gets_the_bytes_even_when_the_store_evicted_them(tmp_path):
    upstream = ScriptedUpstream()
    store = FileStore(tmp_path, size_limit=100)  # smaller than the file: evicted at once
    downloads = Downloads(store, upstream.client())
    sha = hashlib.sha256(upstream.file_body).hexdigest()
    download = downloads.start("demo", "demo-1.0.tar.gz", "https://up.example/f", sha, 1000)
    await download.wait_until_done()
    assert store.open(sha) is None
    late = b"".join([chunk async for chunk in download.follow()])
    assert late == upstream.file_body
    downloads.close()


# -- pages that fail, go away and come back ----------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'<base href="http://[broken/"><a href="demo-1.0.tar.gz">d</a>',
        b"<html><![ oops",  # html.parser raises AssertionError on this
    ],
)
async def test_an_unparseable_html_page_is_a_502_and_a_cached_copy_is_served_stale(
    tmp_path, clock, body
):
    upstream = ScriptedUpstream()
    good = upstream.page

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/html"})

    pages = index_cache(tmp_path, upstream, clock)
    upstream.page = broken
    with pytest.raises(UpstreamUnavailable):
        await pages.get("other")
    upstream.page = good
    await pages.get("demo")
    clock[0] += 61
    upstream.page = broken
    stale = await pages.get("demo")
    assert stale.stale_since is not None


def test_a_project_that_returns_after_a_404_is_not_served_its_old_rendered_page(tmp_path):
    """The page revision restarted at 1 after an upstream 404 dropped the cached page,
    so the renderer's cached bytes of the *old* page (also revision 1) were served."""
    answers = [
        httpx.Response(
            200, content=json_page([json_entry("demo-1.0.tar.gz", b"old")]), headers=JSON
        ),
        httpx.Response(404),
        httpx.Response(
            200, content=json_page([json_entry("demo-2.0.tar.gz", b"new")]), headers=JSON
        ),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    fresh = {"index_ttl": "0s", "negative_ttl": "0s"}
    with app_on_mock_upstream(tmp_path, handler, cache=fresh) as app:
        assert "demo-1.0.tar.gz" in app.get("/simple/demo/").text
        assert app.get("/simple/demo/").status_code == 404
        again = app.get("/simple/demo/")
    assert "demo-2.0.tar.gz" in again.text
    assert "demo-1.0.tar.gz" not in again.text


async def test_a_page_loaded_from_disk_while_a_404_drops_it_is_not_resurrected(tmp_path, clock):
    """A request that read the page from disk just before another request's upstream
    404 deleted it put the old page back in memory; once the negative entry lapsed,
    an upstream failure served that page stale: a takedown undone."""
    import threading

    upstream = ScriptedUpstream()
    pages = index_cache(tmp_path, upstream, clock)
    release, loading = threading.Event(), threading.Event()
    real_load = pages._load
    calls = []

    def slow_load(name):  # the first disk read waits until the 404 has deleted the page
        calls.append(name)
        if len(calls) == 1:
            found = real_load(name)
            loading.set()
            release.wait(5)
            return found
        return real_load(name)

    await pages.get("demo")
    pages._memory.clear()  # evicted from memory; still on disk
    clock[0] += 61
    pages._load = slow_load
    upstream.page = lambda request: httpx.Response(404)
    first = asyncio.create_task(pages.get("demo"))
    assert await asyncio.to_thread(loading.wait, 5)
    with pytest.raises(UpstreamNotFound):
        await pages.get("demo")  # upstream 404: the page is deleted
    release.set()
    with pytest.raises(UpstreamNotFound):
        await first
    clock[0] += 11  # the negative entry lapses; upstream now fails
    upstream.page = lambda request: httpx.Response(503)
    with pytest.raises(UpstreamUnavailable):
        await pages.get("demo")


async def test_upstream_404s_for_many_names_do_not_grow_memory_without_bound(tmp_path, clock):
    from pipgate.proxy.index.cache import NEGATIVE_ENTRIES

    upstream = ScriptedUpstream()
    upstream.page = lambda request: httpx.Response(404)
    pages = index_cache(tmp_path, upstream, clock)
    for n in range(NEGATIVE_ENTRIES + 200):
        clock[0] += 1  # each entry has lapsed long before the last request
        with pytest.raises(UpstreamNotFound):
            await pages.get(f"missing-{n}")
    assert len(pages._negative) <= NEGATIVE_ENTRIES


async def test_a_failed_page_fetch_nobody_waits_for_is_not_an_unretrieved_exception(
    tmp_path, clock
):
    """When the only client of a cold page hangs up, the shared fetch goes on; if it then
    failed, asyncio logged 'Task exception was never retrieved'."""
    import gc

    upstream = ScriptedUpstream()
    upstream.page = lambda request: httpx.Response(503)
    upstream.page_gate = asyncio.Event()  # upstream answers only once the client has gone
    pages = index_cache(tmp_path, upstream, clock)
    loop = asyncio.get_running_loop()
    problems: list[dict] = []
    loop.set_exception_handler(lambda loop, context: problems.append(context))
    try:
        client = asyncio.create_task(pages.get("demo"))
        await until(lambda: upstream.calls, "the shared fetch has asked upstream")
        client.cancel()  # the client hangs up while upstream has not answered
        with pytest.raises(asyncio.CancelledError):
            await client
        upstream.page_gate.set()
        await pages.wait_idle()  # the fetch has failed, with nobody waiting for it
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert not [p for p in problems if "never retrieved" in p.get("message", "")], problems


async def until(condition, what: str, timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds, letting the loop run; fail after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.001)


# -- files from upstream, and the metadata of stored wheels -------------------------------------


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
            page = json_page([json_entry("demo-1.0.tar.gz", sdist)])
            return httpx.Response(200, content=page, headers=JSON)
        seen.append(request)

        async def as_sent():  # streamed, as from a real server (not pre-read by httpx)
            yield sdist

        return httpx.Response(
            200,
            content=as_sent(),
            headers={"content-encoding": "gzip", "content-length": str(len(sdist))},
        )

    with app_on_mock_upstream(tmp_path, handler) as app:
        response = app.get("/files/demo/demo-1.0.tar.gz", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200, response.text
    assert response.content == sdist
    assert seen[0].headers["accept-encoding"] == "identity"


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
        archive.writestr("demo/__init__.py", "def hello():\n    return 1\n")
    wheel = buffer.getvalue()
    name = "demo-1.0-py3-none-any.whl"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/simple/"):
            return httpx.Response(200, content=json_page([json_entry(name, wheel)]), headers=JSON)
        return httpx.Response(200, content=wheel)

    json_v1 = {"Accept": "application/vnd.pypi.simple.v1+json"}
    with app_on_mock_upstream(tmp_path, handler) as app:
        assert app.get(f"/files/demo/{name}").content == wheel
        # The client has the file once it is verified; it is kept (its metadata
        # extracted) just after, and the page advertises the metadata from then on.
        deadline = time.monotonic() + 10
        while "core-metadata" not in (
            listed := app.get("/simple/demo/", headers=json_v1).json()["files"][0]
        ):
            assert time.monotonic() < deadline, listed
            time.sleep(0.01)
        assert listed["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
        store = app.app.state.pipgate.store
        store._cache.delete("metadata:" + hashlib.sha256(wheel).hexdigest())  # LRU eviction
        response = app.get(f"/files/demo/{name}.metadata")
        assert response.status_code == 200, response.text
        assert response.content == metadata
        for key in ("metadata:", "file:"):  # the wheel evicted too: fetched again
            store._cache.delete(key + hashlib.sha256(wheel).hexdigest())
        again = app.get(f"/files/demo/{name}.metadata")
    assert again.status_code == 200, again.text
    assert again.content == metadata


def test_a_wheel_whose_metadata_inflates_to_gigabytes_is_not_read_into_memory(tmp_path):
    """Every committed wheel has its METADATA extracted; a wheel (any PyPI upload)
    whose METADATA member inflates to gigabytes was read whole into memory."""
    import zipfile

    wheel = tmp_path / "bomb-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb-1.0.dist-info/METADATA", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(80):  # 80 MiB inflated, ~80 KiB on disk
                member.write(block)
    assert wheel.stat().st_size < 1 << 20
    assert extract_wheel_metadata(wheel) is None
