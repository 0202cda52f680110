"""Security review of quarantine review (auth, console, API, webhook): one test per finding,
in process (nothing here needs a socket)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.console import log_in
from tests.support.proxies import ADMIN, InProcessProxy


def hold_fresh_release(proxy: InProcessProxy) -> list[dict[str, Any]]:
    """Ask for demo-pkg's page so its fresh release is held; return its entries."""
    assert proxy.http.get("/simple/demo-pkg/").status_code == 200
    with proxy.client() as api:
        return api.get("/quarantine", params={"project": "demo-pkg"}).json()["entries"]


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


def test_webhook_text_escapes_untrusted_fields() -> None:
    # The client address can come from X-Forwarded-For: a requester must not be able to
    # ping @channel or plant a disguised link in the reviewers' chat.
    from pipgate.proxy.quarantine.webhook import message
    from tests.support.review_records import entry_of

    entry = entry_of(
        project="demo-pkg",
        reason="too <new>",
        top_clients=("<!channel> <https://evil.example|approve here>",),
    )
    text = message([entry])["text"]
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text
    assert message([entry])["entries"][0]["top_clients"] == list(entry.top_clients)  # unchanged


def test_webhook_text_says_blocked() -> None:
    from pipgate.proxy.quarantine.webhook import message
    from tests.support.review_records import entry_of

    entry = entry_of(
        id=7,
        project="evil",
        version=None,
        files=(),
        action="block",
        policy="allowlist",
        reason="on the denylist",
    )
    assert "pipgate blocked project evil" in message([entry])["text"]


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


def test_console_survives_hostile_offsets_and_cookies(proxy_in_process: InProcessProxy) -> None:
    with proxy_in_process.at("/-/ui") as ui:
        # A cookie the browser holds (latin-1) that is not ASCII must not crash the check.
        hostile = {"Cookie": "pipgate_session=abc.\u00e9\u00e9".encode("latin-1")}
        assert ui.get("/", headers=hostile).status_code == 303  # to the login form
        assert log_in(ui).status_code == 303
        assert ui.get("/", params={"offset": str(10**30)}).status_code == 200
        forged = ui.post("/lists/deny/add", data={"rule": "x", "reason": "x", "csrf": "\u00e9"})
        assert forged.status_code == 403


def test_login_form_is_bounded(proxy_in_process: InProcessProxy) -> None:
    # Unauthenticated: the login form must not buffer megabytes of fields.
    with proxy_in_process.at("/-/ui") as ui:
        response = ui.post("/login", data={"token": "x" * (2 << 20)})
        assert response.status_code == 400
        assert "Field exceeded maximum size" in response.text
        many = {f"f{i}": "x" for i in range(500)}
        response = ui.post("/login", data=many | {"token": "x"})
        assert response.status_code == 400
        assert "Too many fields" in response.text


def test_a_slow_reload_cannot_put_older_rules_back(tmp_path: Path) -> None:
    # The intake thread and an action both reload the overrides; the one that read the
    # rules first must not be the one that finishes last.
    from pipgate.policies.decision import Action
    from pipgate.policies.engine import ALLOWED
    from pipgate.proxy.quarantine.review import Review

    review = Review(tmp_path, clock=lambda: datetime.now(UTC))
    real_rules = review.store.rules.active
    entered, go = threading.Event(), threading.Event()

    def rules(**kwargs: Any) -> list[Any]:
        found = real_rules(**kwargs)
        if threading.current_thread().name == "slow-reload":
            entered.set()
            go.wait(5)
        return found

    review.store.rules.active = rules  # type: ignore[method-assign]
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
