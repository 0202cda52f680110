"""Small synthetic archives for the content-scan tests, built in memory.

Unlike ``dists.py`` these are not meant to install: they carry whatever members a test
needs, including the hostile ones (links, ``..`` paths, bombs). The "malicious" sources are
inert text: nothing here is ever run.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from collections.abc import Mapping

#: Where the synthetic packages say they live: most published packages name their source,
#: and one that names none is ``anonymous`` beside code evidence (tests of that pass
#: ``source=None``).
SOURCE = "https://github.com/demo-org/{name}"


def sdist(members: Mapping[str, str | bytes], root: str = "demo-1.0") -> bytes:
    """A ``.tar.gz`` with every member under ``root/`` (``root=""`` for none)."""
    prefix = f"{root}/" if root else ""
    return tar_gz({prefix + path: data for path, data in members.items()})


def tar_gz(
    members: Mapping[str, str | bytes],
    links: Mapping[str, str] | None = None,
) -> bytes:
    """A ``.tar.gz`` of regular ``members`` and symbolic ``links`` (name -> target)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data in members.items():
            blob = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(path)
            info.size = len(blob)
            archive.addfile(info, io.BytesIO(blob))
        for path, target in (links or {}).items():
            info = tarfile.TarInfo(path)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return gzip.compress(raw.getvalue(), mtime=0)


def wheel(
    members: Mapping[str, str | bytes],
    name: str = "demo",
    version: str = "1.0",
    metadata: str | None = None,
    links: Mapping[str, str] | None = None,
    source: str | None = SOURCE,
) -> bytes:
    """A wheel-shaped zip: ``members`` plus a ``.dist-info`` with ``METADATA`` (``metadata``,
    else one naming ``source`` as the project's address when it is given)."""
    info = f"{name}-{version}.dist-info"
    files = dict(members)
    files.setdefault(f"{info}/METADATA", metadata or _metadata(name, version, "demo", source))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        for path, target in (links or {}).items():
            entry = zipfile.ZipInfo(path)
            entry.create_system = 3
            entry.external_attr = (0o120777 << 16) | 0
            archive.writestr(entry, target)
    return buf.getvalue()


def pkg_info(
    name: str = "demo", version: str = "1.0", summary: str = "A demo", source: str | None = SOURCE
) -> str:
    return _metadata(name, version, summary, source)


def _metadata(name: str, version: str, summary: str, source: str | None) -> str:
    text = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n"
    if source:
        text += f"Project-URL: Source, {source.format(name=name)}\n"
    return text


def zip_bomb(size: int = 200 * 1024 * 1024) -> bytes:
    """A zip whose one member inflates ``size`` zero bytes from about ``size / 1000``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("demo/__init__.py", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return buf.getvalue()


def tar_bomb(size: int = 300 * 1024 * 1024) -> bytes:
    """A ``.tar.gz`` whose one data member is ``size`` zero bytes (gzip makes it ~0.1%)."""
    raw = io.BytesIO()
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as archive:
            info = tarfile.TarInfo("demo-1.0/data.bin")
            info.size = size
            archive.addfile(info, _Zeros(size))
    del raw
    return out.getvalue()


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), self.left)
        buffer[:n] = b"\0" * n
        self.left -= n
        return n
