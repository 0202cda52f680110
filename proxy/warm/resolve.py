"""What to warm: pins resolved by uv through pipgate, or the files a ``uv.lock`` names.

Requirements files and ``pyproject.toml`` are resolved by ``uv pip compile``
against pipgate itself (never another index), universally (every platform and
Python at once) or once per target, and the pins of all runs are merged. A
``uv.lock`` is already resolved for every platform: its files are taken as they
are, with their hashes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from pipgate.proxy.warm.targets import Target


class ResolveError(Exception):
    """A resolution that failed or an input that cannot be read; the message says which."""


@dataclass(frozen=True, order=True)
class Pin:
    """One resolved ``name==version``."""

    name: NormalizedName
    version: str


@dataclass(frozen=True)
class LockedFile:
    """One file a lock names, with the hash the lock recorded (``None``: none recorded)."""

    project: NormalizedName
    version: str
    filename: str
    sha256: str | None
    size: int | None


def find_uv() -> str | None:
    """The uv beside this interpreter (``pip install 'pipgate[warm]'``), else on ``PATH``."""
    beside = Path(sys.executable).with_name("uv")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")


def compile_argv(
    uv: str,
    index_url: str,
    inputs: Sequence[Path],
    target: Target | None,
    *,
    all_extras: bool = False,
) -> list[str]:
    """``uv pip compile`` of ``inputs`` through ``index_url`` only, for ``target``
    (``None``: universal). uv's own configuration is ignored (``--no-config``), so
    no other index takes part."""
    argv = [
        uv,
        "pip",
        "compile",
        *(str(p) for p in inputs),
        "--index-url",
        index_url,
        "--no-config",
        "--no-cache",
        "--no-header",
        "--no-annotate",
        "--quiet",
        "--python",
        sys.executable,
    ]
    if all_extras:
        argv.append("--all-extras")
    if target is None:
        argv.append("--universal")
    else:
        if target.python:
            argv += ["--python-version", target.python]
        if target.platform:
            argv += ["--python-platform", target.platform]
    return argv


def uv_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for uv: without ``UV_*`` variables (extra indexes, find-links,
    constraints of this machine must not take part in the resolution)."""
    env = dict(os.environ if base is None else base)
    return {k: v for k, v in env.items() if not k.startswith("UV_")}


def resolve(
    uv: str,
    index_url: str,
    inputs: Sequence[Path],
    targets: Sequence[Target],
    *,
    all_extras: bool = False,
    timeout: float = 600,
) -> list[Pin]:
    """The union of the pins resolved for each target (universal when there are none).

    Raises ``ResolveError`` with uv's message when a resolution fails.
    """
    pins: set[Pin] = set()
    for target in targets or [None]:
        argv = compile_argv(uv, index_url, inputs, target, all_extras=all_extras)
        try:
            done = subprocess.run(
                argv, env=uv_env(), capture_output=True, text=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ResolveError(f"cannot run {uv}: {exc}") from exc
        if done.returncode != 0:
            where = f" for {target}" if target else ""
            raise ResolveError(f"uv could not resolve{where}:\n{done.stderr.strip()}")
        pins |= set(parse_pins(done.stdout))
    return sorted(pins)


def parse_pins(text: str) -> list[Pin]:
    """The ``name==version`` lines of ``uv pip compile`` output (markers are dropped:
    a universal resolution lists every platform's pins, and all are warmed)."""
    pins = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        for spec in req.specifier:
            if spec.operator in ("==", "===") and "*" not in spec.version:
                pins.append(Pin(canonicalize_name(req.name), spec.version))
    return pins


def direct_names(inputs: Iterable[Path], *, all_extras: bool = False) -> list[NormalizedName]:
    """The project names an input asks for directly (to explain a failed resolution)."""
    names: list[NormalizedName] = []
    for path in inputs:
        for text in _requirement_lines(path, all_extras=all_extras):
            try:
                names.append(canonicalize_name(Requirement(text).name))
            except InvalidRequirement:
                continue
    return list(dict.fromkeys(names))


def _requirement_lines(path: Path, *, all_extras: bool) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResolveError(f"cannot read {str(path)!r}: {exc}") from exc
    if path.name.endswith(".toml"):
        try:
            project = tomllib.loads(text).get("project", {})
        except tomllib.TOMLDecodeError as exc:
            raise ResolveError(f"{str(path)!r} is not valid TOML: {exc}") from exc
        lines = list(project.get("dependencies", []))
        if all_extras:
            for extra in project.get("optional-dependencies", {}).values():
                lines += extra
        return lines
    lines = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            lines.append(line)
    return lines


def locked_files(path: Path) -> list[LockedFile]:
    """Every sdist and wheel of every registry package in the ``uv.lock`` at ``path``.

    Packages from a directory, a git repository or a URL are not on an index and
    are skipped. Raises ``ResolveError`` for a file that is not a readable uv lock.
    """
    try:
        lock = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ResolveError(f"cannot read uv lock {str(path)!r}: {exc}") from exc
    if "package" not in lock or "version" not in lock:
        raise ResolveError(f"{str(path)!r} is not a uv.lock (no 'version' and '[[package]]')")
    files = []
    for package in lock["package"]:
        if "registry" not in package.get("source", {}):
            continue
        name, version = canonicalize_name(package["name"]), str(package.get("version", ""))
        entries = [package["sdist"]] if "sdist" in package else []
        entries += package.get("wheels", [])
        for entry in entries:
            url = entry.get("url") or entry.get("path") or ""
            filename = entry.get("filename") or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
            if not filename:
                continue
            digest = entry.get("hash", "")
            sha256 = digest.removeprefix("sha256:") if digest.startswith("sha256:") else None
            files.append(LockedFile(name, version, filename, sha256, entry.get("size")))
    return files
