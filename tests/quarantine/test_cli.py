"""The review commands, against a running server and against a data directory."""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner

from pipgate.proxy.cli.main import main
from pipgate.proxy.quarantine.auth import hash_token
from tests.support.cli import run
from tests.support.fresh_release import FRESH_VERSION, SDIST, WHEEL, hold_fresh_release
from tests.support.markup import offered
from tests.support.proxies import ADMIN, READER
from tests.support.proxies import RunningProxy as Proxy


def test_against_a_running_server(proxy: Proxy) -> None:
    hold_fresh_release(proxy)
    env = {"PIPGATE_URL": proxy.url, "PIPGATE_TOKEN": ADMIN}
    listed = run("quarantine", "list", "--state", "quarantined", "--json", env=env)
    assert listed.exit_code == 0, listed.output
    (entry,) = json.loads(listed.output)["entries"]
    assert [f["file"] for f in entry["files"]] == [WHEEL, SDIST]

    table = run("quarantine", "list", env=env)
    assert "2 files" in table.output and "(1 of 1)" in table.output

    shown = run("quarantine", "show", str(entry["id"]), env=env)
    assert "release-age" in shown.output and "127.0.0.1" in shown.output
    assert f"  {WHEEL}  quarantined  downloads 0" in shown.output

    one = run("quarantine", "release", str(entry["id"]), "--file", WHEEL, "-r", "ok", env=env)
    assert one.exit_code == 0, one.output
    assert one.output.startswith(f"released demo-pkg {FRESH_VERSION} {WHEEL} on index 'default'")
    assert SDIST not in offered(httpx.get(f"{proxy.index_url}demo-pkg/").text)

    released = run(
        "quarantine",
        "release",
        str(entry["id"]),
        "--until",
        "30d",
        "-r",
        "needed for the hotfix",
        env=env,
    )
    assert released.exit_code == 0, released.output
    assert released.output.startswith(f"released demo-pkg {FRESH_VERSION} on index 'default' until")
    assert SDIST in offered(httpx.get(f"{proxy.index_url}demo-pkg/").text)

    rejected = run("quarantine", "reject", str(entry["id"]), "-r", "changed my mind", env=env)
    assert rejected.exit_code == 0 and "on every index" in rejected.output
    assert WHEEL not in httpx.get(f"{proxy.index_url}demo-pkg/").text

    decided = run(
        "quarantine",
        "decide",
        "release",
        "demo-pkg",
        "--version",
        FRESH_VERSION,
        "-r",
        "ok",
        env=env,
    )
    assert decided.output.startswith(f"released demo-pkg {FRESH_VERSION} on index 'default'")
    by_name = run("quarantine", "decide", "reject", "demo-dep", "-r", "no", env=env)
    assert by_name.output.startswith("rejected demo-dep on every index (rule ")

    assert run("allow", "add", "demo-dep", "-r", "vetted", env=env).exit_code == 0
    assert "demo-dep" in run("allow", "list", env=env).output
    assert run("allow", "remove", "demo-dep", env=env).exit_code == 0

    tail = run("decisions", "tail", "-n", "5", "--search", "minimum age", env=env)
    assert tail.exit_code == 0 and "release-age" in tail.output


def test_the_same_output_in_process_and_over_http(proxy: Proxy) -> None:
    (entry,) = hold_fresh_release(proxy)
    httpx.get(f"{proxy.url}/files/demo-pkg/{WHEEL}")  # a download, on its file
    with proxy.client() as api:
        api.post("/lists/allow/add", json={"rule": "demo-dep", "reason": "vetted"})
    remote = {"PIPGATE_URL": proxy.url, "PIPGATE_TOKEN": ADMIN}
    local = ["--data-dir", str(proxy.data_dir)]
    for command in (
        ["quarantine", "list"],
        ["quarantine", "list", "--json", "--project", "demo"],
        ["quarantine", "show", str(entry["id"])],
        ["quarantine", "show", str(entry["id"]), "--json"],
        ["allow", "list", "--json"],
        ["decisions", "tail", "-n", "3"],
    ):
        over_http = run(*command, env=remote)
        in_process = run(*command, *local)
        assert over_http.exit_code == in_process.exit_code == 0, over_http.output
        assert over_http.output == in_process.output, command
    shown = json.loads(run("quarantine", "show", str(entry["id"]), "--json", *local).output)
    assert {f["file"]: f["requests"] for f in shown["files"]} == {WHEEL: 1, SDIST: 0}
    missing = (
        run("quarantine", "show", "999", env=remote),
        run("quarantine", "show", "999", *local),
    )
    assert all(r.exit_code == 1 and "no quarantine entry 999" in r.output for r in missing)


