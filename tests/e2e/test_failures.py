"""Upstream outages, corrupt and truncated files, crowds, restarts and hostile paths."""

from __future__ import annotations

import asyncio
import hashlib
import random

import httpx
import pytest

from tests.support.archives import wheel
from tests.support.fake_upstream import FakeFile, FakeProject
from tests.support.installers import installed, run_pip

WHEEL = "demo_pkg-1.1.0-py3-none-any.whl"
LARGE_WHEEL = "bulk_data-1.0-py3-none-any.whl"
#: Upstream timeout of the tests whose upstream hangs (each try waits this long).
SHORT_TIMEOUT = "1s"


def _file_url(proxy, project: str, filename: str) -> str:
    return f"{proxy.url}/files/{project}/{filename}"


@pytest.mark.parametrize("mode", ["5xx", "timeout", "garbage"])
def test_cached_page_is_served_stale_when_upstream_fails(upstream, upstream_url, start_proxy, mode):
    config = {"cache": {"index_ttl": 0}, "upstream": {"timeout": SHORT_TIMEOUT}}
    with start_proxy(upstream_url, config=config) as proxy:
        fresh = httpx.get(f"{proxy.index_url}demo-pkg/?format=json")
        assert fresh.status_code == 200
        assert "x-pipgate-stale" not in fresh.headers
        upstream.hang_seconds = 10
        upstream.mode = mode
        stale = httpx.get(f"{proxy.index_url}demo-pkg/?format=json", timeout=30)
        upstream.heal()
    assert stale.status_code == 200
    assert stale.json()["files"] == fresh.json()["files"]
    assert "upstream unavailable" in stale.headers["x-pipgate-stale"]
    assert stale.headers["warning"].startswith("110")


@pytest.mark.parametrize(("mode", "status"), [("5xx", 502), ("timeout", 504), ("garbage", 502)])
def test_uncached_project_gets_a_clear_gateway_error(
    upstream, upstream_url, start_proxy, mode, status
):
    upstream.hang_seconds = 10
    upstream.mode = mode
    with start_proxy(upstream_url, config={"upstream": {"timeout": SHORT_TIMEOUT}}) as proxy:
        response = httpx.get(f"{proxy.index_url}demo-pkg/", timeout=30)
        upstream.heal()
    assert response.status_code == status
    assert "demo-pkg" in response.text
    assert response.text.startswith("pipgate: upstream")


def test_upstream_404_is_a_404_and_briefly_remembered(upstream, upstream_url, start_proxy):
    with start_proxy(upstream_url, config={"cache": {"negative_ttl": "1m"}}) as proxy:
        first = httpx.get(f"{proxy.index_url}no-such-project/")
        second = httpx.get(f"{proxy.index_url}no-such-project/")
    assert first.status_code == second.status_code == 404
    assert "no-such-project" in first.text
    assert upstream.hits["/simple/no-such-project/"] == 1


def test_page_revalidation_uses_etag(upstream, upstream_url, start_proxy):
    with start_proxy(upstream_url, config={"cache": {"index_ttl": 0}}) as proxy:
        httpx.get(f"{proxy.index_url}demo-pkg/")
        httpx.get(f"{proxy.index_url}demo-pkg/")
    page_requests = [r for r in upstream.requests if r.path == "/simple/demo-pkg/"]
    assert len(page_requests) == 2
    assert page_requests[1].headers.get("if-none-match")


@pytest.mark.parametrize("mode", ["truncate", "corrupt"])
def test_bad_file_bytes_are_never_stored_or_installed(
    upstream, upstream_url, start_proxy, tmp_path, mode
):
    upstream.file_modes[WHEEL] = mode
    with start_proxy(upstream_url) as proxy:
        failed = run_pip(
            proxy.index_url,
            "--no-deps",
            "demo-pkg==1.1.0",
            "--only-binary",
            ":all:",
            target=tmp_path / "bad",
        )
        try:
            direct = httpx.get(_file_url(proxy, "demo-pkg", WHEEL))
        except httpx.TransportError as exc:  # a cut-off stream is also a refusal
            direct = httpx.Response(599, text=str(exc))
        sha = upstream.file(WHEEL).sha256
        assert sha not in proxy.state.store
        assert not list((proxy.data_dir / "tmp").iterdir())
        upstream.heal()
        healed = run_pip(
            proxy.index_url,
            "--no-deps",
            "demo-pkg==1.1.0",
            "--only-binary",
            ":all:",
            target=tmp_path / "good",
        )
        assert sha in proxy.state.store
    assert failed.returncode != 0
    assert "demo-pkg==1.1.0" not in installed(tmp_path / "bad")
    # A client that asks after the failure is told so plainly, never handed the bad bytes.
    assert direct.status_code == 502
    assert WHEEL in direct.text
    assert healed.returncode == 0, healed.stderr
    assert installed(tmp_path / "good") == {"demo-pkg==1.1.0"}


