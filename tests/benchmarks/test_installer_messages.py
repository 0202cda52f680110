"""The installer-messages harness serves what each representation claims, and a real
client run through it records what the client printed (uv: fast, no build, no venv)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from benchmarks import installer_messages as im

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
JSON = {"Accept": im.JSON_V1}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> im.Index:
    return im.build_index(tmp_path_factory.mktemp("wheels"), NOW)


@pytest.fixture(scope="module")
def client(index: im.Index) -> TestClient:
    return TestClient(im.make_app(index))


# rep, project -> status, {filename: yanked reason or None}, versions, project-status
PAGES = [
    ("v-omit", "demo", 200, {"demo-1.0-py3-none-any.whl": None}, ["1.0"], None),
    (
        "v-yanked",
        "demo",
        200,
        {"demo-1.0-py3-none-any.whl": None, "demo-2.0-py3-none-any.whl": "release-age"},
        ["1.0", "2.0"],
        None,
    ),
    (
        "v-listed",
        "demo",
        200,
        {"demo-1.0-py3-none-any.whl": None, "demo-2.0-py3-none-any.whl": None},
        ["1.0", "2.0"],
        None,
    ),
    ("p-403", "coloarma", 403, {}, [], "quarantined"),
    ("p-200-status", "jwt", 200, {}, [], "quarantined"),
    ("p-200-yanked", "jwt", 200, {"jwt-1.0-py3-none-any.whl": "allowlist"}, ["1.0"], "quarantined"),
    (
        "p-200-listed",
        "coloarma",
        200,
        {"coloarma-1.0-py3-none-any.whl": None},
        ["1.0"],
        "quarantined",
    ),
    (
        "p-451",
        "demo",
        200,
        {"demo-1.0-py3-none-any.whl": None, "demo-2.0-py3-none-any.whl": None},
        ["1.0", "2.0"],
        None,
    ),
]


@pytest.mark.parametrize(("rep", "project", "status", "files", "versions", "project_status"), PAGES)
def test_each_representation_lists_what_it_claims(
    client: TestClient, rep, project, status, files, versions, project_status
) -> None:
    response = client.get(f"/{rep}/simple/{project}/", headers=JSON)
    assert response.status_code == status
    page = response.json()
    listed = {f["filename"]: f.get("yanked") for f in page["files"]}
    assert set(listed) == set(files)
    for filename, policy in files.items():
        if policy is None:
            assert listed[filename] is None
        else:
            assert f"policy {policy!r}" in listed[filename]
    assert page["versions"] == versions
    assert page.get("project-status", {}).get("status") == project_status


HELD_FILE = "pipgate: file 'demo-2.0-py3-none-any.whl' is quarantined by policy 'release-age'"
HELD_PROJECT = "pipgate: project 'coloarma' is quarantined by policy 'typosquat'"


@pytest.mark.parametrize(
    ("rep", "path", "status", "refusal"),
    [
        ("v-yanked", "demo/demo-2.0-py3-none-any.whl", 403, HELD_FILE),
        ("v-yanked", "demo/demo-2.0-py3-none-any.whl.metadata", 403, HELD_FILE),
        ("v-yanked-meta", "demo/demo-2.0-py3-none-any.whl.metadata", 200, None),
        ("v-yanked-meta", "demo/demo-2.0-py3-none-any.whl", 403, HELD_FILE),
        ("v-yanked", "demo/demo-1.0-py3-none-any.whl", 200, None),
        ("p-200-listed", "coloarma/coloarma-1.0-py3-none-any.whl.metadata", 403, HELD_PROJECT),
    ],
)
def test_held_files_refuse_with_the_decision(
    client: TestClient, rep, path, status, refusal
) -> None:
    response = client.get(f"/{rep}/files/{path}")
    assert response.status_code == status
    if refusal is None:
        assert "X-Pipgate-Action" not in response.headers
    else:
        assert response.headers["X-Pipgate-Action"] == "quarantine"
        assert response.text.startswith(refusal), response.text


def test_the_open_index_and_the_warm_up_hold_nothing(client: TestClient, index: im.Index) -> None:
    assert client.get("/open/files/demo/demo-2.0-py3-none-any.whl").status_code == 200
    index.allow_all = True
    try:
        assert client.get("/p-451/simple/jwt/", headers=JSON).status_code == 200
    finally:
        index.allow_all = False
    assert client.get("/p-451/simple/jwt/", headers=JSON).status_code == 451


@pytest.mark.skipif(not (im.BIN / "uv").exists(), reason="uv is not installed beside python")
@pytest.mark.parametrize(
    ("rep", "scenario", "printed"),
    [
        ("v-yanked", "range", "demo==2.0 was yanked (reason: pipgate: quarantined"),
        ("p-451", "typosquat", "451 Quarantine by typosquat: name 'coloarma' imitates"),
        ("p-403", "typosquat", "returned a 403 Forbidden error"),
    ],
)
def test_a_real_uv_run_records_what_uv_printed(index: im.Index, rep, scenario, printed) -> None:
    by_name = {s.name: s for s in im.SCENARIOS}
    with im.serving(index) as url:
        run = im.run_one("uv", im.REPS_BY_NAME[rep], by_name[scenario], "", url, index)
    assert run.exit != 0
    assert run.got is None
    assert printed in " ".join(run.output.split())
    assert run.reason_shown == (rep != "p-403")
    assert run.requests[0]["path"] == f"/{rep}/simple/{by_name[scenario].project}/"


def test_the_matrix_marks_a_held_file_installed_from_a_cache() -> None:
    scenario = next(s for s in im.SCENARIOS if s.name == "pin-warm")
    run = im.Run(
        "uv", "v-yanked", "pin-warm", "demo==2.0", "default", [], 0, 0.1, "", "2.0", True, [], []
    )
    table = im.matrix([run])
    assert "`demo==2.0` after a warm-up (same)" in table
    assert "| v-yanked | ✓ default; exit 0; got 2.0 ⚠ |" in table
    assert not im._outcome_ok(run, scenario)


def test_uv_is_isolated_from_this_machine(tmp_path: Path) -> None:
    argv, env, _ = im.client_command(
        "uv", "demo", "http://i/simple/", "", tmp_path, tmp_path / "r", False
    )
    assert "--no-cache" in argv and argv[argv.index("--index-url") + 1] == "http://i/simple/"
    assert not any(
        key.startswith("PIP_")
        and key != "PIP_CONFIG_FILE"
        and key != "PIP_DISABLE_PIP_VERSION_CHECK"
        for key in env
    )
