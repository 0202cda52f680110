"""Issue 8, finding 3: an allow rule that matches every project lifts every policy, so the
API, the CLI and the console refuse it unless it is confirmed explicitly."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from pipgate.policies.rules import parse_rule
from pipgate.proxy.cli.main import main
from tests.support.fresh_release import FRESH_VERSION
from tests.support.markup import offered
from tests.support.proxies import RunningProxy as Proxy


@pytest.mark.parametrize(
    ("rule", "everything"),
    [
        ("*", True),
        ("?*", True),
        ("*?*", True),
        ("**>=0", True),
        ("??*", False),
        ("a*", False),
        ("*-*", False),
        ("requests", False),
    ],
)
def test_matches_every_name(rule: str, everything: bool) -> None:
    assert parse_rule(rule).matches_every_name is everything


def test_api_refuses_allowing_everything_unless_confirmed(proxy: Proxy) -> None:
    fresh = f"demo_pkg-{FRESH_VERSION}-py3-none-any.whl"
    assert fresh not in offered(httpx.get(f"{proxy.index_url}demo-pkg/").text)
    with proxy.client() as api:
        for rule in ("*", "?*"):
            refused = api.post("/lists/allow/add", json={"rule": rule, "reason": "yolo"})
            assert refused.status_code == 400, refused.text
            assert "matches every project" in refused.json()["error"]
            assert '"everything": true' in refused.json()["error"]
        not_bool = {"rule": "*", "reason": "yolo", "everything": "yes"}
        assert api.post("/lists/allow/add", json=not_bool).status_code == 400
        assert api.get("/lists/allow").json()["rules"] == []
        assert fresh not in offered(httpx.get(f"{proxy.index_url}demo-pkg/").text)

        assert api.post("/lists/deny/add", json={"rule": "*", "reason": "lockdown"}).is_success
        assert api.post("/lists/deny/remove", json={"rule": "*"}).is_success
        assert api.post("/lists/allow/add", json={"rule": "acme-*", "reason": "ours"}).is_success
        confirmed = {"rule": "*", "reason": "incident drill", "everything": True}
        assert api.post("/lists/allow/add", json=confirmed).status_code == 201
    assert fresh in offered(httpx.get(f"{proxy.index_url}demo-pkg/").text)


def test_cli_needs_the_everything_flag(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    runner = CliRunner()
    base = ["allow", "--data-dir", str(data), "add", "*", "-r", "drill"]
    refused = runner.invoke(main, base, env={})
    assert refused.exit_code != 0
    assert "matches every project" in refused.output
    confirmed = runner.invoke(main, [*base, "--everything"], env={})
    assert confirmed.exit_code == 0, confirmed.output
    assert "added '*' to the allow list" in confirmed.output
