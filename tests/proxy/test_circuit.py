"""circuit.py: the breaker's states with an injected clock, and the upstream client using it."""

from __future__ import annotations

import httpx
import pytest

from pipgate.proxy.errors import CircuitOpen
from pipgate.proxy.upstream.circuit import BreakerConfig, Breakers, State, origin_of
from pipgate.proxy.upstream.client import UpstreamClient, UpstreamConfig


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def breaker(clock: Clock, transitions: list[str] | None = None, **config):  # type: ignore[no-untyped-def]
    seen = transitions if transitions is not None else []
    breakers = Breakers(
        BreakerConfig(**{"failures": 3, "backoff": 10.0, "max_backoff": 30.0, **config}),
        clock=clock,
        on_transition=lambda origin, state: seen.append(f"{origin} {state.label}"),
    )
    return breakers.for_url("https://up.example/simple/demo/")


def test_opens_after_consecutive_failures_only(clock):
    b = breaker(clock)
    for _ in range(2):
        b.admit("page")
        b.failed()
    b.admit("page")
    b.succeeded()  # a success in between starts the count again
    for _ in range(2):
        b.admit("page")
        b.failed()
    assert b.state is State.CLOSED
    b.admit("page")
    b.failed()
    assert b.state is State.OPEN
    with pytest.raises(CircuitOpen, match=r"https://up.example:443 .* 3 times in a row") as exc:
        b.admit("page 'demo'")
    assert exc.value.response_headers == {"Retry-After": "10"}


def test_one_probe_after_the_backoff_then_closed_or_open_for_longer(clock):
    transitions: list[str] = []
    b = breaker(clock, transitions, failures=1)
    b.admit("page")
    b.failed()
    clock.now += 10
    assert b.admit("page") is True  # the probe
    assert b.state is State.HALF_OPEN
    with pytest.raises(CircuitOpen):
        b.admit("page")  # one probe at a time
    b.failed(probe=True)
    assert (b.state, b.backoff) == (State.OPEN, 20.0)
    clock.now += 19
    with pytest.raises(CircuitOpen):
        b.admit("page")
    clock.now += 1
    assert b.admit("page") is True
    b.abandoned(probe=True)  # the probe's client hung up: another may probe
    assert b.admit("page") is True
    b.failed(probe=True)
    assert b.backoff == 30.0  # capped at max_backoff
    clock.now += 30
    b.succeeded(probe=b.admit("page"))
    assert (b.state, b.backoff, b.consecutive_failures) == (State.CLOSED, 10.0, 0)
    origin = "https://up.example:443"
    assert transitions == [
        f"{origin} open",
        f"{origin} half-open",
        f"{origin} open",
        f"{origin} half-open",
        f"{origin} open",
        f"{origin} half-open",
        f"{origin} closed",
    ]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://pypi.org/simple/x/", "https://pypi.org:443"),
        ("http://user:secret@127.0.0.1:8081/simple/", "http://127.0.0.1:8081"),
        ("https://files.pythonhosted.org/packages/a.whl", "https://files.pythonhosted.org:443"),
        ("http://[::1]:9000/simple/", "http://[::1]:9000"),
    ],
)
def test_origin_is_scheme_host_and_port_without_credentials(url, origin):
    assert origin_of(url) == origin


async def test_the_upstream_client_stops_asking_once_the_circuit_opens(clock):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503)

    client = UpstreamClient(
        UpstreamConfig(url="https://up.example/simple/", retries=2, backoff=0),
        transport=httpx.MockTransport(handler),
        breakers=Breakers(BreakerConfig(failures=2, backoff=60.0), clock=clock),
    )
    with pytest.raises(CircuitOpen, match="circuit open"):
        await client.get_project("demo")  # 503, 503, then refused before a third try
    with pytest.raises(CircuitOpen):
        await client.get_project("other")
    assert calls == ["/simple/demo/", "/simple/demo/"]
    await client.aclose()
