"""Security review of quarantine review (auth, console, API, webhook): one test per finding."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.quarantine.conftest import ADMIN, Proxy
from tests.quarantine.test_api import hold_fresh_release


def test_package_auth_covers_indexes_named_like_open_paths(
    start_proxy: Callable[..., Any], upstream_url: str
) -> None:
    # "/metrics", "/healthz" and "/readyz" are open; an index whose name merely starts
    # with those letters (metrics-team, healthzone) must not be.
    config = {
        "admin": {"package_auth": True},
        "indexes": {"metrics-team": {}, "healthzone": {}, "readyz2": {}},
    }
    with start_proxy(upstream_url, config=config) as proxy:
        for index in ("metrics-team", "healthzone", "readyz2"):
            for path in (f"/{index}/simple/demo-pkg/", f"/{index}/simple/"):
                assert httpx.get(proxy.url + path).status_code == 401, path
            assert (
                httpx.get(f"{proxy.url}/{index}/simple/demo-pkg/", auth=("x", ADMIN)).status_code
                == 200
            )
        for open_path in ("/healthz", "/readyz", "/metrics"):
            assert httpx.get(proxy.url + open_path).status_code == 200


def test_admin_api_refuses_a_cross_site_form_post(proxy: Proxy) -> None:
    # A browser can send a text/plain form whose body is valid JSON, with no preflight.
    # The API must only act on application/json (which needs a CORS preflight).
    body = '{"rule": "evil-*", "reason": "x", "pad": "="}'
    with proxy.client() as api:
        refused = api.post("/lists/allow/add", content=body, headers={"Content-Type": "text/plain"})
        assert refused.status_code == 415
        assert api.get("/lists/allow").json()["rules"] == []
        assert api.post("/lists/allow/add", json={"rule": "ok-*", "reason": "x"}).status_code == 201


def test_admin_api_takes_no_ambient_basic_credentials(proxy: Proxy) -> None:
    # A browser replays cached HTTP basic credentials (package_auth's realm) on its own;
    # the admin API is documented as bearer-only and must not accept them.
    basic = "Basic " + base64.b64encode(f"x:{ADMIN}".encode()).decode()
    with httpx.Client(base_url=f"{proxy.url}/-/admin", headers={"Authorization": basic}) as api:
        assert api.get("/whoami").status_code == 401
        assert api.post("/lists/deny/add", json={"rule": "x", "reason": "x"}).status_code == 401


def test_webhook_text_escapes_untrusted_fields() -> None:
    # The client address can come from X-Forwarded-For: a requester must not be able to
    # ping @channel or plant a disguised link in the reviewers' chat.
    from pipgate.proxy.quarantine.webhook import message

    entry = {
        "id": 1,
        "index": "default",
        "project": "demo-pkg",
        "file": "demo_pkg-1.0.whl",
        "action": "quarantine",
        "policy": "release-age",
        "reason": "too <new>",
        "top_clients": ["<!channel> <https://evil.example|approve here>"],
    }
    text = message([entry])["text"]
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text
    assert message([entry])["entries"][0]["top_clients"] == entry["top_clients"]  # unchanged


def test_webhook_text_says_blocked() -> None:
    from pipgate.proxy.quarantine.webhook import message

    entry = {
        "id": 7,
        "index": "default",
        "project": "evil",
        "file": None,
        "action": "block",
        "policy": "allowlist",
        "reason": "on the denylist",
    }
    assert "pipgate blocked project evil" in message([entry])["text"]


def test_an_until_too_far_away_is_a_400_not_a_crash(proxy: Proxy) -> None:
    wheel = next(e for e in hold_fresh_release(proxy) if e["file"].endswith(".whl"))
    with proxy.client() as api:
        for until in ("99999999999w", "9999-12-31T23:59:59-14:00"):
            response = api.post(
                f"/quarantine/{wheel['id']}/release", json={"reason": "x", "until": until}
            )
            assert response.status_code in (200, 400), (until, response.text)
            assert "error" in response.json() or response.json()["until"]


def test_wrong_json_types_are_a_400_not_a_crash(proxy: Proxy) -> None:
    with proxy.client() as api:
        for path, body in [
            ("/lists/allow/add", {"rule": "x", "reason": "x", "index": {"a": 1}}),
            ("/decide/release", {"project": "demo-pkg", "reason": "x", "version": 1}),
            ("/decide/release", {"project": "demo-pkg", "reason": "x", "file": ["a"]}),
            ("/decide/release", {"project": "demo-pkg", "reason": "x", "until": 5}),
            ("/lists/deny/remove", {"rule": "x", "index": 3}),
        ]:
            response = api.post(path, json=body)
            assert response.status_code == 400, (path, body, response.status_code)


def test_reasons_are_bounded(proxy: Proxy) -> None:
    with proxy.client() as api:
        response = api.post("/lists/deny/add", json={"rule": "evil", "reason": "x" * 1_000_000})
        assert response.status_code == 400
        assert api.get("/audit").json()["audit"] == []


def test_console_survives_hostile_offsets_and_cookies(proxy: Proxy) -> None:
    with httpx.Client(base_url=f"{proxy.url}/-/ui", timeout=10) as ui:
        # A cookie the browser holds (latin-1) that is not ASCII must not crash the check.
        hostile = {"Cookie": "pipgate_session=abc.\u00e9\u00e9".encode("latin-1")}
        assert ui.get("/", headers=hostile).status_code == 303  # to the login form
        from tests.quarantine.test_console import log_in

        assert log_in(ui).status_code == 303
        assert ui.get("/", params={"offset": str(10**30)}).status_code == 200
        forged = ui.post("/lists/deny/add", data={"rule": "x", "reason": "x", "csrf": "\u00e9"})
        assert forged.status_code == 403


def test_login_form_is_bounded(proxy: Proxy) -> None:
    # Unauthenticated: the login form must not buffer megabytes of fields.
    with httpx.Client(base_url=f"{proxy.url}/-/ui", timeout=30) as ui:
        response = ui.post("/login", data={"token": "x" * (2 << 20)})
        assert response.status_code in (400, 413)
        many = {f"f{i}": "x" for i in range(500)}
        assert ui.post("/login", data=many | {"token": "x"}).status_code in (400, 413)


def test_a_slow_reload_cannot_put_older_rules_back(tmp_path: Path) -> None:
    # The intake thread and an action both reload the overrides; the one that read the
    # rules first must not be the one that finishes last.
    from pipgate.policies.decision import Action
    from pipgate.policies.engine import ALLOWED
    from pipgate.proxy.quarantine.review import Review

    review = Review(tmp_path, clock=lambda: datetime.now(UTC))
    real_rules = review.store.rules
    entered, go = threading.Event(), threading.Event()

    def rules(**kwargs: Any) -> list[dict[str, Any]]:
        rows = real_rules(**kwargs)
        if threading.current_thread().name == "slow-reload":
            entered.set()
            go.wait(5)
        return rows

    review.store.rules = rules  # type: ignore[method-assign]
    try:
        slow = threading.Thread(target=review.refresh, name="slow-reload")
        slow.start()
        assert entered.wait(5)
        acting = threading.Thread(
            target=lambda: review.list_add(
                "deny", index="default", rule="evil", reason="malware", actor="alice"
            )
        )
        acting.start()
        acting.join(0.5)
        go.set()
        slow.join(5)
        acting.join(5)
        verdict = review.overrides.project("default", "evil", ALLOWED, datetime.now(UTC))
        assert verdict.action is Action.BLOCK
    finally:
        review.close()
