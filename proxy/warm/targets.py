"""Which files of a release a list of target Pythons and platforms needs. No I/O.

A target is a Python version (``3.12``), a platform (``linux``, ``macos``,
``windows``, or uv's names such as ``x86_64-manylinux_2_28`` and
``aarch64-apple-darwin``), or both. With no targets every file is wanted (the
universal case: all platforms). An sdist is always wanted: it is what any
platform without a matching wheel builds from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename


@dataclass(frozen=True)
class Target:
    """One platform a resolution and a prefetch are for; ``None`` fields match any."""

    python: str | None = None
    platform: str | None = None

    def __post_init__(self) -> None:
        if self.python is not None:
            parts = self.python.split(".")
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                raise ValueError(f"python version {self.python!r}: expected MAJOR.MINOR, like 3.12")
        if self.platform is not None and _family(self.platform) is None:
            raise ValueError(
                f"platform {self.platform!r}: expected linux, macos or windows, "
                "or a uv platform such as x86_64-manylinux_2_28 or aarch64-apple-darwin"
            )

    def __str__(self) -> str:
        return " ".join(p for p in (self.python and f"Python {self.python}", self.platform) if p)


def targets_of(pythons: Iterable[str], platforms: Iterable[str]) -> list[Target]:
    """Every combination of the given Pythons and platforms (``[]``: universal)."""
    pythons, platforms = list(pythons), list(platforms)
    if not pythons and not platforms:
        return []
    return [Target(py, plat) for py in (pythons or [None]) for plat in (platforms or [None])]


def wanted(filename: str, targets: Iterable[Target]) -> bool:
    """Whether some target needs ``filename`` (every file when ``targets`` is empty)."""
    targets = list(targets)
    if not targets or not filename.endswith(".whl"):
        return True
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return True  # not ours to judge: the index offers it, so fetch it
    return any(_fits(tag, target) for tag in tags for target in targets)


def _fits(tag: Tag, target: Target) -> bool:
    return _python_fits(tag, target.python) and _platform_fits(tag.platform, target.platform)


def _python_fits(tag: Tag, python: str | None) -> bool:
    if python is None:
        return True
    major, minor = (int(p) for p in python.split("."))
    kind, digits = tag.interpreter[:2], tag.interpreter[2:]
    if kind == "py":
        return digits in (str(major), f"{major}{minor}")
    if kind != "cp" or not digits.isdigit():
        return False  # PyPy, GraalPy ...: another interpreter than the CPython asked for
    wheel = (int(digits[0]), int(digits[1:] or 0))
    if tag.abi == "abi3":
        return wheel <= (major, minor) and wheel[0] == major
    return wheel == (major, minor)


_ARCHES = {
    "x86_64": ("x86_64", "amd64", "universal2", "intel"),
    "amd64": ("x86_64", "amd64", "universal2", "intel"),
    "aarch64": ("aarch64", "arm64", "universal2"),
    "arm64": ("aarch64", "arm64", "universal2"),
    "i686": ("i686", "win32"),
}


def _family(platform: str) -> str | None:
    text = platform.lower()
    if "mac" in text or "darwin" in text:  # before "win": darWIN
        return "macos"
    if "win" in text:
        return "windows"
    if "linux" in text:
        return "linux"
    return None


def _platform_fits(wheel_platform: str, target: str | None) -> bool:
    if target is None or wheel_platform == "any":
        return True
    family = _family(target)
    prefixes = {
        "linux": ("manylinux", "musllinux", "linux"),
        "macos": ("macosx",),
        "windows": ("win",),
    }[family or ""]
    if not wheel_platform.startswith(prefixes):
        return False
    arch = next((a for a in _ARCHES if a in target.lower()), None)
    return arch is None or wheel_platform.endswith(_ARCHES[arch])
