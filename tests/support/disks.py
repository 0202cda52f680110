"""A small file system of its own (a tmpfs) to fill up, for tests of a full disk."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(mountpoint: Path, size: str = "8m") -> Iterator[Path]:
    """Mount a tmpfs of ``size`` on ``mountpoint`` (created) and unmount it afterwards.

    Skips the calling test where mounting is not permitted (not root, no mount(2)).
    """
    mountpoint.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs to fill needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        if subprocess.run(["umount", str(mountpoint)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(directory: Path) -> Path:
    """Write zeros into ``directory`` until the disk refuses; return the file."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(bytes(64 * 1024))
        except OSError:
            pass
    with filler.open("ab", buffering=0) as out:  # and the last few bytes
        try:
            while True:
                out.write(b"\0")
        except OSError:
            pass
    return filler
