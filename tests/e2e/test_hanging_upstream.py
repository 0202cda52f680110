"""An upstream that fails or hangs: stale pages and cached files are answered at once
while one background refresh waits, and a circuit breaker stops asking a failing host."""

from __future__ import annotations

import httpx

WHEEL = "demo_pkg-1.1.0-py3-none-any.whl"
PAGE = "/simple/demo-pkg/"


def test_stale_page_and_cached_file_are_answered_while_upstream_hangs(
    upstream, upstream_url, start_proxy
):
    config = {"cache": {"index_ttl": 0, "revalidate_wait": "500ms"}, "upstream": {"timeout": "30s"}}
    with start_proxy(upstream_url, config=config) as proxy:
        page_url, file_url = f"{proxy.url}{PAGE}?format=json", f"{proxy.url}/files/demo-pkg/{WHEEL}"
        fresh = httpx.get(page_url)
        wheel = httpx.get(file_url).content
        upstream.hang_seconds = 60
        upstream.mode = "timeout"
        upstream.reset_hits()
        try:
            pages = [httpx.get(page_url, timeout=10) for _ in range(3)]
            files = [httpx.get(file_url, timeout=10) for _ in range(3)]
            still_hanging = upstream.hanging
            page_requests = upstream.hits[PAGE]
        finally:
            upstream.heal()

    assert still_hanging == 1  # the answers came while the one refresh still waited
    assert page_requests == 1
    for page in pages:
        assert page.status_code == 200
        assert page.json()["files"] == fresh.json()["files"]
        assert "upstream unavailable" in page.headers["x-pipgate-stale"]
        assert page.headers["warning"].startswith("110")
    for response in files:
        assert response.status_code == 200
        assert response.content == wheel


def test_a_failing_upstream_is_not_asked_again_until_its_circuit_probes(
    upstream, upstream_url, start_proxy
):
    config = {
        "cache": {"index_ttl": 0},
        "upstream": {"breaker_failures": 2, "breaker_backoff": "1h"},
    }
    with start_proxy(upstream_url, config=config) as proxy:
        for project in ("demo-pkg", "demo-dep"):
            assert httpx.get(f"{proxy.url}/simple/{project}/").status_code == 200
        upstream.mode = "5xx"
        upstream.reset_hits()
        opened = httpx.get(f"{proxy.url}/simple/demo-pkg/")  # two tries, two 503s: open
        other = httpx.get(f"{proxy.url}/simple/demo-dep/")
        cold = httpx.get(f"{proxy.url}/simple/demo-yanked/")
        ready = httpx.get(f"{proxy.url}/readyz")
        metrics = httpx.get(f"{proxy.url}/metrics").text
        upstream_hits = sum(upstream.hits.values())
        upstream.heal()

    origin = str(httpx.URL(upstream_url).copy_with(path="/", query=None)).rstrip("/")
    assert upstream_hits == 2
    assert opened.status_code == other.status_code == 200
    assert "x-pipgate-stale" in other.headers
    assert cold.status_code == 502
    assert "circuit open" in cold.text
    assert int(cold.headers["retry-after"]) > 0
    assert ready.status_code == 200
    assert f"upstream {origin}: circuit open" in ready.text
    assert f'pipgate_upstream_circuit_state{{upstream="{origin}"}} 2.0' in metrics
    assert (
        f'pipgate_upstream_circuit_transitions_total{{state="open",upstream="{origin}"}} 1.0'
        in metrics
    )
