"""Hostile input from either side, against a real pipgate and a fake upstream on real ports
(issue 8): look-alike names from clients (finding 10), markup from upstream pages (3), and
upstream URLs that point outside the allowed origins (4)."""

from __future__ import annotations

import html
from urllib.parse import quote

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.fake_upstream import FakeProject, _release
from tests.support.markup import markup_of
from tests.support.servers import run_app


@pytest.fixture
def proxy(upstream_url, start_proxy):
    with start_proxy(upstream_url, config={"indexes": {"strict": {}}}) as running:
        yield running


LOOK_ALIKES = [
    "\u0131dna",  # ı: dotless i
    "\u017fix",  # ſ: long s
    "\u212aeras",  # K: Kelvin sign, "keras" once lower-cased
    "\u0130dna",  # İ: dotted capital I
    "demo-pk\u0261",  # ɡ: Latin small script g
]


def test_non_ascii_look_alike_names_never_reach_upstream(proxy, upstream):
    upstream.reset_hits()
    for name in LOOK_ALIKES:
        for path in (
            f"/simple/{quote(name)}/",
            f"/strict/simple/{quote(name)}/?format=json",
            f"/files/{quote(name)}/{quote(name)}-1.0.tar.gz",
            f"/files/{quote(name)}/{quote(name)}-1.0.tar.gz.metadata",
        ):
            response = httpx.get(proxy.url + path)
            assert response.status_code == 404, (path, response.status_code, response.text)
            assert "is not a valid project name" in response.text, path
            assert "ASCII" in response.text
    assert upstream.requests == []


# -- finding 3: markup from upstream -------------------------------------------------------------

EVIL = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>&amp;"
EVIL_FILENAME = "demo_pkg-1.0.0\"'><svg onload=alert(3)>.tar.gz"  # no "/": a filename
API_CSP = "default-src 'none'"


def _hostile_json(upstream, base: str) -> bytes:
    wheel = upstream.file("demo_pkg-1.0.0-py3-none-any.whl")
    entry = {
        "filename": wheel.filename,
        "url": base + wheel.url_path,
        "hashes": {"sha256": wheel.sha256, EVIL: "ab" * 32},
        "requires-python": EVIL,
        "yanked": EVIL,
        "core-metadata": {EVIL: "ab" * 32},
        "upload-time": "2024-01-01T00:00:00Z",
    }
    odd = {**entry, "filename": EVIL_FILENAME, "hashes": {"SHA256": "cd" * 32}}
    return orjson.dumps(
        {
            "meta": {"api-version": "1.4"},
            "name": "demo-pkg",
            "files": [entry, odd],
            "project-status": {"status": EVIL, "reason": EVIL},
            "tracks": [EVIL],
            "alternate-locations": [EVIL],
        }
    )


def _hostile_html(upstream, base: str) -> bytes:
    wheel = upstream.file("demo_dep-0.1.0-py3-none-any.whl")
    evil = html.escape(EVIL)
    return (
        "<html><head>"
        f'<meta name="pypi:project-status" content="{evil}">'
        f'<meta name="pypi:project-status-reason" content="{evil}">'
        f'<meta name="pypi:tracks" content="{evil}">'
        "</head><body>"
        f'<a href="{base}{wheel.url_path}#{quote(EVIL)}=abab" data-yanked="{evil}"'
        f' data-requires-python="{evil}" data-core-metadata="{evil}=abab"'
        f' data-dist-info-metadata="{evil}">{evil}</a>'
        "</body></html>"
    ).encode()


def test_no_markup_from_a_hostile_upstream_and_every_page_under_csp(
    upstream, upstream_url, start_proxy, dists_dir
):
    base = upstream_url.removesuffix("/simple/")
    upstream.raw_pages["demo-pkg"] = (
        "application/vnd.pypi.simple.v1+json",
        _hostile_json(upstream, base),
    )
    upstream.raw_pages["demo-dep"] = ("text/html", _hostile_html(upstream, base))
    upstream.add(FakeProject("coloarma", _release(dists_dir, "coloarma", "0.4.6")))
    with start_proxy(upstream_url) as proxy:
        for project in ("demo-pkg", "demo-dep"):
            for accept in ("text/html", "application/vnd.pypi.simple.v1+html"):
                page = httpx.get(f"{proxy.index_url}{project}/", headers={"Accept": accept})
                assert page.status_code == 200, page.text
                served = markup_of(page.text)
                assert served.only_page_markup, (project, served.tags, served.attributes)
                assert EVIL in served.values  # kept as text, escaped
                assert page.headers["content-security-policy"] == API_CSP
                assert page.headers["x-content-type-options"] == "nosniff"
        json_page = httpx.get(f"{proxy.index_url}demo-pkg/?format=json")
        assert json_page.headers["content-security-policy"] == API_CSP
        files = {f["filename"]: f for f in json_page.json()["files"]}
        assert files["demo_pkg-1.0.0-py3-none-any.whl"]["hashes"].keys() == {"sha256"}
        assert files[EVIL_FILENAME]["hashes"] == {"sha256": "cd" * 32}

        responses = {
            "root index": httpx.get(proxy.index_url),
            "refused page": httpx.get(f"{proxy.index_url}coloarma/"),
            "refused file": httpx.get(f"{proxy.url}/files/coloarma/coloarma-0.4.6.tar.gz"),
            "invalid name": httpx.get(f"{proxy.index_url}-x-/"),
            "missing file": httpx.get(f"{proxy.url}/files/demo-pkg/nothing-1.0.tar.gz"),
            "no route": httpx.get(f"{proxy.url}/nowhere"),
            "admin api": httpx.get(f"{proxy.url}/-/admin/quarantine"),
        }
        for what, response in responses.items():
            assert response.headers["content-security-policy"] == API_CSP, what
            assert response.headers["x-content-type-options"] == "nosniff", what
        assert markup_of(responses["refused page"].text).only_page_markup
        console = httpx.get(f"{proxy.url}/-/ui/login")
        assert console.status_code == 200
        csp = console.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert "frame-ancestors 'none'" in csp


