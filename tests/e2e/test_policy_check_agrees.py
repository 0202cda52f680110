"""``pipgate policy check`` gives the server's decision, for every kind of decision.

One configuration file serves a real pipgate (fake upstream, real sockets) and the
CLI: beside the data directory (``--config``) and asking the server (``--url``). For
each requirement the server's own answer (its project page, then each file of the
version) is compared with both CLI answers, before and after reviewer actions.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from packaging.version import Version

from pipgate.proxy.app import create_app
from pipgate.proxy.cli.main import main
from pipgate.proxy.config.settings import load_settings
from pipgate.proxy.quarantine.auth import hash_token
from tests.support.fake_upstream import (
    FakeProject,
    _at,
    _release,
    create_fake_upstream,
    standard_projects,
)
from tests.support.servers import run_app

ADMIN = "pg_test-admin-token"
NOW = datetime.now(UTC)


@pytest.fixture
def upstream(dists_dir: Path):  # type: ignore[no-untyped-def]
    projects = standard_projects(dists_dir)
    fake = create_fake_upstream(projects)
    for file in fake.project("demo-pkg").files:
        if "-1.1.0" in file.filename:  # held by release age
            file.upload_time = NOW - timedelta(hours=1)
    # A typosquat of demo-pkg, two days old; its twin "dmeo-pkg" is gone from upstream.
    fake.add(
        FakeProject(
            "demo-pgk", _release(dists_dir, "demo-pgk", "1.0.0", uploaded=NOW - timedelta(days=2))
        )
    )
    fake.add(
        FakeProject(
            "old-tool", _release(dists_dir, "old-tool", "2.0.0", uploaded=_at("2020-01-01"))
        )
    )
    return fake


@pytest.fixture
def config(tmp_path: Path, upstream_url: str) -> Path:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("demo-pkg\nrequests\n")
    path = tmp_path / "pipgate.toml"
    path.write_text(
        f"""
[upstream]
url = "{upstream_url}"
timeout = "3s"
retries = 0
[cache]
data_dir = "{tmp_path / "data"}"
[server]
access_log = false
[[admin.tokens]]
name = "alice"
sha256 = "{hash_token(ADMIN)}"
scope = "admin"
[policies.typosquat]
corpus = "{corpus}"
[policies.dependency_confusion]
internal = ["corp-*"]
"""
    )
    return path


def server_decision(client: httpx.Client, requirement: str) -> str:
    """What the running server does for ``NAME[==VERSION]``: the action of its refusal
    (page, then every file of the version), or ``allow`` when something is served."""
    name, _, version = requirement.partition("==")
    page = client.get(f"/simple/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    if page.status_code in (403, 451):
        return page.headers["X-Pipgate-Action"]
    assert page.status_code == 200, (requirement, page.status_code, page.text)
    listed = page.json()["versions"]
    wanted = version or max(listed, key=Version)
    stem = f"{name.replace('-', '_')}-{wanted}"
    candidates = [f"{stem}-py3-none-any.whl", f"{stem}.tar.gz"]
    actions = []
    for filename in candidates:
        answer = client.head(f"/files/{name}/{filename}")
        if answer.status_code == 404:
            continue
        actions.append("allow" if answer.status_code == 200 else answer.headers["X-Pipgate-Action"])
    assert actions, f"no file of {requirement} on the server"
    return "allow" if "allow" in actions else actions[0]


def cli_decisions(config: Path, requirements: list[str], *extra: str) -> dict[str, dict]:
    """The CLI's JSON answer for each requirement (one line each, in order)."""
    result = CliRunner().invoke(
        main,
        ["policy", "check", "--config", str(config), "--format", "json", *extra, *requirements],
    )
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(rows) == len(requirements), result.output
    assert result.exit_code == (1 if any(r["action"] != "allow" for r in rows) else 0), (
        result.output
    )
    return dict(zip(requirements, rows, strict=True))


