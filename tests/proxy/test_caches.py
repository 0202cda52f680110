"""index_cache.py, file_store.py and downloads.py against httpx.MockTransport."""

from __future__ import annotations

import asyncio
import errno
import hashlib

import httpx
import pytest

from pipgate.proxy.errors import IntegrityError, UpstreamNotFound, UpstreamUnavailable
from pipgate.proxy.files.downloads import Downloads, open_unstored
from pipgate.proxy.files.store import FileStore, extract_wheel_metadata
from pipgate.proxy.index.cache import IndexCache
from pipgate.proxy.upstream.client import UpstreamClient, UpstreamConfig

PAGE = b'{"meta": {"api-version": "1.1"}, "name": "demo", "files": []}'
JSON = {"content-type": "application/vnd.pypi.simple.v1+json"}


class Upstream:
    """A scripted upstream: ``answers`` per path, each a callable or a response."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []
        self.page = lambda request: httpx.Response(
            200, content=PAGE, headers={**JSON, "etag": '"1"'}
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


@pytest.fixture
def clock():
    now = [1000.0]
    return now


def cache(tmp_path, upstream: Upstream, clock, **kw) -> IndexCache:
    return IndexCache(
        tmp_path / "index", upstream.client(), ttl=60, negative_ttl=10, clock=lambda: clock[0], **kw
    )


async def test_fresh_page_is_served_from_cache_then_revalidated(tmp_path, clock):
    upstream = Upstream()
    pages = cache(tmp_path, upstream, clock)
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
    upstream = Upstream()
    pages = cache(tmp_path, upstream, clock)
    await pages.get("demo")
    clock[0] += 61
    upstream.page = lambda request: httpx.Response(503)
    stale = await pages.get("demo")
    assert stale.stale_since == 1000.0
    assert "503" in stale.stale_reason
    with pytest.raises(UpstreamUnavailable, match="other"):
        await pages.get("other")


async def test_past_its_ttl_a_page_is_served_stale_while_one_refresh_waits(tmp_path, clock):
    upstream = Upstream()
    pages = cache(tmp_path, upstream, clock, revalidate_wait=0.05)
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
    upstream = Upstream()
    pages = cache(tmp_path, upstream, clock, refresh_backoff=30)
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
    upstream = Upstream()
    pages = cache(tmp_path, upstream, clock)
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
    upstream = Upstream()
    pages = cache(tmp_path, upstream, clock)
    results = await asyncio.gather(*(pages.get("demo") for _ in range(10)))
    assert len(upstream.calls) == 1
    assert len({id(r.page) for r in results}) == 1
    await pages.wait_idle()  # written to disk in the background
    pages.close()
    reopened = cache(tmp_path, upstream, clock)
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
    upstream = Upstream()
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
    upstream = Upstream()
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
    upstream = Upstream()
    result = await cache(tmp_path, upstream, clock).get("demo")
    assert result.page.project.name == "demo"
    assert len(upstream.calls) == 1


async def test_a_file_listed_without_a_hash_is_kept_under_the_hash_it_arrived_with(tmp_path):
    upstream = Upstream()
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
    upstream = Upstream()
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
    upstream = Upstream()
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
    upstream = Upstream()
    store = FileStore(tmp_path, size_limit=100)  # smaller than the file: evicted at once
    downloads = Downloads(store, upstream.client())
    sha = hashlib.sha256(upstream.file_body).hexdigest()
    download = downloads.start("demo", "demo-1.0.tar.gz", "https://up.example/f", sha, 1000)
    await download.wait_until_done()
    assert store.open(sha) is None
    late = b"".join([chunk async for chunk in download.follow()])
    assert late == upstream.file_body
    downloads.close()
