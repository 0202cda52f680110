"""Flooding the review queue and the chat (issue 8, item 6).

Invented names are judged by name alone (dependency confusion, the allowlist)
and never reach upstream: they are counted in aggregate rows, not queued one
by one. Webhook messages are batched and rate-limited; a client refused too
often gets 429.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pipgate.proxy.quarantine.webhook import MAX_LISTED, Webhook
from pipgate.proxy.rate_limit import ClientBuckets
from tests.support.fake_upstream import FakeUpstream
from tests.support.review_records import entry_of
from tests.support.servers import run_app

SPAM = 60


class Hook:
    """A chat webhook on a real port that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        self.app = Starlette(routes=[Route("/hook", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self.changed:
            self.messages.append(body)
            self.changed.notify_all()
        return JSONResponse({})

    def wait_for(self, entries: int) -> None:
        with self.changed:
            assert self.changed.wait_for(
                lambda: sum(m["count"] for m in self.messages) >= entries, 10
            ), self.messages


def test_invented_names_are_counted_not_queued(
    start_proxy: Callable[..., Any], upstream_url: str, upstream: FakeUpstream
) -> None:
    hook = Hook()
    config = {
        "policies": {"dependency_confusion": {"internal": ["acme-*"]}},
        "indexes": {"strict": {"policies": {"allowlist": {"mode": "quarantine"}}}},
        "admin": {"hold_limit": 0},
    }
    with run_app(hook.app) as hook_url:
        config["admin"]["webhook_url"] = f"{hook_url}/hook"
        with start_proxy(upstream_url, config=config) as proxy, httpx.Client() as client:
            upstream.reset_hits()
            for n in range(SPAM):
                assert client.get(f"{proxy.url}/simple/acme-spam-{n}/").status_code == 451
                assert client.get(f"{proxy.url}/strict/simple/spam-{n}/").status_code == 451
            assert sum(upstream.hits.values()) == 0
            # A project that exists (its page is cached) still gets its request-access entry.
            assert client.get(f"{proxy.url}/simple/demo-dep/").status_code == 200
            assert client.get(f"{proxy.url}/strict/simple/demo-dep/").status_code == 451
            with proxy.client() as api:
                listed = api.get("/quarantine").json()
                aggregates = api.get("/aggregates").json()["aggregates"]
            hook.wait_for(1)
            with logged_in_page(proxy) as queue:
                assert "acme-spam-0" in queue and "Refused without a queue entry" in queue
    assert [(e["index"], e["project"]) for e in listed["entries"]] == [("strict", "demo-dep")]
    rows = {(a["index"], a["policy"]): a for a in aggregates}
    assert rows.keys() == {("default", "dependency-confusion"), ("strict", "allowlist")}
    confusion = rows[("default", "dependency-confusion")]
    assert confusion["requests"] == SPAM and confusion["action"] == "block"
    assert confusion["samples"] == [f"acme-spam-{n}" for n in range(10)]
    assert rows[("strict", "allowlist")]["requests"] == SPAM
    (message,) = hook.messages
    assert message["count"] == 1 and message["entries"][0]["project"] == "demo-dep"


def logged_in_page(proxy: Any) -> Any:
    from contextlib import contextmanager

    from tests.support.console import logged_in

    @contextmanager
    def page() -> Any:
        with logged_in(proxy) as ui:
            yield ui.get("/").text

    return page()


def test_webhook_messages_are_batched_and_rate_limited() -> None:
    hook = Hook()
    entry = entry_of(version=None, files=(), policy="typosquat", reason="looks like requests")
    with run_app(hook.app) as hook_url:
        webhook = Webhook(f"{hook_url}/hook", interval=3600)
        try:
            for n in range(500):
                webhook.notify(dataclasses.replace(entry, id=n, project=f"spam-{n}"))
            hook.wait_for(1)
            for n in range(500, 503):  # within the interval: held back for the next message
                webhook.notify(dataclasses.replace(entry, id=n))
        finally:
            webhook.close()  # sends what waits, once
    counts = [m["count"] for m in hook.messages]
    assert sum(counts) == 503 and len(counts) <= 3 and counts[-1] == 3, counts
    assert all(len(m["entries"]) <= MAX_LISTED for m in hook.messages)
    assert "new quarantine entries" in hook.messages[0]["text"]


def test_a_client_refused_too_often_gets_429(
    start_proxy: Callable[..., Any], upstream_url: str
) -> None:
    config = {
        "policies": {"dependency_confusion": {"internal": ["acme-*"]}},
        "server": {"trust_forwarded": True},
        "admin": {"hold_limit": 1, "hold_burst": 5},
    }
    with start_proxy(upstream_url, config=config) as proxy, httpx.Client() as client:
        spammer = {"X-Forwarded-For": "203.0.113.9"}
        for n in range(5):
            assert client.get(f"{proxy.url}/simple/acme-{n}/", headers=spammer).status_code == 451
        limited = client.get(f"{proxy.url}/files/acme-x/acme_x-1.0.tar.gz", headers=spammer)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert "too many refused requests from 203.0.113.9" in limited.text
        # What is served is not limited, nor are other clients.
        assert client.get(f"{proxy.url}/simple/demo-dep/", headers=spammer).status_code == 200
        other = {"X-Forwarded-For": "198.51.100.7"}
        assert client.get(f"{proxy.url}/simple/acme-0/", headers=other).status_code == 451
        metrics = client.get(f"{proxy.url}/metrics").text
    assert 'pipgate_holds_rate_limited_total{index="default"} 1.0' in metrics


def test_client_buckets() -> None:
    now = [0.0]
    buckets = ClientBuckets(rate=0.5, burst=2, max_clients=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 2.0]
    now[0] = 2.0  # one token back
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0
    for client in "bcde":
        assert buckets.take(client) == 0.0
    assert len(buckets) == 3
