"""Real pdm locks and installs through pipgate, configured as the README says.

A temporary pdm project (``distribution = false``) whose only index is pipgate,
set with the README's ``pdm config pypi.url ...``; ``pdm add demo-pkg`` resolves,
locks (with every file's hash) and installs into the project's own ``.venv``
while demo-pkg 1.1.0 is held by the release age. pdm is isolated from this
machine: its global config, cache and logs are temporary, pip/uv/pdm variables
from the environment are dropped, and it installs with its own installer (not uv).
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

PDM = Path(sys.executable).with_name("pdm")
NEW = ("demo_pkg-1.1.0-py3-none-any.whl", "demo_pkg-1.1.0.tar.gz")
PYPROJECT = """\
[project]
name = "through-pipgate"
version = "0.1.0"
requires-python = ">={major}.{minor},<4"
dependencies = []

[tool.pdm]
distribution = false
"""


def test_pdm_adds_locks_and_installs_through_pipgate(upstream, upstream_url, start_proxy, tmp_path):
    if not PDM.exists():
        pytest.skip(f"pdm is not installed beside {sys.executable} (pip install -e '.[test]')")
    for name in NEW:  # uploaded two hours ago: held for 7 days
        upstream.file(name).upload_time = datetime.now(UTC) - timedelta(hours=2)
    project, home = tmp_path / "project", tmp_path / "pdm-home"
    project.mkdir()
    major, minor = sys.version_info[:2]
    (project / "pyproject.toml").write_text(PYPROJECT.format(major=major, minor=minor))
    subprocess.run(
        [sys._base_executable, "-m", "venv", "--without-pip", str(project / ".venv")],  # type: ignore[attr-defined]
        check=True,
        timeout=120,
    )
    env = {
        k: v
        for k, v in client_env().items()
        if not k.startswith("PDM_") and k not in ("VIRTUAL_ENV", "CONDA_PREFIX")
    }
    env.update(
        PDM_CONFIG_FILE=str(home / "config.toml"),
        PDM_CACHE_DIR=str(home / "cache"),
        PDM_LOG_DIR=str(home / "log"),
        PDM_CHECK_UPDATE="false",
        PDM_NON_INTERACTIVE="1",
        PDM_USE_UV="false",
        PDM_PYTHON=str(project / ".venv" / "bin" / "python"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )

    def pdm(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PDM), *args], cwd=project, env=env, capture_output=True, text=True, timeout=300
        )

    with start_proxy(upstream_url) as proxy:
        configured = pdm("config", "pypi.url", proxy.index_url)  # the README's command
        added = pdm("add", "demo-pkg")
        pinned = pdm("add", "--no-sync", "demo-pkg==1.1.0")

    assert configured.returncode == 0, configured.stderr
    assert added.returncode == 0, added.stdout + added.stderr
    site = next(project.glob(".venv/lib/python*/site-packages"))
    assert {"demo-pkg==1.0.0", "demo-dep==0.2.0"} <= installed(site)
    lock = {p["name"]: p for p in tomllib.loads((project / "pdm.lock").read_text())["package"]}
    assert lock["demo-pkg"]["version"] == "1.0.0"
    assert {f["file"]: f["hash"] for f in lock["demo-pkg"]["files"]} == {
        name: f"sha256:{upstream.file(name).sha256}"
        for name in ("demo_pkg-1.0.0-py3-none-any.whl", "demo_pkg-1.0.0.tar.gz")
    }
    # The held release is offered only as yanked: pinning it reaches the refusal, which
    # pdm prints, and it is never fetched.
    assert pinned.returncode != 0
    assert "Quarantine by release-age" in pinned.stdout + pinned.stderr
    assert upstream.hits[upstream.file_path(NEW[0])] == 0
    assert upstream.hits[upstream.file_path("demo_pkg-1.0.0-py3-none-any.whl")] == 1