REQUIREMENTS = [
    "demo-yanked==1.0.0",  # allowed
    "demo-pkg==1.1.0",  # release age (then released by a reviewer)
    "demo-pkg==1.0.0",  # old enough
    "demo-pgk",  # typosquat, two days old
    "old-tool",  # an ordinary old project
    "demo-dep",  # runtime deny list (after the reviewer's action)
    "corp-secret",  # dependency confusion: never asked upstream
]


def test_policy_check_agrees_with_the_server_for_every_decision(config, upstream):
    settings = load_settings(config, environ={})
    with run_app(create_app(settings)) as url:
        client = httpx.Client(base_url=url, timeout=10)
        admin = httpx.Client(
            base_url=f"{url}/-/admin", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10
        )

        def compare(expected_kinds: dict[str, str]) -> None:
            server = {
                r: server_decision(client, r) for r in REQUIREMENTS if not r.startswith("corp-")
            }
            server["corp-secret"] = client.get("/simple/corp-secret/").headers["X-Pipgate-Action"]
            assert server == expected_kinds
            here = cli_decisions(config, REQUIREMENTS, "--online")
            remote = cli_decisions(config, REQUIREMENTS, "--online", "--url", url, "--token", ADMIN)
            for requirement in REQUIREMENTS:
                assert here[requirement]["action"] == server[requirement], (
                    requirement,
                    here[requirement],
                )
                assert remote[requirement]["action"] == server[requirement], (
                    requirement,
                    remote[requirement],
                )

        compare(
            {
                "demo-yanked==1.0.0": "allow",
                "demo-pkg==1.1.0": "quarantine",
                "demo-pkg==1.0.0": "allow",
                "demo-pgk": "quarantine",
                "old-tool": "allow",
                "demo-dep": "allow",
                "corp-secret": "block",
            }
        )
        released = admin.post(
            "/decide/release",
            json={"project": "demo-pkg", "version": "1.1.0", "reason": "reviewed"},
        )
        assert released.status_code == 200, released.text
        denied = admin.post("/lists/deny/add", json={"rule": "demo-dep", "reason": "not ours"})
        assert denied.status_code == 201, denied.text
        compare(
            {
                "demo-yanked==1.0.0": "allow",
                "demo-pkg==1.1.0": "allow",
                "demo-pkg==1.0.0": "allow",
                "demo-pgk": "quarantine",
                "old-tool": "allow",
                "demo-dep": "block",
                "corp-secret": "block",
            }
        )


def test_a_deny_is_reported_at_once_offline_and_by_url(config, upstream):
    settings = load_settings(config, environ={})
    with run_app(create_app(settings)) as url:
        admin = httpx.Client(
            base_url=f"{url}/-/admin", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10
        )
        assert (
            admin.post("/lists/deny/add", json={"rule": "requests", "reason": "x"}).status_code
            == 201
        )
        for extra in ((), ("--url", url, "--token", ADMIN)):
            result = CliRunner().invoke(
                main, ["policy", "check", "--config", str(config), *extra, "requests"]
            )
            assert result.exit_code == 1, result.output
            assert result.output.startswith("requests: block (review)"), result.output


def test_online_never_weakens_the_name_only_verdict_of_a_project_gone_upstream(config, upstream):
    offline = CliRunner().invoke(main, ["policy", "check", "--config", str(config), "dmeo-pkg"])
    online = CliRunner().invoke(
        main, ["policy", "check", "--config", str(config), "--online", "dmeo-pkg"]
    )
    assert offline.exit_code == 1 and "quarantine (typosquat)" in offline.output, offline.output
    assert online.exit_code == 1 and "quarantine (typosquat)" in online.output, online.output
    assert "upstream:" in online.output


def test_a_server_that_cannot_answer_exits_2(config):
    result = CliRunner().invoke(
        main, ["policy", "check", "--url", "http://127.0.0.1:9", "--token", ADMIN, "requests"]
    )
    assert result.exit_code == 2
    assert "cannot reach" in result.output
