"""The console over HTTP: login, sessions, CSRF, one-click decisions, every page renders."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.console import csrf_of, log_in, logged_in
from tests.support.fresh_release import FRESH_VERSION, hold_fresh_release
from tests.support.proxies import ADMIN, READER, InProcessProxy
from tests.support.proxies import RunningProxy as Proxy
from tests.support.scan_samples import GLIMMER_SDIST, glimmer_tools


def test_pages_need_a_login(proxy: Proxy) -> None:
    with httpx.Client(base_url=f"{proxy.url}/-/ui") as anonymous:
        for path in ("/", "/stats", "/decisions", "/lists", "/entries/1", "/projects/default/x"):
            response = anonymous.get(path)
            assert response.status_code == 303 and "/-/ui/login" in response.headers["location"]
        assert log_in(anonymous, "wrong").status_code == 401
        forged = anonymous.post("/entries/1/decide", data={"kind": "release", "reason": "x"})
        assert forged.status_code == 303 and forged.headers["location"].endswith("/login")


def test_release_in_one_click_then_the_page_shows_it(proxy: Proxy) -> None:
    hold_fresh_release(proxy)
    with logged_in(proxy) as ui:
        queue = ui.get("/")
        assert queue.status_code == 200 and f"demo_pkg-{FRESH_VERSION}" in queue.text
        entry_id = re.search(r'id="entry-(\d+)"', queue.text).group(1)
        response = ui.post(
            f"/entries/{entry_id}/decide",
            data={
                "kind": "release",
                "scope": "version",
                "reason": "reviewed",
                "csrf": csrf_of(queue.text),
                "next": "/-/ui/",
            },
        )
        assert response.status_code == 303 and "notice=released" in response.headers["location"]
        assert "released demo-pkg" in ui.get(proxy.url + response.headers["location"]).text
    assert (
        f"demo_pkg-{FRESH_VERSION}-py3-none-any.whl"
        in httpx.get(f"{proxy.index_url}demo-pkg/").text
    )


def test_the_entry_page_lists_its_files_and_decides_one(proxy: Proxy) -> None:
    (entry,) = hold_fresh_release(proxy)
    wheel = f"demo_pkg-{FRESH_VERSION}-py3-none-any.whl"
    httpx.get(f"{proxy.url}/files/demo-pkg/{wheel}")  # one download of the wheel
    with logged_in(proxy) as ui:
        page = ui.get(f"/entries/{entry['id']}").text
        assert "1 page views, 1 downloads" in page
        rows = re.findall(
            r'<tr id="file-\d+"><td class="file">([^<]+)</td><td class="num">(\d+)<', page
        )
        assert rows == [(wheel, "1"), (f"demo_pkg-{FRESH_VERSION}.tar.gz", "0")]
        form = {"kind": "reject", "scope": "file", "file": wheel, "reject_on": "*"}
        done = ui.post(
            f"/entries/{entry['id']}/decide",
            data=form | {"reason": "bad wheel", "csrf": csrf_of(page), "next": "/-/ui/"},
        )
        assert (
            f"notice=rejected+demo-pkg+{FRESH_VERSION}+{wheel}+on+every+index"
            in (done.headers["location"])
        )
        assert 'class="state rejected">rejected' in ui.get(f"/entries/{entry['id']}").text
    assert httpx.get(f"{proxy.url}/files/demo-pkg/{wheel}").status_code == 403


def test_csrf_is_checked_on_every_state_change(proxy: Proxy) -> None:
    entries = hold_fresh_release(proxy)
    with logged_in(proxy) as ui:
        for path, data in [
            (f"/entries/{entries[0]['id']}/decide", {"kind": "release", "reason": "x"}),
            ("/decide", {"kind": "release", "project": "demo-pkg", "reason": "x"}),
            ("/lists/allow/add", {"rule": "demo-pkg", "reason": "x"}),
        ]:
            for token in (None, "forged"):
                response = ui.post(path, data=data | ({"csrf": token} if token else {}))
                assert response.status_code == 403 and "CSRF" in response.text
    with proxy.client() as api:
        assert api.get("/rules").json()["rules"] == []


def test_read_only_session_cannot_act(proxy: Proxy) -> None:
    entries = hold_fresh_release(proxy)
    with logged_in(proxy, READER) as ui:
        assert f"demo_pkg-{FRESH_VERSION}" in ui.get("/").text
        assert 'name="csrf"' not in ui.get("/").text + ui.get("/lists").text  # no forms
        # Even with a valid session and CSRF token, a read-only token cannot act.
        with logged_in(proxy) as admin:
            csrf = csrf_of(admin.get("/").text)
        response = ui.post(
            f"/entries/{entries[0]['id']}/decide",
            data={"kind": "release", "reason": "x", "csrf": csrf},
        )
        assert response.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?state=all",
        "/stats",
        "/decisions?q=minimum",
        "/lists",
        "/projects/default/demo-pkg",
        "/projects/default/no-such-project",
        "/entries/1",
    ],
)
def test_every_page_renders(proxy: Proxy, path: str) -> None:
    hold_fresh_release(proxy)
    httpx.get(f"{proxy.url}/files/demo-pkg/demo_pkg-1.0.0-py3-none-any.whl")
    with logged_in(proxy) as ui:
        response = ui.get(path)
        assert response.status_code == 200, response.text
        assert "<html" in response.text


def test_project_page_shows_each_files_decision(proxy: Proxy) -> None:
    hold_fresh_release(proxy)
    with logged_in(proxy) as ui:
        page = ui.get("/projects/default/demo-pkg").text
    assert page.count('class="badge quarantine"') == 2 and "minimum age" in page
    assert page.count('class="badge allow"') == 3  # the project and its two old files


def test_logout_ends_the_session(proxy: Proxy) -> None:
    with logged_in(proxy) as ui:
        assert ui.get("/").status_code == 200
        ui.post("/logout")
        assert ui.get("/").status_code == 303


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_is_secure_when_configured(start_proxy, upstream_url, secure: bool) -> None:
    with start_proxy(upstream_url, config={"admin": {"secure_cookie": secure}}) as proxy:
        with httpx.Client(base_url=f"{proxy.url}/-/ui", timeout=10) as client:
            form = client.get("/login")
            assert ("secure" in form.headers["set-cookie"].lower()) is secure
            # Behind TLS the browser sends the Secure login cookie back; httpx on http would not.
            check = form.headers["set-cookie"].split(";")[0]
            response = client.post(
                "/login",
                data={"token": ADMIN, "next": "/-/ui/", "csrf": csrf_of(form.text)},
                headers={"Cookie": check},
            )
    assert response.status_code == 303
    session = next(c for c in response.headers.get_list("set-cookie") if "pipgate_session" in c)
    assert ("secure" in session.lower()) is secure


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


def test_project_page_shows_every_finding_of_a_file_the_scan_holds(upstream, proxy: Proxy) -> None:
    """The reason names the heaviest three; a reviewer sees each finding with its weight,
    ``file:line`` and detail."""
    upstream.add(glimmer_tools())
    refused = httpx.get(f"{proxy.url}/files/glimmer-tools/{GLIMMER_SDIST}")
    with logged_in(proxy) as ui:
        page = ui.get("/projects/default/glimmer-tools").text
    assert refused.status_code == 403
    shown = re.search(r'<details class="findings">.*?</details>', page, re.S)
    assert shown is not None, page
    rows = re.findall(
        r"<tr><td><code>([\w-]+)</code></td><td>([\d.]+)</td><td[^>]*>([^<]+)</td>",
        shown.group(0),
    )
    assert ("decode-exec", "10", "setup.py:3") in rows
    assert len(rows) == shown.group(0).count("<tr><td><code>") >= 1
