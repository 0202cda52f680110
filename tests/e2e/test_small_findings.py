"""Issue 8, finding 12, on a real pipgate and fake upstream: messages say "blocked", and
``/simple/`` lists only what a client may install."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pipgate.proxy.quarantine.webhook import message
from tests.support.fake_upstream import FakeProject, _release
from tests.support.review_records import entry_of

JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def http():
    """One client for a test's requests (a new httpx client per request costs ~30 ms)."""
    with httpx.Client(timeout=10) as client:
        yield client


def _listed(http: httpx.Client, url: str) -> set[str]:
    return {p["name"] for p in http.get(url, headers={"Accept": JSON}).json()["projects"]}


def test_root_index_lists_only_what_a_client_may_install(
    http, upstream, upstream_url, start_proxy, dists_dir
):
    uploaded = datetime.now(UTC) - timedelta(days=1)
    upstream.add(
        FakeProject("coloarma", _release(dists_dir, "coloarma", "0.4.6", uploaded=uploaded))
    )
    config = {"indexes": {"strict": {"policies": {"allowlist": {"deny": ["demo-dep"]}}}}}
    with start_proxy(upstream_url, config=config) as proxy:
        assert http.get(f"{proxy.index_url}demo-pkg/").status_code == 200
        assert http.get(f"{proxy.index_url}demo-dep/").status_code == 200
        assert http.get(f"{proxy.index_url}coloarma/").status_code == 451  # typosquat
        upstream.reset_hits()

        assert _listed(http, proxy.index_url) == {"demo-pkg", "demo-dep"}
        assert _listed(http, f"{proxy.url}/strict/simple/") == {
            "demo-pkg"
        }  # demo-dep is denied there
        html = http.get(proxy.index_url).text
        assert "demo-pkg" in html and "coloarma" not in html

        # A decision changed since the pages were rendered (here: the policies were swapped
        # in again): the held project is judged again from its page's facts, still unlisted.
        gate = proxy.state.gates["default"]
        gate.policies = gate.policies
        assert _listed(http, proxy.index_url) == {"demo-pkg", "demo-dep"}
        assert upstream.requests == []  # listing never asks upstream


def test_refusals_say_blocked_not_blockd(http, upstream_url, start_proxy):
    config = {"policies": {"allowlist": {"deny": ["demo-dep"]}}}
    with start_proxy(upstream_url, config=config) as proxy:
        refused = http.get(f"{proxy.url}/files/demo-dep/demo_dep-0.1.0.tar.gz")
    assert refused.status_code == 403
    assert "project 'demo-dep' is blocked by policy 'allowlist'" in refused.text
    held = entry_of(
        id=7,
        project="evil",
        version=None,
        files=(),
        action="block",
        policy="allowlist",
        reason="on the denylist",
    )
    text = message([held])["text"]
    assert "pipgate blocked project evil" in text
