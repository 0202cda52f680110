"""Hostile input from either side, against a real pipgate and a fake upstream on real ports:
look-alike names from clients, markup from upstream pages, upstream URLs that point
outside the allowed origins, control characters in request paths that would forge
access-log lines."""

from __future__ import annotations

import html
import io
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.fake_upstream import FakeProject, _release
from tests.support.markup import markup_of
from tests.support.servers import run_app, run_process


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


def test_non_ascii_look_alike_names_never_reach_upstream(http, proxy, upstream):
    upstream.reset_hits()
    for name in LOOK_ALIKES:
        for path in (
            f"/simple/{quote(name)}/",
            f"/strict/simple/{quote(name)}/?format=json",
            f"/files/{quote(name)}/{quote(name)}-1.0.tar.gz",
            f"/files/{quote(name)}/{quote(name)}-1.0.tar.gz.metadata",
        ):
            response = http.get(proxy.url + path)
            assert response.status_code == 404, (path, response.status_code, response.text)
            assert "is not a valid project name" in response.text, path
            assert "ASCII" in response.text
    assert upstream.requests == []


# -- markup from upstream --------------------------------------------------------------------------

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
    http, upstream, upstream_url, start_proxy, dists_dir
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
                page = http.get(f"{proxy.index_url}{project}/", headers={"Accept": accept})
                assert page.status_code == 200, page.text
                served = markup_of(page.text)
                assert served.only_page_markup, (project, served.tags, served.attributes)
                assert EVIL in served.values  # kept as text, escaped
                assert page.headers["content-security-policy"] == API_CSP
                assert page.headers["x-content-type-options"] == "nosniff"
        json_page = http.get(f"{proxy.index_url}demo-pkg/?format=json")
        assert json_page.headers["content-security-policy"] == API_CSP
        files = {f["filename"]: f for f in json_page.json()["files"]}
        assert files["demo_pkg-1.0.0-py3-none-any.whl"]["hashes"].keys() == {"sha256"}
        assert files[EVIL_FILENAME]["hashes"] == {"sha256": "cd" * 32}

        responses = {
            "root index": http.get(proxy.index_url),
            "refused page": http.get(f"{proxy.index_url}coloarma/"),
            "refused file": http.get(f"{proxy.url}/files/coloarma/coloarma-0.4.6.tar.gz"),
            "invalid name": http.get(f"{proxy.index_url}-x-/"),
            "missing file": http.get(f"{proxy.url}/files/demo-pkg/nothing-1.0.tar.gz"),
            "no route": http.get(f"{proxy.url}/nowhere"),
            "admin api": http.get(f"{proxy.url}/-/admin/quarantine"),
        }
        for what, response in responses.items():
            assert response.headers["content-security-policy"] == API_CSP, what
            assert response.headers["x-content-type-options"] == "nosniff", what
        assert markup_of(responses["refused page"].text).only_page_markup
        console = http.get(f"{proxy.url}/-/ui/login")
        assert console.status_code == 200
        csp = console.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert "frame-ancestors 'none'" in csp


# -- fetches outside the allowed origins --------------------------------------------------------


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


def test_no_fetch_outside_the_allowed_origins(http, upstream, upstream_url, start_proxy):
    private_service = PrivateService()
    base = upstream_url.removesuffix("/simple/")
    with run_app(private_service.app) as private:  # the upstream's host, another port
        page = _ssrf_page(upstream, base, private)
        upstream.raw_pages["demo-pkg"] = ("application/vnd.pypi.simple.v1+json", page)
        upstream.redirects[upstream.file_path("demo_pkg-1.1.0.tar.gz")] = f"{private}/internal/x"
        files = "/files/demo-pkg/"
        with start_proxy(upstream_url) as proxy:
            refused = {
                what: http.get(proxy.url + files + path)
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
            wheel = http.get(proxy.url + files + "demo_pkg-1.1.0-py3-none-any.whl")
            assert wheel.status_code == 200  # upstream's own origin is fetched as ever
            metrics = http.get(f"{proxy.url}/metrics").text
        assert 'pipgate_upstream_refused_total{reason="origin"} 4.0' in metrics
        assert 'pipgate_upstream_refused_total{reason="redirect"} 1.0' in metrics
        assert private_service.seen == []

        # The same page with the private origin allowed as a file host: fetched.
        with start_proxy(upstream_url, config={"upstream": {"file_hosts": [private]}}) as proxy:
            allowed = http.get(proxy.url + files + "demo_pkg-1.1.0-py3-none-any.whl.provenance")
        assert allowed.status_code == 200, allowed.text
        assert private_service.seen == ["/internal/provenance"]


# -- access-log injection -----------------------------------------------------------------------

#: A path whose decoded form holds a newline followed by a complete, forged access-log line,
#: a carriage return, NUL, a terminal escape and U+2028 (a line break to some readers).
FORGED = '0123456789abcdef 10.0.0.1 "GET /simple/forged/" 200 1 0.1ms'
HOSTILE_PATH = "/simple/x%0a" + quote(FORGED) + "%0d%0aINFO%20forged%00%1b[31m%e2%80%a8red/"


def _raw_get(url: str, path: str) -> bytes:
    """GET ``path`` over a plain socket: the request line exactly as written."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_newline_in_a_path_forges_no_log_line(upstream_url, start_proxy):
    out = io.StringIO()
    handler = logging.StreamHandler(out)  # any formatter: the access log escapes its fields
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    access = logging.getLogger("pipgate.access")
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        with start_proxy(upstream_url, config={"server": {"access_log": True}}) as proxy:
            answer = _raw_get(proxy.url, HOSTILE_PATH)
            assert answer.startswith(b"HTTP/1.1 404 "), answer[:200]
            _raw_get(proxy.url, "/healthz")
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines  # one line per request, whatever the path holds
    hostile = lines[0]
    assert '"GET /simple/x\\x0a0123456789abcdef 10.0.0.1' in hostile
    assert '\\x0d\\x0aINFO forged\\x00\\x1b[31m\\u2028red/" 404 ' in hostile
    assert all(line.startswith("INFO pipgate.access ") for line in lines)


def test_json_logs_from_pipgate_serve(upstream_url, tmp_path):
    with socket.socket() as probe:  # a free port for the server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pipgate = Path(sys.executable).with_name("pipgate")
    argv = [str(pipgate), "serve", "--port", str(port), "--upstream", upstream_url]
    argv += ["--data-dir", str(tmp_path / "data"), "--log-format", "json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPGATE_")}
    with run_process(argv, f"http://127.0.0.1:{port}/healthz", env=env) as server:
        assert _raw_get(server.url.removesuffix("/healthz"), HOSTILE_PATH).startswith(
            b"HTTP/1.1 404 "
        )
        deadline = time.monotonic() + 10
        while "/simple/x" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.02)  # the access line is written after the answer
        output = server.output()
    records = [json.loads(line) for line in output.splitlines()]  # every line is one JSON object
    loggers = {record["logger"] for record in records}
    assert {"uvicorn.error", "pipgate", "pipgate.access"} <= loggers
    (access,) = [r for r in records if r["logger"] == "pipgate.access" and r["status"] == 404]
    assert access["path"].startswith(f"/simple/x\n{FORGED}\r\nINFO forged\x00\x1b[31m\u2028")
    assert access["method"] == "GET" and access["client"] == "127.0.0.1"
    assert len(access["request_id"]) == 16 and access["bytes"] > 0
    assert access["message"].startswith(access["request_id"] + ' 127.0.0.1 "GET /simple/x\\x0a')
