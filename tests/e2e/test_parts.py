"""A byte range of a large file not stored yet: 206 without downloading the whole file
(uv reads a wheel's METADATA with ranges when an index advertises none)."""

from __future__ import annotations

import random
import threading

import httpx
import pytest

from tests.support.archives import wheel
from tests.support.fake_upstream import FakeFile, FakeProject, create_fake_upstream
from tests.support.servers import wait_until_stored

FILENAME = "big_data-1.0-py3-none-any.whl"
SIZE = 6 << 20  # above WHOLE_BEFORE_SENDING: streamed, not verified before sending


@pytest.fixture
def upstream():  # type: ignore[no-untyped-def]
    data = wheel({"big_data/blob.bin": random.Random(6).randbytes(SIZE)}, name="big_data")
    return create_fake_upstream([FakeProject("big-data", [FakeFile.from_bytes(FILENAME, data)])])


@pytest.fixture
def proxy(upstream, start_proxy):  # type: ignore[no-untyped-def]
    with upstream.serve() as url, start_proxy(url) as running:
        yield running


def file_url(proxy) -> str:  # type: ignore[no-untyped-def]
    return f"{proxy.url}/files/big-data/{FILENAME}"


def ranged_requests(upstream) -> list[str]:  # type: ignore[no-untyped-def]
    path = upstream.file_path(FILENAME)
    return [r.headers.get("range", "") for r in upstream.requests if r.path == path]


@pytest.mark.parametrize(
    ("header", "part"), [("bytes=-22", slice(-22, None)), ("bytes=100-4195", slice(100, 4196))]
)
def test_a_range_of_an_uncached_file_is_a_part_from_upstream(proxy, upstream, header, part):
    body = upstream.file(FILENAME).read()
    response = httpx.get(file_url(proxy), headers={"Range": header})
    assert response.status_code == 206
    assert response.content == body[part]
    first = part.start % len(body)
    last = (part.stop or len(body)) - 1
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(body)}"
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.headers["etag"] == f'"{upstream.file(FILENAME).sha256}"'
    assert ranged_requests(upstream) == [f"bytes={first}-{last}"]  # nothing else fetched
    whole = httpx.get(file_url(proxy))  # the whole file: downloaded, verified, kept
    assert (whole.status_code, whole.headers["x-pipgate-cache"]) == (200, "miss")
    assert whole.content == body
    wait_until_stored(file_url(proxy))
    assert ranged_requests(upstream) == [f"bytes={first}-{last}", ""]  # the whole file once


def test_a_range_past_the_end_of_an_uncached_file_is_416(proxy, upstream):
    response = httpx.get(file_url(proxy), headers={"Range": f"bytes={SIZE * 2}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(upstream.file(FILENAME).read())}"
    assert ranged_requests(upstream) == []


@pytest.mark.parametrize("ranges", [False, "wrong"])
def test_an_upstream_that_does_not_answer_the_part_gets_the_whole_file_served(
    proxy, upstream, ranges
):
    upstream.ranges = ranges
    body = upstream.file(FILENAME).read()
    response = httpx.get(file_url(proxy), headers={"Range": "bytes=-22"})
    assert response.status_code == 200  # as before: the whole, verified file
    assert response.content == body
    wait_until_stored(file_url(proxy))


def test_a_range_the_download_under_way_has_comes_from_it(proxy, upstream):
    upstream.file_mode, upstream.slow_chunk_size, upstream.slow_chunk_delay = "slow", 1 << 16, 0.02
    body = upstream.file(FILENAME).read()
    started = threading.Event()

    def download() -> bytes:
        with httpx.stream("GET", file_url(proxy), timeout=60) as response:
            got = bytearray()
            for chunk in response.iter_bytes():
                got += chunk
                if len(got) >= 1 << 20:
                    started.set()
            return bytes(got)

    result: list[bytes] = []
    thread = threading.Thread(target=lambda: result.append(download()))
    thread.start()
    assert started.wait(30)
    part = httpx.get(file_url(proxy), headers={"Range": "bytes=1000-1999"}, timeout=30)
    thread.join(60)
    assert part.status_code == 206
    assert part.content == body[1000:2000]
    assert ranged_requests(upstream) == [""]  # one whole download, no part asked upstream
    assert result == [body]
