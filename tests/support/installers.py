"""The real pip and uv, run against one index only (isolated from this machine's
configuration by ``servers.client_env``, no cache), and what they installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.servers import client_env

#: uv as installed beside the test interpreter (the ``uv`` wheel of the test extra).
UV = Path(sys.executable).with_name("uv")


def run_pip(
    index_url: str, *args: str, target: Path, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``pip install --target`` through ``index_url`` only (no cache, no machine config)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--index-url",
            index_url,
            "--target",
            str(target),
            *args,
        ],
        env=client_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_uv(
    index_url: str, *args: str, target: Path, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``uv pip install --target`` through ``index_url`` only."""
    return subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "--no-cache",
            "--python",
            sys.executable,
            "--index-url",
            index_url,
            "--target",
            str(target),
            *args,
        ],
        env=client_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def installed(target: Path) -> set[str]:
    """Distribution ``name==version`` pairs found in a ``--target`` directory."""
    found = set()
    for info in target.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        found.add(f"{name.replace('_', '-').lower()}=={version}")
    return found
