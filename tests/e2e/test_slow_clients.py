"""Clients that open a download and read nothing: bounded buffers, capped downloads."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.support.archives import wheel
from tests.support.fake_upstream import FakeFile, FakeProject, create_fake_upstream
from tests.support.servers import wait_until_stored

FILENAME = "bulk_data-1.0-py3-none-any.whl"
SIZE = 8 << 20
READERS = 16
#: What one idle download may leave in the server's write buffer: uvicorn's high-water
#: mark (64 KiB) plus one 64 KiB chunk. With the chunk waiting to be sent, that keeps a
#: download under the 256 KiB of issue 8 (1 MiB chunks left 1-2 MiB each).
PER_DOWNLOAD = 128 * 1024


@pytest.fixture
def upstream():  # type: ignore[no-untyped-def]
    # A real wheel (the content scan holds what is not an archive): one stored,
    # incompressible member of about SIZE bytes.
    data = wheel({"bulk_data/blob.bin": random.Random(8).randbytes(SIZE)}, name="bulk_data")
    return create_fake_upstream([FakeProject("bulk-data", [FakeFile.from_bytes(FILENAME, data)])])


def file_url(proxy) -> str:  # type: ignore[no-untyped-def]
    return f"{proxy.url}/files/bulk-data/{FILENAME}"


def warm(url: str) -> bytes:
    first = httpx.get(url, timeout=30)
    assert first.status_code == 200, first.text
    wait_until_stored(url)
    return first.content


@contextmanager
def idle_downloads(url: str, count: int, source: str = "127.0.0.1") -> Iterator[None]:
    """``count`` sockets that request ``url`` and never read (4 KiB receive buffer)."""
    target = httpx.URL(url)
    request = f"GET {target.raw_path.decode()} HTTP/1.1\r\nHost: {target.netloc.decode()}\r\n\r\n"
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.bind((source, 0))
            sock.connect((target.host, target.port))
            sock.sendall(request.encode())
        yield
    finally:
        for sock in sockets:
            sock.close()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


def paused(server) -> list:  # type: ignore[no-untyped-def]
    """Server connections whose client stopped taking bytes (write buffer over its mark)."""
    return [c for c in list(server.server_state.connections) if c.flow.write_paused]


def test_a_client_that_reads_nothing_makes_the_server_buffer_little(upstream_url, start_proxy):
    with start_proxy(upstream_url) as proxy:
        url = file_url(proxy)
        warm(url)
        with idle_downloads(url, READERS):
            wait_for(lambda: len(paused(proxy.server)) == READERS, "every download waits")
            buffered = [c.transport.get_write_buffer_size() for c in paused(proxy.server)]
    assert max(buffered) <= PER_DOWNLOAD, f"bytes buffered per idle download: {buffered}"


def test_downloads_over_a_cap_get_503_with_retry_after(upstream_url, start_proxy):
    config = {"server": {"max_downloads": 3, "max_downloads_per_client": 2}}
    with start_proxy(upstream_url, config=config) as proxy:
        url = file_url(proxy)
        whole = warm(url)
        slots = proxy.state.slots
        with idle_downloads(url, 2, source="127.0.0.1"):
            wait_for(lambda: slots.open == 2, "two downloads are open")
            per_client = httpx.get(url)
            assert httpx.head(url).status_code == 200  # a HEAD sends no body: no slot
            with idle_downloads(url, 1, source="127.0.0.2"):
                wait_for(lambda: slots.open == 3, "three downloads are open")
                other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.3"))
                with other:
                    total = other.get(url)
                metrics = httpx.get(f"{proxy.url}/metrics").text
        wait_for(lambda: slots.open == 0, "the downloads are released")
        after = httpx.get(url)

    assert per_client.status_code == 503
    assert per_client.headers["retry-after"] == "2"
    assert "2 downloads from 127.0.0.1 are in progress" in per_client.text
    assert "max_downloads_per_client is 2" in per_client.text
    assert total.status_code == 503
    assert "max_downloads is 3" in total.text
    assert 'pipgate_downloads_refused_total{limit="client"} 1.0' in metrics
    assert 'pipgate_downloads_refused_total{limit="total"} 1.0' in metrics
    assert "pipgate_downloads_open 3.0" in metrics
    assert after.status_code == 200
    assert after.content == whole