def test_a_large_corrupt_file_never_reaches_a_client_whole(upstream, upstream_url, start_proxy):
    from pipgate.proxy.views import WHOLE_BEFORE_SENDING

    # Larger than what is verified whole before sending: streamed as it arrives.
    data = wheel(
        {"bulk_data/blob.bin": random.Random(8).randbytes(WHOLE_BEFORE_SENDING + 4096)},
        name="bulk_data",
    )
    upstream.add(FakeProject("bulk-data", [FakeFile.from_bytes(LARGE_WHEEL, data)]))
    upstream.file_modes[LARGE_WHEEL] = "corrupt"
    received: list[bytes] = []

    def read_all(response: httpx.Response) -> None:
        received.extend(response.iter_bytes())

    with start_proxy(upstream_url) as proxy:
        with httpx.stream("GET", _file_url(proxy, "bulk-data", LARGE_WHEEL)) as response:
            assert response.status_code == 200  # the first bytes went out before the hash
            # A streamed file's last byte is held back until its hash is verified: the
            # response ends short, never whole.
            with pytest.raises(httpx.RemoteProtocolError):
                read_all(response)
    assert 0 < len(b"".join(received)) < len(data)


def test_concurrent_cold_requests_share_one_upstream_download(upstream, upstream_url, start_proxy):
    upstream.file_modes[WHEEL] = "slow"
    upstream.slow_chunk_size = 4096
    upstream.slow_chunk_delay = 0.01
    with start_proxy(upstream_url) as proxy:
        httpx.get(f"{proxy.index_url}demo-pkg/")  # warm the page only

        async def fetch_all() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=60) as client:
                return await asyncio.gather(
                    *(client.get(_file_url(proxy, "demo-pkg", WHEEL)) for _ in range(12))
                )

        responses = asyncio.run(fetch_all())
    expected = upstream.file(WHEEL).sha256
    assert [r.status_code for r in responses] == [200] * 12
    assert {hashlib.sha256(r.content).hexdigest() for r in responses} == {expected}
    assert upstream.hits[upstream.file_path(WHEEL)] == 1


def test_restart_with_warm_cache_serves_without_upstream(
    upstream, dists_dir, start_proxy, tmp_path
):
    data_dir = tmp_path / "shared-data"
    with upstream.serve() as url:
        with start_proxy(url, data_dir=data_dir) as proxy:
            assert run_pip(proxy.index_url, "demo-pkg", target=tmp_path / "one").returncode == 0
        upstream.mode = "5xx"
        upstream.file_mode = "5xx"
        with start_proxy(url, data_dir=data_dir, config={"cache": {"index_ttl": 0}}) as proxy:
            again = run_pip(proxy.index_url, "demo-pkg", target=tmp_path / "two")
    assert again.returncode == 0, again.stderr
    assert installed(tmp_path / "two") == {"demo-pkg==1.1.0", "demo-dep==0.2.0"}


@pytest.mark.parametrize(
    "path",
    [
        "/simple/../../etc/passwd",
        "/simple/%2e%2e%2fetc%2fpasswd/",
        "/files/demo-pkg/..%2f..%2fetc%2fpasswd",
        "/files/demo-pkg/../../etc/passwd",
        "/files/demo-pkg/%2e%2e",
        "/simple/-bad-/",
        "/simple/a%00b/",
        "/simple/" + "a" * 300 + "!/",
        "/files/demo-pkg/not-listed-1.0.tar.gz",
        "/nosuchindex/simple/demo-pkg/",
    ],
)
def test_hostile_and_malformed_paths_get_404(upstream_url, start_proxy, path):
    with start_proxy(upstream_url) as proxy:
        response = httpx.get(proxy.url + path)
    assert response.status_code == 404, response.text
    assert "root:" not in response.text


def test_invalid_name_gets_a_readable_body(upstream_url, start_proxy):
    with start_proxy(upstream_url) as proxy:
        response = httpx.get(f"{proxy.index_url}-bad-/")
    assert response.status_code == 404
    assert "'-bad-' is not a valid project name" in response.text
