"""The admin API: auth, scopes, listing, actions, restart, webhook (on a real port), and
hostile requests and bad input (in process: nothing there needs a socket)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.console import csrf_of, logged_in
from tests.support.fresh_release import (
    FRESH_VERSION,
    SDIST,
    WHEEL,
    fresh_offered,
    hold_fresh_release,
)
from tests.support.markup import offered
from tests.support.proxies import ADMIN, READER, InProcessProxy
from tests.support.proxies import RunningProxy as Proxy
from tests.support.servers import run_app


def test_a_held_release_is_one_entry_and_downloads_count_on_their_file(proxy: Proxy) -> None:
    (entry,) = hold_fresh_release(proxy)
    assert (entry["version"], entry["views"], entry["requests"]) == (FRESH_VERSION, 1, 0)
    assert [f["file"] for f in entry["files"]] == [WHEEL, SDIST]
    refused = httpx.get(f"{proxy.url}/files/demo-pkg/{WHEEL}")
    assert refused.status_code == 403
    with proxy.client() as api:
        shown = api.get(f"/quarantine/{entry['id']}").json()
    assert (shown["views"], shown["requests"]) == (1, 1)
    assert {f["file"]: f["requests"] for f in shown["files"]} == {WHEEL: 1, SDIST: 0}


ENDPOINTS = [
    ("GET", "/quarantine"),
    ("GET", "/quarantine/1"),
    ("POST", "/quarantine/1/release"),
    ("POST", "/lists/allow/add"),
    ("GET", "/decisions"),
    ("GET", "/stats"),
]


@pytest.mark.parametrize(
    "token", [None, "wrong-token", ADMIN[:-1]], ids=["none", "wrong", "prefix"]
)
def test_unauthenticated_and_wrong_tokens_are_refused(proxy: Proxy, token: str | None) -> None:
    with proxy.client(token) as api:
        for method, path in ENDPOINTS:
            response = api.request(method, path, json={"reason": "x"})
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "token" in response.json()["error"]


def test_read_scope_lists_but_cannot_act(proxy: Proxy) -> None:
    entries = hold_fresh_release(proxy)
    with proxy.client(READER) as api:
        assert api.get("/whoami").json() == {"name": "rita", "scope": "read"}
        assert api.get("/quarantine").status_code == 200
        assert api.get(f"/quarantine/{entries[0]['id']}").status_code == 200
        refused = api.post(f"/quarantine/{entries[0]['id']}/release", json={"reason": "x"})
        assert refused.status_code == 403 and "scope 'read'" in refused.json()["error"]
        assert api.post("/lists/allow/add", json={"rule": "x", "reason": "x"}).status_code == 403


def test_package_routes_need_no_admin_credentials(proxy: Proxy) -> None:
    assert httpx.get(f"{proxy.index_url}demo-pkg/").status_code == 200


def test_releasing_an_entry_releases_its_version_on_the_very_next_page(proxy: Proxy) -> None:
    (entry,) = hold_fresh_release(proxy)
    with proxy.client() as api:
        rule = api.post(f"/quarantine/{entry['id']}/release", json={"reason": "ok"}).json()
        assert (rule["version"], rule["file"], rule["index"]) == (FRESH_VERSION, None, "default")
        assert api.get(f"/quarantine/{entry['id']}").json()["state"] == "released"
    page = offered(httpx.get(f"{proxy.index_url}demo-pkg/").text)
    assert WHEEL in page and SDIST in page


def test_one_file_of_an_entry_can_be_released(proxy: Proxy) -> None:
    (entry,) = hold_fresh_release(proxy)
    with proxy.client() as api:
        body = {"scope": "file", "file": WHEEL, "reason": "ok"}
        api.post(f"/quarantine/{entry['id']}/release", json=body).raise_for_status()
        shown = api.get(f"/quarantine/{entry['id']}").json()
    assert shown["state"] == "quarantined"  # the sdist is still held
    assert {f["file"]: f["state"] for f in shown["files"]} == {
        WHEEL: "released",
        SDIST: "quarantined",
    }
    page = offered(httpx.get(f"{proxy.index_url}demo-pkg/").text)
    assert WHEEL in page
    assert SDIST not in page


def test_reject_keeps_it_blocked_with_the_reason(proxy: Proxy) -> None:
    (entry,) = hold_fresh_release(proxy)
    with proxy.client() as api:
        api.post(
            f"/quarantine/{entry['id']}/reject", json={"file": WHEEL, "reason": "malware"}
        ).raise_for_status()
    refused = httpx.get(f"{proxy.url}/files/demo-pkg/{WHEEL}")
    assert refused.status_code == 403
    assert "rejected by alice: malware" in refused.text
    assert refused.headers["x-pipgate-policy"] == "review"


def test_filters_pagination_and_errors(proxy: Proxy) -> None:
    hold_fresh_release(proxy)
    with proxy.client() as api:
        page = api.get("/quarantine", params={"limit": 1}).json()
        assert len(page["entries"]) == 1 and page["total"] == 1
        assert api.get("/quarantine", params={"offset": 1}).json()["entries"] == []
        assert api.get("/quarantine", params={"policy": "typosquat"}).json()["total"] == 0
        assert api.get("/quarantine", params={"state": "bogus"}).status_code == 400
        assert api.get("/quarantine/999").status_code == 404
        missing_reason = api.post(f"/quarantine/{page['entries'][0]['id']}/release", json={})
        assert missing_reason.status_code == 400
        assert (
            api.post(
                "/quarantine/1/release", content=b"[]", headers={"Content-Type": "application/json"}
            ).status_code
            == 400
        )


def test_lists_decisions_stats_and_openapi(proxy: Proxy) -> None:
    hold_fresh_release(proxy)
    with proxy.client() as api:
        added = api.post("/lists/allow/add", json={"rule": "demo-pkg", "reason": "vetted"})
        assert added.status_code == 201
        assert (
            api.post("/lists/allow/add", json={"rule": "demo-pkg", "reason": "x"}).status_code
            == 409
        )
        assert [r["rule"] for r in api.get("/lists/allow").json()["rules"]] == ["demo-pkg"]
        assert fresh_offered(httpx.get(f"{proxy.index_url}demo-pkg/").text)
        assert api.post("/lists/allow/remove", json={"rule": "demo-pkg"}).status_code == 200
        assert not fresh_offered(httpx.get(f"{proxy.index_url}demo-pkg/").text)

        found = api.get("/decisions", params={"q": "minimum age"}).json()["decisions"]
        assert found and all(d["policy"] == "release-age" for d in found)
        assert api.get("/decisions", params={"project": "nothing"}).json()["decisions"] == []

        stats = api.get("/stats", params={"hours": 3}).json()
        assert len(stats["hours"]) == 3 and stats["hours"][-1]["quarantined"] == 1
        assert stats["top_held"][0] == {
            "index": "default",
            "project": "demo-pkg",
            "views": 1,
            "requests": 0,
            "entries": 1,
        }
        assert [a["action"] for a in api.get("/audit").json()["audit"]] == [
            "allow-remove",
            "allow-add",
        ]

    schema = httpx.get(f"{proxy.url}/-/admin/openapi.json").json()
    assert schema["openapi"].startswith("3.") and "/quarantine/{entry}/release" in schema["paths"]


def test_state_survives_a_restart(
    start_proxy: Callable[..., Any], upstream_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kept"
    with start_proxy(upstream_url, data_dir=data_dir) as proxy:
        (entry,) = hold_fresh_release(proxy)
        with proxy.client() as api:
            api.post(f"/quarantine/{entry['id']}/release", json={"reason": "ok"}).raise_for_status()
    with start_proxy(upstream_url, data_dir=data_dir) as proxy:
        with proxy.client() as api:
            again = api.get(f"/quarantine/{entry['id']}").json()
        assert again["state"] == "released" and again["changed_by"] == "alice"
        assert WHEEL in httpx.get(f"{proxy.index_url}demo-pkg/").text


def test_package_auth_accepts_basic_and_bearer(
    start_proxy: Callable[..., Any], upstream_url: str
) -> None:
    with start_proxy(upstream_url, config={"admin": {"package_auth": True}}) as proxy:
        page = f"{proxy.index_url}demo-pkg/"
        assert httpx.get(page).status_code == 401
        assert httpx.get(page, auth=("anyone", "wrong")).status_code == 401
        assert httpx.get(page, auth=("anyone", READER)).status_code == 200
        assert httpx.get(page, headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 200
        assert httpx.get(f"{proxy.url}/healthz").status_code == 200


def test_webhook_gets_the_new_entries_in_one_message_with_retries(
    start_proxy: Callable[..., Any], upstream_url: str
) -> None:
    received: list[dict[str, Any]] = []
    attempts = {"n": 0}
    done = threading.Event()

    async def hook(request: Request) -> JSONResponse:
        attempts["n"] += 1
        if attempts["n"] == 1:
            return JSONResponse({}, status_code=503)
        received.append(await request.json())
        done.set()
        return JSONResponse({})

    with run_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as hook_url:
        config = {"admin": {"webhook_url": f"{hook_url}/hook", "webhook_retries": 2}}
        with start_proxy(upstream_url, config=config) as proxy:
            hold_fresh_release(proxy)
            httpx.get(f"{proxy.index_url}demo-pkg/")  # a repeat makes no new entries
            assert done.wait(10)
    (message,) = received  # the held version: one entry, one message
    assert message["count"] == 1 and attempts["n"] == 2
    (entry,) = message["entries"]
    assert [f["file"] for f in entry["files"]] == [WHEEL, SDIST]
    assert f"quarantined demo-pkg {FRESH_VERSION} (2 files) (release-age)" in message["text"]


def test_entry_ids_beyond_64_bits_are_not_found(proxy: Proxy) -> None:
    huge = "99999999999999999999"  # the route converter passes it; SQLite cannot bind it
    with proxy.client() as api:
        assert api.get(f"/quarantine/{huge}").status_code == 404
        for action in ("release", "reject"):
            response = api.post(f"/quarantine/{huge}/{action}", json={"reason": "x"})
            assert response.status_code == 404, response.text
            assert f"no quarantine entry {huge}" in response.json()["error"]
    with logged_in(proxy) as ui:
        assert ui.get(f"/entries/{huge}").status_code == 404
        form = {"kind": "reject", "reason": "x", "csrf": csrf_of(ui.get("/lists").text)}
        done = ui.post(f"/entries/{huge}/decide", data=form)
        assert done.status_code == 303 and "no+quarantine+entry" in done.headers["location"]


def test_package_auth_covers_indexes_named_like_open_paths(
    start_proxy_in_process: Callable[..., Any],
) -> None:
    # "/metrics", "/healthz" and "/readyz" are open; an index whose name merely starts
    # with those letters (metrics-team, healthzone) must not be.
    config = {
        "admin": {"package_auth": True},
        "indexes": {"metrics-team": {}, "healthzone": {}, "readyz2": {}},
    }
    with start_proxy_in_process(config=config) as proxy:
        http = proxy.http
        for index in ("metrics-team", "healthzone", "readyz2"):
            for path in (f"/{index}/simple/demo-pkg/", f"/{index}/simple/"):
                assert http.get(path).status_code == 401, path
            assert http.get(f"/{index}/simple/demo-pkg/", auth=("x", ADMIN)).status_code == 200
        for open_path in ("/healthz", "/readyz", "/metrics"):
            assert http.get(open_path).status_code == 200


def test_admin_api_refuses_a_cross_site_form_post(proxy_in_process: InProcessProxy) -> None:
    # A browser can send a text/plain form whose body is valid JSON, with no preflight.
    # The API must only act on application/json (which needs a CORS preflight).
    body = '{"rule": "evil-*", "reason": "x", "pad": "="}'
    with proxy_in_process.client() as api:
        refused = api.post("/lists/allow/add", content=body, headers={"Content-Type": "text/plain"})
        assert refused.status_code == 415
        assert api.get("/lists/allow").json()["rules"] == []
        assert api.post("/lists/allow/add", json={"rule": "ok-*", "reason": "x"}).status_code == 201


def test_admin_api_takes_no_ambient_basic_credentials(proxy_in_process: InProcessProxy) -> None:
    # A browser replays cached HTTP basic credentials (package_auth's realm) on its own;
    # the admin API is documented as bearer-only and must not accept them.
    basic = "Basic " + base64.b64encode(f"x:{ADMIN}".encode()).decode()
    with proxy_in_process.at("/-/admin", headers={"Authorization": basic}) as api:
        assert api.get("/whoami").status_code == 401
        assert api.post("/lists/deny/add", json={"rule": "x", "reason": "x"}).status_code == 401
    with proxy_in_process.client() as api:
        assert api.get("/whoami").status_code == 200  # the same token as a bearer


def test_an_until_too_far_away_is_a_400_not_a_crash(proxy_in_process: InProcessProxy) -> None:
    (entry,) = hold_fresh_release(proxy_in_process)
    with proxy_in_process.client() as api:
        for until, error in [
            ("99999999999w", "'until' '99999999999w' is neither a date"),
            ("9999-12-31T23:59:59-14:00", "is out of range: at most 100 years from now"),
        ]:
            response = api.post(
                f"/quarantine/{entry['id']}/release", json={"reason": "x", "until": until}
            )
            assert response.status_code == 400, (until, response.text)
            assert error in response.json()["error"]
        assert api.get(f"/quarantine/{entry['id']}").json()["state"] == "quarantined"


def test_wrong_json_types_are_a_400_not_a_crash(proxy_in_process: InProcessProxy) -> None:
    with proxy_in_process.client() as api:
        for path, body in [
            ("/lists/allow/add", {"rule": "x", "reason": "x", "index": {"a": 1}}),
            ("/decide/release", {"project": "demo-pkg", "reason": "x", "version": 1}),
            ("/decide/release", {"project": "demo-pkg", "reason": "x", "file": ["a"]}),
            ("/decide/release", {"project": "demo-pkg", "reason": "x", "until": 5}),
            ("/lists/deny/remove", {"rule": "x", "index": 3}),
        ]:
            response = api.post(path, json=body)
            assert response.status_code == 400, (path, body, response.status_code)


def test_reasons_are_bounded(proxy_in_process: InProcessProxy) -> None:
    with proxy_in_process.client() as api:
        response = api.post("/lists/deny/add", json={"rule": "evil", "reason": "x" * 1_000_000})
        assert response.status_code == 400
        assert api.get("/audit").json()["audit"] == []
