"""What each installer prints through a real pipgate: the reason reaches the terminal.

pip, uv, poetry and pdm run against pipgate (fake upstream, real sockets) for the two
cases the README's "What installers print" shows: an exact pin of a release held by
release age (listed yanked with the hold as its reason; its files refuse with the
reason phrase) and a project held as a typosquat (a 451 page with the reason phrase).
The expected verbosity per client is what docs/installer-messages.md measured.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.installer_messages import BIN, client_command
from tests.support.fake_upstream import FakeProject, _release

HELD = "demo-pkg==1.1.0"
HOLD_REASON = "Quarantine by release-age"
TYPOSQUAT = "coloarma"
TYPOSQUAT_REASON = "imitates popular project 'colorama'"

# (client, requirement, verbosity, what the output must say)
CASES = [
    ("pip", HELD, "", HOLD_REASON),
    ("uv", HELD, "", HOLD_REASON),
    ("poetry", HELD, "", HOLD_REASON),
    ("pdm", HELD, "", HOLD_REASON),
    ("pip", TYPOSQUAT, "-vv", TYPOSQUAT_REASON),  # pip shows page errors only with -vv
    ("uv", TYPOSQUAT, "", TYPOSQUAT_REASON),
    ("poetry", TYPOSQUAT, "", TYPOSQUAT_REASON),
    ("pdm", TYPOSQUAT, "-v", TYPOSQUAT_REASON),
]


@pytest.fixture
def upstream(upstream, dists_dir):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    for file in upstream.project("demo-pkg").files:
        if "-1.1.0" in file.filename:
            file.upload_time = now - timedelta(hours=1)
    upstream.add(
        FakeProject(
            TYPOSQUAT, _release(dists_dir, TYPOSQUAT, "0.4.6", uploaded=now - timedelta(days=2))
        )
    )
    return upstream


@pytest.mark.parametrize(("client", "requirement", "verbosity", "expected"), CASES)
def test_the_reason_reaches_the_terminal(
    client, requirement, verbosity, expected, upstream_url, start_proxy, tmp_path
):
    if not (BIN / client).exists() and client != "pip":
        pytest.skip(f"{client} is not installed beside the test interpreter")
    if client in ("poetry", "pdm") and shutil.which("git") is None:
        pytest.skip("poetry and pdm projects need git")
    with start_proxy(upstream_url) as proxy:
        work, run = tmp_path / "work", tmp_path / "run"
        run.mkdir()
        work.mkdir()
        argv, env, cwd = client_command(
            client, requirement, proxy.index_url, verbosity, work, run, False
        )
        done = subprocess.run(
            argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
        )
    output = done.stdout + done.stderr
    if __import__("os").environ.get("PIPGATE_SHOW_OUTPUT"):
        print(f"\n===== {client} {verbosity} {requirement}\n{output}")
    assert done.returncode != 0, output
    assert expected in output, output
