"""``pipgate warm`` against a running pipgate: the real CLI, the real uv, real ports."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.servers import client_env

PIPGATE = Path(sys.executable).with_name("pipgate")
NEW = ("demo_pkg-1.1.0-py3-none-any.whl", "demo_pkg-1.1.0.tar.gz")
RESOLVED = (
    "demo_pkg-1.0.0-py3-none-any.whl",
    "demo_pkg-1.0.0.tar.gz",
    "demo_dep-0.2.0-py3-none-any.whl",
    "demo_dep-0.2.0.tar.gz",
)


def warm(proxy, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PIPGATE), "warm", "--url", proxy.url, *args],
        env=client_env(COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def fresh_release(upstream):
    """demo-pkg 1.1.0 was uploaded two hours ago: held by the 7-day release age."""
    for name in NEW:
        upstream.file(name).upload_time = datetime.now(UTC) - timedelta(hours=2)


def test_warm_resolves_fetches_and_reports_holds(
    upstream, upstream_url, start_proxy, fresh_release, tmp_path
):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("demo-pkg\n")
    with start_proxy(upstream_url) as proxy:
        first = warm(proxy, "-r", str(requirements))
        upstream.reset_hits()
        again = warm(proxy, "-r", str(requirements), "--format", "json")
        pinned = tmp_path / "pinned.txt"
        pinned.write_text("demo-pkg==1.1.0\n")
        failed = warm(proxy, "-r", str(pinned), "--format", "json")
        store = proxy.state.store
        stored = {name: upstream.file(name).sha256 in store for name in (*RESOLVED, *NEW)}

    assert first.returncode == 0, first.stdout + first.stderr
    # The progress bar's last state, then the report of what is held and why.
    assert "Warmed" in first.stderr and "4/4 files" in first.stderr
    assert "Held by pipgate (1)" in first.stdout
    assert "1.1.0 (newer; not used)" in first.stdout
    assert "release-age" in first.stdout and "uploaded 2 h ago" in first.stdout
    # (uv read demo-dep's wheel to resolve: it has no .metadata, so it was cached then)
    assert "Warm: 4 files, 5.1 kB (3 fetched now, 1 already cached); 1 held" in first.stdout
    # Everything the resolution needs is in pipgate's store; the held release is not.
    assert stored == {**dict.fromkeys(RESOLVED, True), **dict.fromkeys(NEW, False)}

    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert {f["filename"]: f["status"] for f in report["files"]} == dict.fromkeys(
        RESOLVED, "cached"
    )
    assert [(h["version"], h["policy"], h["needed"]) for h in report["held"]] == [
        ("1.1.0", "release-age", False)
    ]
    assert not any(upstream.hits[upstream.file_path(name)] for name in RESOLVED)
    # Pinning the held release: uv cannot resolve, and the report says which hold is why.
    assert failed.returncode == 1
    explained = json.loads(failed.stdout)
    assert "uv could not resolve" in explained["problems"][0]
    assert [(h["version"], h["policy"], h["needed"]) for h in explained["held"]] == [
        ("1.1.0", "release-age", True)
    ]


def test_warm_per_target_and_a_lock_that_names_a_held_file(
    upstream, upstream_url, start_proxy, fresh_release, tmp_path
):
    lock = tmp_path / "uv.lock"
    entries = []
    for project, version in (("demo-pkg", "1.1.0"), ("demo-dep", "0.2.0")):
        files = (
            [upstream.file(n) for n in upstream.project(project).files_names(version)]
            if False
            else [f for f in upstream.project(project).files if f.version == version]
        )
        wheel = next(f for f in files if f.filename.endswith(".whl"))
        sdist = next(f for f in files if f.filename.endswith(".tar.gz"))
        entries.append(
            f'[[package]]\nname = "{project}"\nversion = "{version}"\n'
            f'source = {{ registry = "https://pypi.org/simple" }}\n'
            f'sdist = {{ url = "https://files.example/{sdist.filename}", '
            f'hash = "sha256:{sdist.sha256}", size = {sdist.size} }}\n'
            f'wheels = [{{ url = "https://files.example/{wheel.filename}", '
            f'hash = "sha256:{wheel.sha256}", size = {wheel.size} }}]\n'
        )
    lock.write_text('version = 1\nrequires-python = ">=3.8"\n\n' + "\n".join(entries))
    project = tmp_path / "pyproject.toml"
    project.write_text(
        '[project]\nname = "app"\nversion = "0"\ndependencies = ["demo-dep==0.1.0"]\n'
    )

    with start_proxy(upstream_url) as proxy:
        result = warm(
            proxy,
            "--lock",
            str(lock),
            "--project",
            str(project),
            "--python",
            "3.12",
            "--platform",
            "linux",
            "--format",
            "json",
        )

    assert result.returncode == 1, result.stderr  # the lock needs a held file
    report = json.loads(result.stdout)
    # The lock's files, and the files of the release the project resolves to
    # (demo-dep 0.1.0's wheel was cached while uv read it to resolve).
    assert {f["filename"]: f["status"] for f in report["files"]} == {
        "demo_dep-0.2.0-py3-none-any.whl": "fetched",
        "demo_dep-0.2.0.tar.gz": "fetched",
        "demo_dep-0.1.0-py3-none-any.whl": "cached",
        "demo_dep-0.1.0.tar.gz": "fetched",
    }
    assert sorted((h["filename"], h["policy"], h["needed"]) for h in report["held"]) == [
        (NEW[0], "release-age", True),
        (NEW[1], "release-age", True),
    ]
    assert upstream.hits[upstream.file_path(NEW[0])] == 0
