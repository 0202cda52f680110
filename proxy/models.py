"""The Simple Repository API model: one project page and its files. No I/O.

One model, two renderings: ``render`` turns a ``Project`` into PEP 691 JSON or
PEP 503 HTML. Upstream pages of either format parse into it (``parse``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Annotated

import msgspec
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

#: The largest ``size`` a page may give (``msgspec``'s bounds are 64-bit signed; no file is
#: that large): a larger one is dropped by either parser, and the cached form reads back
#: every size it wrote.
LARGEST_SIZE = (1 << 63) - 1
#: PEP 592: ``False``, ``True`` (yanked, no reason) or the reason.
Yanked = bool | str
#: PEP 658/714: ``False``, ``True`` (available, no hashes) or its hashes.
CoreMetadata = bool | dict[str, str]


class DistFile(
    msgspec.Struct,
    frozen=True,
    gc=False,
    rename={
        "requires_python": "requires-python",
        "upload_time": "upload-time",
        "core_metadata": "core-metadata",
        "gpg_sig": "gpg-sig",
    },
):
    """One file on a project page, as upstream described it.

    ``url`` is upstream's absolute URL and never reaches a client. ``upload_time`` is in
    UTC. A ``msgspec`` struct: a well-formed PEP 691 page decodes straight into these
    (``parse``), and the collector never tracks them (``gc=False``: they hold only
    strings, numbers, times and dicts of strings, which make no cycles), so a cached
    10,000-file page costs a collection nothing.
    """

    filename: str
    url: str
    hashes: dict[str, str] = {}
    requires_python: str | None = None
    yanked: Yanked = False
    size: Annotated[int, msgspec.Meta(ge=0, le=LARGEST_SIZE)] | None = None
    upload_time: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    core_metadata: CoreMetadata = False
    gpg_sig: bool | None = None
    provenance: str | None = None

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")

    @property
    def version(self) -> Version | None:
        """The version in the filename, or ``None`` when it cannot be parsed."""
        return version_of(self.filename)


#: See ``Project.small``.
SMALL_PAGE_FILES = 200


@dataclass(frozen=True)
class Project:
    """One project page. ``versions`` is PEP 700's list (may be empty if unknown)."""

    name: NormalizedName
    files: tuple[DistFile, ...]
    versions: tuple[str, ...] = ()
    status: str | None = None
    status_reason: str | None = None
    tracks: tuple[str, ...] = ()
    alternate_locations: tuple[str, ...] = ()

    @property
    def small(self) -> bool:
        """Whether judging and rendering the page costs less than handing it to a worker
        thread (~0.2 ms a hop): up to ``SMALL_PAGE_FILES`` files (0.1-0.3 ms of work)."""
        return len(self.files) <= SMALL_PAGE_FILES

    @cached_property
    def file_versions(self) -> tuple[Version | None, ...]:
        """Each file's ``version``, in ``files``' order (worked out once per page: a
        page is judged file by file, and judged again when a policy or time changes)."""
        return tuple([version_of(f.filename) for f in self.files])

    @cached_property
    def files_by_name(self) -> dict[str, DistFile]:
        return {f.filename: f for f in self.files}

    def file(self, filename: str) -> DistFile | None:
        return self.files_by_name.get(filename)


def version_of(filename: str) -> Version | None:
    """The version encoded in a wheel or sdist filename, or ``None``.

    Files of one release share one ``Version`` object: a 10,000-file page has
    a few hundred versions (see ``Project.file_versions``).
    """
    if filename.endswith(".whl"):
        parts = filename.split("-")
        if len(parts) in (5, 6):
            return parse_version(parts[1])
    elif filename.endswith((".tar.gz", ".zip")):
        stem = filename[: -len(".tar.gz")] if filename.endswith(".tar.gz") else filename[:-4]
        name, _, text = stem.rpartition("-")
        if name:
            return parse_version(text)
    return _version_slow(filename)


@lru_cache(maxsize=65536)
def parse_version(text: str) -> Version | None:
    """``Version(text)``, shared between callers, or ``None`` if it is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _version_slow(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return _legacy_version(filename)


_LEGACY_SUFFIXES = (".tar.bz2", ".tar.xz", ".tgz", ".zip", ".egg", ".exe", ".msi", ".rpm", ".dmg")


def _legacy_version(filename: str) -> Version | None:
    """Best effort for old formats (eggs, installers, ``.tar.bz2`` sdists)."""
    stem = filename
    for suffix in _LEGACY_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        return None
    parts = stem.split("-")
    for part in parts[1:]:
        try:
            return Version(part)
        except InvalidVersion:
            continue
    return None