@pytest.mark.parametrize(
    ("token", "args", "message"),
    [
        ("wrong", ["quarantine", "list"], "401"),
        (READER, ["quarantine", "release", "1", "-r", "x"], "403"),
        (ADMIN, ["quarantine", "show", "999"], "no quarantine entry 999"),
    ],
)
def test_server_errors_are_reported(
    proxy: Proxy, token: str, args: list[str], message: str
) -> None:
    result = run(*args, env={"PIPGATE_URL": proxy.url, "PIPGATE_TOKEN": token})
    assert result.exit_code == 1 and message in result.output


def test_against_a_data_directory(proxy: Proxy) -> None:
    (entry,) = hold_fresh_release(proxy)
    data = str(proxy.data_dir)
    listed = run("quarantine", "--data-dir", data, "list", "--project", "demo-pkg")
    assert "2 files" in listed.output
    released = run("quarantine", "--data-dir", data, "release", str(entry["id"]), "-r", "ok")
    assert released.exit_code == 0, released.output
    # The running server notices the change in the shared database by itself.
    deadline = __import__("time").monotonic() + 5
    while WHEEL not in httpx.get(f"{proxy.index_url}demo-pkg/").text:
        assert __import__("time").monotonic() < deadline
    with proxy.client() as api:
        assert api.get(f"/quarantine/{entry['id']}").json()["changed_by"].endswith("@local")
    assert "release-age" in run("decisions", "--data-dir", data, "tail").output
    assert run("deny", "--data-dir", data, "add", "evil-*", "-r", "x").exit_code == 0


def test_needs_a_target() -> None:
    result = run("quarantine", "list")
    assert result.exit_code == 2 and "--url" in result.output


def test_token_hash() -> None:
    result = run("token", "hash", "--name", "bob", "--scope", "read", input="s3cret\n")
    assert result.output.strip() == (
        f'{{ name = "bob", sha256 = "{hash_token("s3cret")}", scope = "read" }}'
    )
    new = CliRunner().invoke(main, ["token", "hash", "--new"])
    token = next(line for line in new.output.splitlines() if line.startswith("token: "))[7:]
    assert hash_token(token) in new.output


def test_the_target_options_work_after_the_sub_command_too(proxy: Proxy) -> None:
    httpx.get(f"{proxy.index_url}demo-pkg/")
    with proxy.client() as api:
        assert api.get("/quarantine").json()["total"] >= 1  # the holds are written
    runner = CliRunner()
    before = runner.invoke(main, ["quarantine", "--data-dir", str(proxy.data_dir), "list"])
    after = runner.invoke(main, ["quarantine", "list", "--data-dir", str(proxy.data_dir)])
    assert before.exit_code == after.exit_code == 0, (before.output, after.output)
    assert before.output == after.output and "demo-pkg" in after.output


def test_the_list_shows_each_reason_whole(proxy: Proxy) -> None:
    httpx.get(f"{proxy.index_url}demo-pkg/")
    with proxy.client() as api:
        reason = api.get("/quarantine").json()["entries"][0]["reason"]
    assert len(reason) > 60
    listing = CliRunner().invoke(main, ["quarantine", "list", "--data-dir", str(proxy.data_dir)])
    assert reason in listing.output
