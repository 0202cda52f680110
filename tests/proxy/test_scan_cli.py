"""``pipgate scan`` through click's runner: formats, exit status, configuration."""

from __future__ import annotations

import json

from click.testing import CliRunner

from pipgate.policies.decision import Action
from pipgate.proxy.cli import scan as cli_scan
from pipgate.proxy.cli.main import main
from pipgate.proxy.cli.scan import scan_files
from pipgate.proxy.config.policies import ScanSettings
from tests.support.archives import pkg_info, sdist, wheel

EVIL_SETUP = 'import base64\nexec(base64.b64decode("cHJpbnQoMSk="))\n'


def _files(tmp_path):  # type: ignore[no-untyped-def]
    good = tmp_path / "good-1.0-py3-none-any.whl"
    good.write_bytes(wheel({"good/__init__.py": "def f():\n    return 1\n"}, name="good"))
    evil = tmp_path / "evil-1.0.tar.gz"
    evil.write_bytes(sdist({"PKG-INFO": pkg_info("evil"), "setup.py": EVIL_SETUP}, "evil-1.0"))
    return good, evil


def test_json_one_object_per_archive_and_exit_1_when_one_is_held(tmp_path) -> None:
    good, evil = _files(tmp_path)
    result = CliRunner().invoke(main, ["scan", "--format", "json", str(good), str(evil)])
    assert result.exit_code == 1, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["file"], r["action"]) for r in rows] == [
        (str(good), "allow"),
        (str(evil), "quarantine"),
    ]
    finding = rows[1]["findings"][0]
    assert finding == {
        "rule": "decode-exec",
        "weight": 10,
        "file": "setup.py",
        "line": 2,
        "detail": "decoded data into exec",
    }
    assert rows[1]["score"] >= 10 and "decode-exec" in rows[1]["reason"]


def test_text_and_exit_0_when_all_allowed(tmp_path) -> None:
    good, _ = _files(tmp_path)
    result = CliRunner().invoke(main, ["scan", str(good)])
    assert result.exit_code == 0
    assert result.output.startswith("good-1.0-py3-none-any.whl: allow (score 0)")


def test_text_lists_findings(tmp_path) -> None:
    _, evil = _files(tmp_path)
    result = CliRunner().invoke(main, ["scan", str(evil)])
    assert result.exit_code == 1
    assert "decode-exec" in result.output and "setup.py:2" in result.output


def test_configured_thresholds_and_modes(tmp_path) -> None:
    _, evil = _files(tmp_path)
    config = tmp_path / "p.toml"
    config.write_text('[policies.scan]\nmode = "block"\n')
    result = CliRunner().invoke(
        main, ["scan", "--config", str(config), "--format", "json", str(evil)]
    )
    assert json.loads(result.output)["action"] == "block"
    config.write_text("[policies.scan]\nquarantine_at = 50\n")
    result = CliRunner().invoke(main, ["scan", "--config", str(config), str(evil)])
    assert result.exit_code == 0


def test_unscannable_file_is_held(tmp_path) -> None:
    junk = tmp_path / "junk-1.0.tar.gz"
    junk.write_bytes(b"not an archive")
    result = CliRunner().invoke(main, ["scan", "--format", "json", str(junk)])
    assert result.exit_code == 1
    row = json.loads(result.output)
    assert row["action"] == "quarantine" and "not a zip or tar" in row["incomplete"]


def test_usage_errors_exit_2(tmp_path) -> None:
    assert CliRunner().invoke(main, ["scan"]).exit_code == 2
    assert CliRunner().invoke(main, ["scan", str(tmp_path / "missing.whl")]).exit_code == 2
    good, _ = _files(tmp_path)
    assert CliRunner().invoke(main, ["scan", "--index", "nope", str(good)]).exit_code == 2
    config = tmp_path / "bad.toml"
    config.write_text('[policies.scan]\nmode = "loud"\n')
    result = CliRunner().invoke(main, ["scan", "--config", str(config), str(good)])
    assert result.exit_code != 0 and "scan.mode" in result.output


def test_each_archive_is_scanned_under_the_memory_limit_in_a_worker(tmp_path) -> None:
    # A scan that needs more than `max_memory` ends as unscannable (held), as in the proxy,
    # instead of taking the CI runner's memory; the other archives are scanned on.
    good, evil = _files(tmp_path)
    bulky = tmp_path / "bulky-1.0-py3-none-any.whl"
    source = "".join(f"def f{i}(x):\n    return [x] * {i}\n" for i in range(40_000))
    bulky.write_bytes(wheel({"bulky/__init__.py": source}, name="bulky"))
    config = tmp_path / "p.toml"
    config.write_text('[policies.scan]\nmax_memory = "100MiB"\n')
    result = CliRunner().invoke(
        main,
        ["scan", "-j", "2", "--config", str(config), "--format", "json"]
        + [str(p) for p in (good, bulky, evil)],
    )
    assert result.exit_code == 1, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["file"], r["action"]) for r in rows] == [
        (str(good), "allow"),
        (str(bulky), "quarantine"),
        (str(evil), "quarantine"),
    ]
    assert rows[1]["incomplete"].startswith("scan ran out of memory")
    assert "incomplete" not in rows[2] and rows[2]["score"] >= 10


def test_jobs_0_scans_in_this_process_and_a_negative_count_is_a_usage_error(tmp_path) -> None:
    good, evil = _files(tmp_path)
    result = CliRunner().invoke(
        main, ["scan", "--jobs", "0", "--format", "json", str(good), str(evil)]
    )
    assert result.exit_code == 1, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["action"] for r in rows] == ["allow", "quarantine"]
    assert CliRunner().invoke(main, ["scan", "--jobs", "-1", str(good)]).exit_code == 2


def test_a_file_gone_before_its_scan_is_held_and_the_rest_scanned(tmp_path) -> None:
    good, _ = _files(tmp_path)
    gone = tmp_path / "gone-1.0.tar.gz"
    for jobs in (1, 0):
        results = scan_files([gone, good], ScanSettings(), jobs=jobs)
        assert [(path, decision.action) for path, _, decision in results] == [
            (gone, Action.QUARANTINE),
            (good, Action.ALLOW),
        ]
        assert results[0][1].incomplete.startswith("could not be read: ")


def test_default_jobs_follow_the_cpus_up_to_a_cap(monkeypatch) -> None:
    monkeypatch.setattr(cli_scan.os, "sched_getaffinity", lambda pid: set(range(64)))
    assert cli_scan.default_jobs() == cli_scan.MAX_DEFAULT_JOBS
    monkeypatch.setattr(cli_scan.os, "sched_getaffinity", lambda pid: {0})
    assert cli_scan.default_jobs() == 1
