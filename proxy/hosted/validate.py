"""What makes an uploaded file acceptable: its name, its archive and its metadata agree.

``check_distribution`` reads a wheel or an sdist (``.tar.gz``, PEP 625) that was
received whole, and returns its core metadata; every refusal is an ``InvalidUpload``
whose message says what is wrong with which file, as twine and uv print it.
No network, no unpacking to disk, no code from the archive is run.
"""

from __future__ import annotations

import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.metadata import ExceptionGroup, InvalidMetadata, Metadata
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

#: Core metadata larger than this is not metadata.
METADATA_LIMIT = 16 << 20


class InvalidUpload(ValueError):
    """An upload refused for what it is (400); the message names the file."""


@dataclass(frozen=True)
class Distribution:
    """A checked distribution: its project, version, kind, and its core metadata
    (``METADATA`` of a wheel, ``PKG-INFO`` of an sdist)."""

    project: NormalizedName
    version: Version
    kind: str  # "bdist_wheel" | "sdist"
    metadata: bytes
    requires_python: str | None


def parse_filename(filename: str) -> tuple[NormalizedName, Version, str]:
    """(project, version, filetype) of a wheel or ``.tar.gz`` sdist filename."""
    if "/" in filename or "\\" in filename or filename.startswith("."):
        raise InvalidUpload(f"invalid file name {filename!r}")
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return name, version, "bdist_wheel"
        if filename.endswith(".tar.gz"):
            name, version = parse_sdist_filename(filename)
            return name, version, "sdist"
    except (InvalidWheelFilename, InvalidSdistFilename) as exc:
        raise InvalidUpload(f"invalid distribution file name {filename!r}: {exc}") from None
    raise InvalidUpload(
        f"{filename!r} is neither a wheel (.whl) nor an sdist (.tar.gz, PEP 625): "
        "pipgate hosts only those"
    )


def check_distribution(path: Path, filename: str) -> Distribution:
    """Check the file at ``path`` uploaded as ``filename`` and return what it is."""
    project, version, kind = parse_filename(filename)
    if kind == "bdist_wheel":
        raw = _wheel_metadata(path, filename, project, version)
    else:
        raw = _sdist_metadata(path, filename)
    try:
        metadata = Metadata.from_email(raw, validate=True)
    except (ExceptionGroup, InvalidMetadata, ValueError) as exc:
        problems = "; ".join(str(e) for e in getattr(exc, "exceptions", [exc]))
        raise InvalidUpload(f"invalid metadata in {filename!r}: {problems}") from None
    if canonicalize_name(metadata.name) != project:
        raise InvalidUpload(
            f"{filename!r} is named for project {project!r} but its metadata says "
            f"Name: {metadata.name}"
        )
    if metadata.version != version:
        raise InvalidUpload(
            f"{filename!r} is named for version {version} but its metadata says "
            f"Version: {metadata.version}"
        )
    requires_python = str(metadata.requires_python) if metadata.requires_python else None
    return Distribution(project, version, kind, raw, requires_python)


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except ValueError:
        return None


def _wheel_metadata(path: Path, filename: str, project: NormalizedName, expected: Version) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            infos = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(infos) != 1:
                raise InvalidUpload(
                    f"wheel {filename!r} must hold exactly one .dist-info/METADATA, "
                    f"found {len(infos)}"
                )
            info_dir = infos[0].split("/")[0]
            if f"{info_dir}/WHEEL" not in names or f"{info_dir}/RECORD" not in names:
                raise InvalidUpload(f"wheel {filename!r} has no {info_dir}/WHEEL or RECORD")
            stem = info_dir[: -len(".dist-info")]
            name, _, version = stem.partition("-")
            if canonicalize_name(name) != project or _version(version) != expected:
                raise InvalidUpload(
                    f"wheel {filename!r} holds {info_dir}, not the .dist-info of "
                    f"{project} {expected}"
                )
            return _read_limited(archive.open(infos[0]), filename)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        if isinstance(exc, InvalidUpload):
            raise
        raise InvalidUpload(f"{filename!r} is not a valid wheel (zip): {exc}") from None


def _sdist_metadata(path: Path, filename: str) -> bytes:
    root = filename[: -len(".tar.gz")]
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            try:
                member = archive.getmember(f"{root}/PKG-INFO")
            except KeyError:
                raise InvalidUpload(f"sdist {filename!r} has no {root}/PKG-INFO") from None
            if not member.isfile():
                raise InvalidUpload(f"sdist {filename!r}: {root}/PKG-INFO is not a file")
            handle = archive.extractfile(member)
            assert handle is not None
            return _read_limited(handle, filename)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InvalidUpload(f"{filename!r} is not a valid sdist (.tar.gz): {exc}") from None


def _read_limited(handle, filename: str) -> bytes:  # type: ignore[no-untyped-def]
    with handle:
        data = handle.read(METADATA_LIMIT + 1)
    if len(data) > METADATA_LIMIT:
        raise InvalidUpload(f"the metadata of {filename!r} is larger than 16 MiB")
    return data
