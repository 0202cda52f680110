"""Console sessions kept server-side (issue 8, item 8): logout, revocation, idle timeout,
token removal, restarts, and the login form's own CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.support.clocks import Clock
from tests.support.console import csrf_of, log_in, logged_in
from tests.support.proxies import ADMIN, READER, TOKENS
from tests.support.proxies import RunningProxy as Proxy
from tests.support.review_records import NOW

SESSION = "pipgate_session"


def copied(proxy: Proxy, cookie: str) -> httpx.Client:
    """Another browser that holds a copy of a session cookie."""
    client = httpx.Client(base_url=f"{proxy.url}/-/ui", timeout=10)
    client.cookies.set(SESSION, cookie, path="/-/")
    return client


def test_logout_ends_the_session_for_a_copied_cookie_too(proxy: Proxy) -> None:
    with logged_in(proxy) as ui:
        cookie, csrf = ui.cookies[SESSION], csrf_of(ui.get("/lists").text)
        assert ui.post("/logout").status_code == 303
    with copied(proxy, cookie) as thief:
        assert thief.get("/").status_code == 303  # to the login form
        form = {"rule": "evil", "reason": "x", "csrf": csrf, "next": "/-/ui/lists"}
        forged = thief.post("/lists/deny/add", data=form)
        assert forged.status_code == 303 and forged.headers["location"].endswith("/login")
    with proxy.client() as api:
        assert api.get("/rules").json()["rules"] == []


def test_sessions_are_listed_per_user_and_revocable(proxy: Proxy) -> None:
    with logged_in(proxy) as alice, logged_in(proxy, READER) as rita:
        with proxy.client() as api:
            (listed_rita,) = [
                s for s in api.get("/sessions").json()["sessions"] if s["name"] == "rita"
            ]
            assert listed_rita["client"] == "127.0.0.1" and listed_rita["active"]
            assert "csrf" not in listed_rita
        with proxy.client(READER) as own:
            (mine,) = own.get("/sessions").json()["sessions"]  # only rita's own
            assert mine["name"] == "rita"
            alice_id = next(s["id"] for s in api_sessions(proxy) if s["name"] == "alice")
            assert own.delete(f"/sessions/{alice_id}").status_code == 404
        assert alice.get("/").status_code == 200
        with proxy.client() as api:
            ended = api.delete(f"/sessions/{listed_rita['id']}", params={"reason": "laptop lost"})
            assert ended.status_code == 200 and not ended.json()["active"]
            assert api.get("/audit").json()["audit"][0]["action"] == "session-end"
        assert rita.get("/").status_code == 303
        page = alice.get("/sessions").text
        assert "(this session)" in page and "rita" not in page
        own_id = next(s["id"] for s in api_sessions(proxy) if s["name"] == "alice")
        done = alice.post(f"/sessions/{own_id}/end", data={"csrf": csrf_of(page), "next": "/-/ui/"})
        assert done.status_code == 303
        assert alice.get("/").status_code == 303


def api_sessions(proxy: Proxy) -> list[dict[str, Any]]:
    with proxy.client() as api:
        return api.get("/sessions").json()["sessions"]  # type: ignore[no-any-return]


def test_an_idle_session_ends_and_a_used_one_lasts_until_its_ttl(
    start_proxy: Callable[..., Any], upstream_url: str
) -> None:
    clock = Clock(NOW)
    clock.now = datetime.now(UTC)
    config = {"admin": {"session_idle": "30m", "session_ttl": "2h"}}
    with start_proxy(upstream_url, config=config, clock=clock) as proxy:
        with logged_in(proxy) as idle, logged_in(proxy) as busy:
            for _ in range(5):  # 100 minutes of work, a page every 20
                clock.now += timedelta(minutes=20)
                assert busy.get("/stats").status_code == 200
            assert idle.get("/").status_code == 303
            clock.now += timedelta(minutes=25)  # past the 2 h since login
            assert busy.get("/").status_code == 303


def test_sessions_survive_a_restart_but_not_their_tokens_removal(
    start_proxy: Callable[..., Any], upstream_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kept"
    no_secret = {"admin": {"session_secret": None}}
    with start_proxy(upstream_url, data_dir=data_dir, config=no_secret) as proxy:
        with logged_in(proxy) as alice, logged_in(proxy, READER) as rita:
            cookies = {"alice": alice.cookies[SESSION], "rita": rita.cookies[SESSION]}
    replaced = [TOKENS[0], TOKENS[1] | {"sha256": "0" * 64}]  # rita's token was rotated
    config = {"admin": {"tokens": replaced, "session_secret": None}}
    with start_proxy(upstream_url, data_dir=data_dir, config=config) as proxy:
        with copied(proxy, cookies["alice"]) as alice, copied(proxy, cookies["rita"]) as rita:
            assert alice.get("/").status_code == 200
            assert rita.get("/").status_code == 303
        with proxy.client() as api:
            sessions = api.get("/sessions", params={"ended": "1"}).json()["sessions"]
    assert {s["name"]: s["end_reason"] for s in sessions} == {
        "alice": None,
        "rita": "token no longer configured",
    }


def test_the_login_form_carries_its_own_csrf_token(proxy: Proxy) -> None:
    with httpx.Client(base_url=f"{proxy.url}/-/ui", timeout=10) as ui:
        # A cross-site form can post a token (the attacker's own) but not our cookie's value.
        forged = ui.post("/login", data={"token": ADMIN, "next": "/-/ui/", "csrf": "guess"})
        assert forged.status_code == 403 and SESSION not in forged.cookies
        assert "expired or did not come from this console" in forged.text
        assert log_in(ui).status_code == 303
