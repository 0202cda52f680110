"""Real poetry locks and installs through pipgate, as the README tells it to.

A temporary non-package poetry project gets pipgate as its primary source with the
README's own ``poetry source add`` command, then ``poetry add demo-pkg`` resolves,
locks (with every file's hash) and installs into the project's own ``.venv``. Poetry
is isolated from this machine: its config, cache and data directories, virtualenv's
app data and the keyring are all temporary or off, and pip/uv/poetry variables from
the environment are dropped.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.installers import installed
from tests.support.servers import client_env

pytestmark = pytest.mark.slow

POETRY = Path(sys.executable).with_name("poetry")
NEW_WHEEL = "demo_pkg-1.1.0-py3-none-any.whl"
NEW_SDIST = "demo_pkg-1.1.0.tar.gz"

PYPROJECT = """\
[project]
name = "through-pipgate"
version = "0.1.0"
# An upper bound, so that demo-pkg 1.1.0 (Requires-Python >=3.8,<4) is admissible and
# only pipgate's policy, never the Python range, can make poetry pick 1.0.0.
requires-python = ">={major}.{minor},<4"
dependencies = []

[tool.poetry]
package-mode = false
"""


@pytest.fixture
def poetry(tmp_path: Path):
    """``poetry(project, *args)`` runs the real poetry in ``project``, isolated."""
    if not POETRY.exists():
        pytest.skip(f"poetry is not installed beside {sys.executable} (pip install -e '.[test]')")
    home = tmp_path / "poetry-home"
    env = {
        key: value
        for key, value in client_env().items()
        if not key.startswith("POETRY_") and key not in ("VIRTUAL_ENV", "CONDA_PREFIX")
    }
    env.update(
        POETRY_CONFIG_DIR=str(home / "config"),
        POETRY_CACHE_DIR=str(home / "cache"),
        POETRY_DATA_DIR=str(home / "data"),
        POETRY_VIRTUALENVS_IN_PROJECT="true",
        POETRY_NO_INTERACTION="1",
        POETRY_KEYRING_ENABLED="false",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        VIRTUALENV_OVERRIDE_APP_DATA=str(home / "virtualenv"),
    )

    def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(POETRY), "--no-ansi", *args],
            check=False,
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


def _project(poetry, path: Path, index_url: str) -> Path:
    """A non-package poetry project whose only (primary) source is pipgate at ``index_url``,
    with its virtual environment in ``path/.venv`` on this interpreter."""
    path.mkdir()
    (path / "pyproject.toml").write_text(
        PYPROJECT.format(major=sys.version_info.major, minor=sys.version_info.minor)
    )
    for args in (
        ("source", "add", "--priority=primary", "pipgate", index_url),  # the README's command
        ("env", "use", sys.executable),
    ):
        result = poetry(path, *args)
        assert result.returncode == 0, _output(result)
    return path


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def _site_packages(project: Path) -> Path:
    found = list(project.glob(".venv/lib/python*/site-packages"))
    assert len(found) == 1, f"no single in-project venv: {found}"
    return found[0]


def _lock(project: Path) -> dict[str, dict]:
    lock = tomllib.loads((project / "poetry.lock").read_text())
    return {package["name"]: package for package in lock["package"]}


def _import_version(project: Path, module: str) -> str:
    result = subprocess.run(
        [str(project / ".venv/bin/python"), "-c", f"import {module}; print({module}.__version__)"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _assert_locked(package: dict, upstream, proxy, version: str, filenames: set[str]) -> None:
    """Locked at ``version`` from the pipgate source, with each file's upstream sha256."""
    assert package["version"] == version
    # poetry.lock names a legacy source's index URL (without its trailing slash), not
    # per-file URLs: every file of the package is fetched through that index.
    assert package["source"] == {
        "type": "legacy",
        "url": proxy.index_url.rstrip("/"),
        "reference": "pipgate",
    }
    assert {f["file"]: f["hash"] for f in package["files"]} == {
        name: f"sha256:{upstream.file(name).sha256}" for name in filenames
    }


def test_poetry_adds_locks_and_installs_through_pipgate(
    upstream, upstream_url, start_proxy, poetry, tmp_path
):
    with start_proxy(upstream_url) as proxy:
        project = _project(poetry, tmp_path / "project", proxy.index_url)
        result = poetry(project, "add", "demo-pkg")
    assert result.returncode == 0, _output(result)

    assert {"demo-pkg==1.1.0", "demo-dep==0.2.0"} <= installed(_site_packages(project))
    assert _import_version(project, "demo_pkg") == "1.1.0"
    assert _import_version(project, "demo_dep") == "0.2.0"

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert any(dep.startswith("demo-pkg") for dep in pyproject["project"]["dependencies"])
    assert pyproject["tool"]["poetry"]["source"] == [
        {"name": "pipgate", "url": proxy.index_url, "priority": "primary"}
    ]

    packages = _lock(project)
    assert set(packages) == {"demo-pkg", "demo-dep"}
    _assert_locked(packages["demo-pkg"], upstream, proxy, "1.1.0", {NEW_WHEEL, NEW_SDIST})
    _assert_locked(
        packages["demo-dep"],
        upstream,
        proxy,
        "0.2.0",
        {"demo_dep-0.2.0-py3-none-any.whl", "demo_dep-0.2.0.tar.gz"},
    )
    # What poetry asked pipgate for: the HTML project pages, demo-pkg's PEP 658
    # ``.metadata``, demo-dep's wheel (no ``.metadata`` there: first a Range request to
    # read its METADATA, then whole to install it) and demo-pkg's wheel. The proxy
    # fetched each wheel from upstream once.
    assert upstream.hits[upstream.file_path(NEW_WHEEL) + ".metadata"] == 1
    assert upstream.hits[upstream.file_path(NEW_WHEEL)] == 1
    assert upstream.hits[upstream.file_path("demo_dep-0.2.0-py3-none-any.whl")] == 1


@pytest.fixture
def fresh_release(upstream):
    """demo-pkg 1.1.0 was uploaded two hours ago."""
    uploaded = datetime.now(UTC) - timedelta(hours=2)
    for name in (NEW_WHEEL, NEW_SDIST):
        upstream.file(name).upload_time = uploaded
    return uploaded


def test_poetry_resolves_the_previous_release_while_the_new_one_is_quarantined(
    upstream, upstream_url, start_proxy, fresh_release, poetry, tmp_path
):
    with start_proxy(upstream_url) as proxy:
        project = _project(poetry, tmp_path / "project", proxy.index_url)
        latest = poetry(project, "add", "demo-pkg")
        pinned = poetry(project, "add", "--lock", "demo-pkg==1.1.0")

    assert latest.returncode == 0, _output(latest)
    assert {"demo-pkg==1.0.0", "demo-dep==0.2.0"} <= installed(_site_packages(project))
    packages = _lock(project)
    _assert_locked(
        packages["demo-pkg"],
        upstream,
        proxy,
        "1.0.0",
        {"demo_pkg-1.0.0-py3-none-any.whl", "demo_pkg-1.0.0.tar.gz"},
    )
    assert NEW_WHEEL not in (project / "poetry.lock").read_text()
    # Asking for the quarantined version by name fails, and says why: the page lists it
    # only as yanked, and its metadata refuses with the hold as the reason phrase.
    assert pinned.returncode != 0
    assert "Quarantine by release-age" in pinned.stderr, _output(pinned)
    assert upstream.hits[upstream.file_path(NEW_WHEEL)] == 0
