"""origins.py: which origins upstream requests may go to, and the client's checks of each hop."""

from __future__ import annotations

import httpx
import pytest

from pipgate.proxy.errors import OriginRefused
from pipgate.proxy.upstream.client import UpstreamClient, UpstreamConfig
from pipgate.proxy.upstream.origins import Origins, default_file_hosts, origin_of, parse_origin


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://pypi.org/simple/", ("https", "pypi.org", 443)),
        ("https://PyPI.org:443/x", ("https", "pypi.org", 443)),
        ("http://user:pw@10.0.0.1/x", ("http", "10.0.0.1", 80)),
        ("http://[::1]:8080/", ("http", "::1", 8080)),
    ],
)
def test_origin_of(url: str, origin: tuple[str, str, int]) -> None:
    assert origin_of(url) == origin


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/", "/relative", "gopher://x"])
def test_origin_of_invalid(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        origin_of(url)


@pytest.mark.parametrize(
    ("text", "origin"),
    [
        ("https://files.example", "https://files.example"),
        ("HTTPS://Files.Example:443/", "https://files.example"),
        ("http://10.0.0.7:8080", "http://10.0.0.7:8080"),
    ],
)
def test_parse_origin(text: str, origin: str) -> None:
    assert parse_origin(text) == origin


@pytest.mark.parametrize(
    "text", ["https://files.example/packages/", "https://u:p@files.example", "https://x/?a=1", "x"]
)
def test_parse_origin_invalid(text: str) -> None:
    with pytest.raises(ValueError):
        parse_origin(text)


@pytest.mark.parametrize(
    ("upstream", "hosts"),
    [
        ("https://pypi.org/simple/", ("https://pypi.org", "https://files.pythonhosted.org")),
        ("https://mirror.example/pypi/simple/", ("https://mirror.example",)),
        ("http://127.0.0.1:3141/root/pypi/+simple/", ("http://127.0.0.1:3141",)),
    ],
)
def test_default_file_hosts(upstream: str, hosts: tuple[str, ...]) -> None:
    assert default_file_hosts(upstream) == hosts


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://up.example/packages/a.whl", True),
        ("https://UP.example:443/a.whl", True),
        ("https://files.example/a.whl", True),
        ("https://up.example:8443/a.whl", False),  # the upstream's host, another port
        ("http://up.example/a.whl", False),  # another scheme
        ("https://127.0.0.1/a.whl", False),
        ("https://files.example.evil/a.whl", False),
        ("file:///etc/passwd", False),
    ],
)
def test_origins(url: str, allowed: bool) -> None:
    origins = Origins("https://up.example/simple/", ["https://files.example"])
    assert (url in origins) is allowed


async def test_every_redirect_hop_is_checked() -> None:
    seen: list[str] = []
    refused: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        hops = {
            "/a.whl": "https://files.example/b.whl",  # allowed
            "/b.whl": "http://169.254.169.254/latest/meta-data/",  # not
        }
        return httpx.Response(302, headers={"location": hops[request.url.path]})

    config = UpstreamConfig(url="https://up.example/simple/", file_hosts=("https://files.example",))
    upstream = UpstreamClient(
        config, transport=httpx.MockTransport(handler), refused=refused.append
    )
    with pytest.raises(OriginRefused, match="redirected to http://169.254.169.254/") as info:
        await upstream.get_bytes("https://up.example/a.whl", "file 'a.whl'")
    assert info.value.status_code == 502
    assert seen == ["https://up.example/a.whl", "https://files.example/b.whl"]
    assert refused == ["redirect"]
    with pytest.raises(OriginRefused, match="points at https://up.example:8443/"):
        await upstream.get_bytes("https://up.example:8443/a.whl", "file 'a.whl'")
    assert refused == ["redirect", "origin"]
    await upstream.aclose()
