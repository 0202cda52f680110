"""The upstream client, against httpx.MockTransport."""

from __future__ import annotations

import httpx
import pytest

from pipgate.proxy.errors import UpstreamNotFound, UpstreamTimeout, UpstreamUnavailable
from pipgate.proxy.upstream.client import NotModified, UpstreamClient, UpstreamConfig
from pipgate.proxy.urls import redact
from tests.support.mock_upstream import app_on_mock_upstream

JSON_PAGE = b'{"meta": {"api-version": "1.1"}, "name": "demo", "files": [{"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", "hashes": {}}]}'


def client(handler, **config) -> UpstreamClient:
    cfg = UpstreamConfig(url="https://user:secret@up.example/simple", backoff=0, **config)
    return UpstreamClient(cfg, transport=httpx.MockTransport(handler))


async def test_asks_for_json_first_and_parses_it():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(
            200,
            content=JSON_PAGE,
            headers={"content-type": "application/vnd.pypi.simple.v1+json", "etag": '"v1"'},
        )

    page = await client(handler).get_project("demo")
    assert seen[0].headers["accept"].startswith("application/vnd.pypi.simple.v1+json")
    assert page.project.files[0].url == "https://user:secret@up.example/simple/demo/demo-1.0.tar.gz"
    assert page.etag == '"v1"'


async def test_html_answer_is_parsed_as_html():
    html = b'<html><body><a href="demo-1.0.tar.gz#sha256=' + b"b" * 64 + b'">x</a></body></html>'
    page = await client(
        lambda r: httpx.Response(200, content=html, headers={"content-type": "text/html"})
    ).get_project("demo")
    assert page.project.files[0].sha256 == "b" * 64


async def test_revalidation_sends_validators_and_raises_not_modified():
    def handler(request):
        assert request.headers["if-none-match"] == '"v1"'
        return httpx.Response(304)

    with pytest.raises(NotModified):
        await client(handler).get_project("demo", etag='"v1"')


async def test_retries_5xx_then_succeeds():
    answers = iter(
        [
            httpx.Response(503),
            httpx.Response(502),
            httpx.Response(200, content=JSON_PAGE, headers={"content-type": "application/json"}),
        ]
    )
    page = await client(lambda r: next(answers), retries=2).get_project("demo")
    assert page.project.files


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (lambda r: httpx.Response(404), UpstreamNotFound),
        (lambda r: httpx.Response(410), UpstreamNotFound),
        (lambda r: httpx.Response(503), UpstreamUnavailable),
        (lambda r: httpx.Response(401), UpstreamUnavailable),
        (
            lambda r: httpx.Response(
                200, content=b"{", headers={"content-type": "application/json"}
            ),
            UpstreamUnavailable,
        ),
    ],
)
async def test_failures_are_translated_and_name_the_project_without_credentials(answer, error):
    with pytest.raises(error) as caught:
        await client(answer, retries=1).get_project("demo")
    assert "demo" in str(caught.value)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (httpx.ReadTimeout("slow"), UpstreamTimeout),
        (httpx.ConnectError("refused"), UpstreamUnavailable),
    ],
)
async def test_transport_errors_are_retried_then_translated(exc, error):
    calls = []

    def handler(request):
        calls.append(request)
        raise exc

    with pytest.raises(error):
        await client(handler, retries=2).get_project("demo")
    assert len(calls) == 3


async def test_get_bytes_enforces_a_limit():
    c = client(lambda r: httpx.Response(200, content=b"x" * 100))
    with pytest.raises(UpstreamUnavailable, match="larger than"):
        await c.get_bytes("https://up.example/f.metadata", "metadata", limit=10)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@host:8443/simple/", "https://***@host:8443/simple/"),
        ("https://token@host/simple/", "https://***@host/simple/"),
        ("https://host/simple/", "https://host/simple/"),
    ],
)
def test_redact(url, shown):
    assert redact(url) == shown


@pytest.mark.parametrize(
    ("url", "config"),
    [
        ("https://up.example/simple", {"username": "pipgate", "password": "s3cret"}),
        ("https://pipgate:s3cret@up.example/simple", {}),
    ],
)
async def test_credentials_go_to_the_upstream_origin_only(url, config):
    """A private upstream's page links its files absolutely, without credentials: they
    get the upstream's credentials; a file host of another origin never sees them."""
    page = (
        b'{"meta": {"api-version": "1.1"}, "name": "demo", "files": ['
        b'{"filename": "demo-1.0.tar.gz", "url": "https://up.example/files/demo-1.0.tar.gz", "hashes": {}},'
        b'{"filename": "demo-1.0-py3-none-any.whl", "url": "https://cdn.example/demo-1.0-py3-none-any.whl", "hashes": {}}]}'
    )
    seen = {}

    def handler(request):
        seen[request.url.host + request.url.path] = request.headers.get("authorization")
        if request.url.path.endswith("/demo/"):
            return httpx.Response(
                200, content=page, headers={"content-type": "application/vnd.pypi.simple.v1+json"}
            )
        return httpx.Response(200, content=b"x")

    cfg = UpstreamConfig(
        url=url, backoff=0, file_hosts=("https://up.example", "https://cdn.example"), **config
    )
    upstream = UpstreamClient(cfg, transport=httpx.MockTransport(handler))
    fetched = await upstream.get_project("demo")
    for file in fetched.project.files:
        await upstream.get_bytes(file.url, file.filename)
    basic = "Basic cGlwZ2F0ZTpzM2NyZXQ="  # pipgate:s3cret
    assert seen == {
        "up.example/simple/demo/": basic,
        "up.example/files/demo-1.0.tar.gz": basic,
        "cdn.example/demo-1.0-py3-none-any.whl": None,
    }


def test_a_304_to_an_unconditional_request_is_a_502_not_a_500(tmp_path):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(304)

    with app_on_mock_upstream(tmp_path, handler) as app:
        response = app.get("/simple/demo/")
    assert response.status_code == 502, response.text


async def test_a_huge_project_page_is_refused_not_read_whole_into_memory():
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
        await upstream.get_project("demo")
    assert chunks[0] < 10
