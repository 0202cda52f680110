"""``pipgate policy check`` offline, through click's runner."""

from __future__ import annotations

import json

from click.testing import CliRunner

from pipgate.proxy.cli.main import main


def test_offline_check_text_and_exit_status():
    result = CliRunner().invoke(main, ["policy", "check", "coloarma", "requests"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("coloarma: quarantine (typosquat)")
    assert "colorama" in lines[0]
    assert lines[1].startswith("requests: allow")


def test_json_output_and_names_from_file(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("# requirements\nrequests==2.32.3\nreqeusts\n")
    result = CliRunner().invoke(
        main, ["policy", "check", "--format", "json", "--names-from", str(names)]
    )
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["name"], r["action"]) for r in rows] == [
        ("requests", "allow"),
        ("reqeusts", "quarantine"),
    ]
    assert rows[1]["policy"] == "typosquat" and "requests" in rows[1]["reason"]
    assert rows[0]["version"] == "2.32.3"


def test_configured_allowlist_and_internal_names(tmp_path):
    config = tmp_path / "p.toml"
    config.write_text(
        '[policies.allowlist]\nmode = "block"\nprojects = ["django>=4.2,<6"]\n'
        '[policies.dependency_confusion]\ninternal = ["acme-*"]\n'
    )
    result = CliRunner().invoke(
        main,
        [
            "policy",
            "check",
            "--config",
            str(config),
            "--format",
            "json",
            "django==5.0",
            "django==3.2",
            "acme-utils",
            "flask",
        ],
    )
    rows = {f"{r['name']}=={r['version']}": r for r in map(json.loads, result.output.splitlines())}
    assert rows["django==5.0"]["action"] == "allow"
    assert rows["django==3.2"]["action"] == "block"
    assert rows["acme-utils==None"]["policy"] == "dependency-confusion"
    assert rows["flask==None"]["policy"] == "allowlist"


def test_usage_errors_exit_2():
    assert CliRunner().invoke(main, ["policy", "check"]).exit_code == 2
    assert CliRunner().invoke(main, ["policy", "check", "bad name!"]).exit_code == 2
    assert CliRunner().invoke(main, ["policy", "check", "--index", "nope", "x"]).exit_code == 2


def test_internal_names_from_the_environment_block(monkeypatch):
    monkeypatch.setenv("PIPGATE_POLICIES__DEPENDENCY_CONFUSION__INTERNAL", '["corp-internal-*"]')
    result = CliRunner().invoke(main, ["policy", "check", "corp-internal-lib", "requests"])
    lines = result.output.splitlines()
    assert lines[0].startswith("corp-internal-lib: block (dependency-confusion)"), result.output
    assert lines[1].startswith("requests: allow")
    assert result.exit_code == 1


def test_a_configuration_error_exits_2_naming_the_variable(monkeypatch):
    monkeypatch.setenv("PIPGATE_UPSTREAM__TIMEOUT", "30")
    result = CliRunner().invoke(main, ["policy", "check", "requests"])
    assert result.exit_code == 2
    assert "environment variable PIPGATE_UPSTREAM__TIMEOUT" in result.output