# -- finding 4: fetches outside the allowed origins ----------------------------------------------


class PrivateService:
    """A "private" HTTP service on 127.0.0.1 at a port of its own: it records every request
    and answers each with a few bytes, as an internal service pipgate must never reach."""

    def __init__(self) -> None:
        self.seen: list[str] = []

        async def anything(request: Request) -> Response:
            self.seen.append(request.url.path)
            return Response(b'{"secret": "internal"}', media_type="application/octet-stream")

        self.app = Starlette(routes=[Route("/{path:path}", anything)])


def _ssrf_page(upstream, base: str, private: str) -> bytes:
    new_wheel = upstream.file("demo_pkg-1.1.0-py3-none-any.whl")
    new_sdist = upstream.file("demo_pkg-1.1.0.tar.gz")
    old = "2024-01-01T00:00:00Z"
    files = [
        {  # no hash: nothing to verify it against
            "filename": "demo_pkg-1.0.0-py3-none-any.whl",
            "url": f"{private}/internal/demo_pkg-1.0.0-py3-none-any.whl",
            "core-metadata": True,
            "upload-time": old,
        },
        {  # with a hash
            "filename": "demo_pkg-1.0.0.tar.gz",
            "url": f"{private}/internal/demo_pkg-1.0.0.tar.gz",
            "hashes": {"sha256": "ab" * 32},
            "upload-time": old,
        },
        {  # the file is upstream's own; its provenance is not
            "filename": new_wheel.filename,
            "url": base + new_wheel.url_path,
            "hashes": {"sha256": new_wheel.sha256},
            "provenance": f"{private}/internal/provenance",
            "upload-time": old,
        },
        {  # upstream's own URL, which redirects (see the test)
            "filename": new_sdist.filename,
            "url": base + new_sdist.url_path,
            "hashes": {"sha256": new_sdist.sha256},
            "upload-time": old,
        },
    ]
    return orjson.dumps({"meta": {"api-version": "1.3"}, "name": "demo-pkg", "files": files})


def test_no_fetch_outside_the_allowed_origins(upstream, upstream_url, start_proxy):
    private_service = PrivateService()
    base = upstream_url.removesuffix("/simple/")
    with run_app(private_service.app) as private:  # the upstream's host, another port
        page = _ssrf_page(upstream, base, private)
        upstream.raw_pages["demo-pkg"] = ("application/vnd.pypi.simple.v1+json", page)
        upstream.redirects[upstream.file_path("demo_pkg-1.1.0.tar.gz")] = f"{private}/internal/x"
        files = "/files/demo-pkg/"
        with start_proxy(upstream_url) as proxy:
            refused = {
                what: httpx.get(proxy.url + files + path)
                for what, path in [
                    ("unhashed file", "demo_pkg-1.0.0-py3-none-any.whl"),
                    ("hashed file", "demo_pkg-1.0.0.tar.gz"),
                    (".metadata", "demo_pkg-1.0.0-py3-none-any.whl.metadata"),
                    ("provenance", "demo_pkg-1.1.0-py3-none-any.whl.provenance"),
                    ("redirect", "demo_pkg-1.1.0.tar.gz"),
                ]
            }
            for what, response in refused.items():
                assert response.status_code == 502, (what, response.status_code, response.text)
                assert "not on an allowed origin" in response.text, what
                assert private in response.text, what
            assert "upstream redirected to" in refused["redirect"].text
            wheel = httpx.get(proxy.url + files + "demo_pkg-1.1.0-py3-none-any.whl")
            assert wheel.status_code == 200  # upstream's own origin is fetched as ever
            metrics = httpx.get(f"{proxy.url}/metrics").text
        assert 'pipgate_upstream_refused_total{reason="origin"} 4.0' in metrics
        assert 'pipgate_upstream_refused_total{reason="redirect"} 1.0' in metrics
        assert private_service.seen == []

        # The same page with the private origin allowed as a file host: fetched.
        with start_proxy(upstream_url, config={"upstream": {"file_hosts": [private]}}) as proxy:
            allowed = httpx.get(proxy.url + files + "demo_pkg-1.1.0-py3-none-any.whl.provenance")
        assert allowed.status_code == 200, allowed.text
        assert private_service.seen == ["/internal/provenance"]
