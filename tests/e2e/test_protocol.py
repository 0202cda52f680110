"""The Simple Repository API as served: negotiation, redirects, validators, ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.fake_upstream import FakeProject, _release
from tests.support.servers import wait_until_stored

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"


@pytest.mark.parametrize(
    ("accept", "query", "expected"),
    [
        (None, "", "text/html; charset=utf-8"),
        (JSON, "", JSON),
        (f"{JSON}, {HTML};q=0.2, text/html;q=0.01", "", JSON),
        (f"{JSON};q=0.1, {HTML}", "", f"{HTML}; charset=utf-8"),
        ("text/html", "", "text/html; charset=utf-8"),
        ("*/*", "", "text/html; charset=utf-8"),
        ("text/html", "?format=application/vnd.pypi.simple.v1+json", JSON),
    ],
)
def test_content_negotiation(proxy, accept, query, expected):
    headers = {"Accept": accept} if accept else {}
    response = httpx.get(f"{proxy.index_url}demo-pkg/{query}", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    assert "Accept" in response.headers["vary"]


def test_unacceptable_format_is_406(proxy):
    response = httpx.get(f"{proxy.index_url}demo-pkg/", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/vnd.pypi.simple.v1+json" in response.text


def test_json_page_keeps_every_upstream_field(proxy, upstream):
    data = httpx.get(f"{proxy.index_url}demo-yanked/", headers={"Accept": JSON}).json()
    assert data["meta"]["api-version"] == "1.4"
    assert data["versions"] == ["1.0.0", "1.1.0", "1.2.0"]
    by_name = {f["filename"]: f for f in data["files"]}
    yanked = by_name["demo_yanked-1.1.0-py3-none-any.whl"]
    assert yanked["yanked"] == "broken build"
    assert by_name["demo_yanked-1.2.0-py3-none-any.whl"]["yanked"] is True
    assert "yanked" not in by_name["demo_yanked-1.0.0-py3-none-any.whl"]
    fake = upstream.file("demo_yanked-1.1.0-py3-none-any.whl")
    assert yanked["hashes"] == {"sha256": fake.sha256}
    assert yanked["size"] == fake.size
    assert yanked["upload-time"].startswith("2024-02-01T00:00:00")
    archived = httpx.get(f"{proxy.index_url}demo-archived/", headers={"Accept": JSON}).json()
    assert archived["project-status"] == {"status": "archived", "reason": "superseded by demo-pkg"}


def test_html_page_keeps_yanked_requires_python_and_metadata(proxy):
    html = httpx.get(f"{proxy.index_url}demo-pkg/").text
    assert 'data-requires-python="&gt;=3.8,&lt;4"' in html
    assert 'data-core-metadata="sha256=' in html
    assert "#sha256=" in html
    yanked = httpx.get(f"{proxy.index_url}demo-yanked/").text
    assert 'data-yanked="broken build"' in yanked


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/simple/Demo_Pkg/", "/simple/demo-pkg/"),
        ("/simple/DEMO.pkg", "/simple/demo-pkg/"),
        ("/simple/demo-pkg", "/simple/demo-pkg/"),
        ("/simple/Demo_Pkg/?format=json", "/simple/demo-pkg/?format=json"),
        ("/files/Demo_Pkg/demo_pkg-1.0.0.tar.gz", "/files/demo-pkg/demo_pkg-1.0.0.tar.gz"),
        ("/files/Demo_Pkg/odd%3Fname%23x.tar.gz", "/files/demo-pkg/odd%3Fname%23x.tar.gz"),
    ],
)
def test_non_normalized_names_redirect(proxy, path, location):
    response = httpx.get(proxy.url + path)
    assert response.status_code == 301
    assert response.headers["location"] == location


def test_page_etag_and_gzip(proxy):
    first = httpx.get(
        f"{proxy.index_url}demo-pkg/", headers={"Accept": JSON, "Accept-Encoding": "identity"}
    )
    etag = first.headers["etag"]
    again = httpx.get(
        f"{proxy.index_url}demo-pkg/",
        headers={"Accept": JSON, "If-None-Match": etag, "Accept-Encoding": "identity"},
    )
    assert again.status_code == 304
    raw = httpx.get(
        f"{proxy.index_url}demo-pkg/", headers={"Accept": JSON, "Accept-Encoding": "gzip"}
    )
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.json() == first.json()  # httpx decoded it
    assert raw.headers["etag"] != etag  # each encoding is its own representation
    revalidated = httpx.get(
        f"{proxy.index_url}demo-pkg/",
        headers={"Accept": JSON, "Accept-Encoding": "gzip", "If-None-Match": raw.headers["etag"]},
    )
    assert revalidated.status_code == 304
    assert first.headers["cache-control"].startswith("max-age=0")
    refused = httpx.get(
        f"{proxy.index_url}demo-pkg/", headers={"Accept": JSON, "Accept-Encoding": "gzip;q=0, br"}
    )
    assert "content-encoding" not in refused.headers


def test_file_etag_range_head_and_cache_control(proxy, upstream):
    name = "demo_pkg-1.0.0-py3-none-any.whl"
    url = f"{proxy.url}/files/demo-pkg/{name}"
    whole = httpx.get(url)
    assert whole.status_code == 200
    body = upstream.file(name).read()
    assert whole.content == body
    wait_until_stored(url)
    warm = httpx.get(url)
    assert warm.headers["x-pipgate-cache"] == "hit"
    assert warm.headers["etag"] == f'"{upstream.file(name).sha256}"'
    assert "immutable" in warm.headers["cache-control"]
    assert httpx.get(url, headers={"If-None-Match": warm.headers["etag"]}).status_code == 304
    part = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == body[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(body)}"
    suffix = httpx.get(url, headers={"Range": "bytes=-5"})
    assert suffix.content == body[-5:]
    assert httpx.get(url, headers={"Range": f"bytes={len(body)}-"}).status_code == 416
    head = httpx.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(body))
    assert head.content == b""


def test_root_index_lists_known_projects_only(proxy):
    assert httpx.get(f"{proxy.index_url}", headers={"Accept": JSON}).json()["projects"] == []
    httpx.get(f"{proxy.index_url}demo-pkg/")
    listing = httpx.get(f"{proxy.index_url}", headers={"Accept": JSON}).json()
    assert listing["projects"] == [{"name": "demo-pkg"}]
    assert 'href="demo-pkg/"' in httpx.get(proxy.index_url).text


def test_root_index_lists_only_what_a_client_may_install(
    http, upstream, upstream_url, start_proxy, dists_dir
):
    uploaded = datetime.now(UTC) - timedelta(days=1)
    upstream.add(
        FakeProject("coloarma", _release(dists_dir, "coloarma", "0.4.6", uploaded=uploaded))
    )
    config = {"indexes": {"strict": {"policies": {"allowlist": {"deny": ["demo-dep"]}}}}}
    with start_proxy(upstream_url, config=config) as proxy:
        assert http.get(f"{proxy.index_url}demo-pkg/").status_code == 200
        assert http.get(f"{proxy.index_url}demo-dep/").status_code == 200
        assert http.get(f"{proxy.index_url}coloarma/").status_code == 451  # typosquat
        upstream.reset_hits()

        assert _listed(http, proxy.index_url) == {"demo-pkg", "demo-dep"}
        # demo-dep is denied on the strict index
        assert _listed(http, f"{proxy.url}/strict/simple/") == {"demo-pkg"}
        html = http.get(proxy.index_url).text
        assert "demo-pkg" in html and "coloarma" not in html

        # A decision changed since the pages were rendered (here: the policies were swapped
        # in again): the held project is judged again from its page's facts, still unlisted.
        gate = proxy.state.gates["default"]
        gate.policies = gate.policies
        assert _listed(http, proxy.index_url) == {"demo-pkg", "demo-dep"}
        assert upstream.requests == []  # listing never asks upstream


def _listed(http: httpx.Client, url: str) -> set[str]:
    return {p["name"] for p in http.get(url, headers={"Accept": JSON}).json()["projects"]}


def test_operations_endpoints(proxy):
    assert httpx.get(f"{proxy.url}/healthz").text == "ok\n"
    assert httpx.get(f"{proxy.url}/readyz").status_code == 200
    httpx.get(f"{proxy.index_url}demo-pkg/")
    response = httpx.get(f"{proxy.url}/simple/demo-pkg/", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    metrics = httpx.get(f"{proxy.url}/metrics").text
    assert 'pipgate_requests_total{route="project-page",status="200"}' in metrics
    assert 'pipgate_cache_total{kind="page",result="miss"} 1.0' in metrics
    assert 'pipgate_cache_total{kind="page",result="hit"}' in metrics
    assert "pipgate_upstream_seconds_bucket" in metrics


def test_a_request_that_misses_the_store_as_a_download_ends_gets_its_bytes(proxy, upstream):
    """Clients get a file once it is verified and it is kept in the store just after: a
    request that looked in the store in between follows that download (it lingers a few
    seconds) instead of fetching the file a second time."""
    name = "demo_pkg-1.0.0-py3-none-any.whl"
    url = f"{proxy.url}/files/demo-pkg/{name}"
    body = upstream.file(name).read()
    assert httpx.get(url).content == body
    wait_until_stored(url)
    assert proxy.state.store.delete(upstream.file(name).sha256)  # as if not kept yet
    again = httpx.get(url)
    assert (again.status_code, again.content == body) == (200, True)
    assert upstream.hits[upstream.file_path(name)] == 1
