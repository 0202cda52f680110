"""The on-disk form of a cached project page: compact, versioned, written in pieces.

``pickle`` of a 10,000-file page takes ~35 ms in one call that holds the GIL (and
as long again to read back), so the event loop would answer nothing meanwhile. This
form is a header and the files in frames of ``ROWS`` each, every frame one short
``orjson`` call; it also does not depend on the classes' layout, so a pipgate that
changes them still reads what an older one wrote (or drops it: ``decode`` raises
``ValueError`` for anything it does not recognise, and the page is fetched again).

Layout: ``MAGIC``, then frames, each a 4-byte big-endian length and an ``orjson``
document: first the header (project fields and the caller's ``extra``), then lists
of file rows in ``DistFile``'s field order.
"""

from __future__ import annotations

import struct
from datetime import datetime
from typing import Any

import orjson
from packaging.utils import NormalizedName

from pipgate.proxy.models import DistFile, Project

MAGIC = b"pipgate-page/1\n"
#: Files per frame: one ``orjson`` call each, well under a millisecond.
ROWS = 1000
_LENGTH = struct.Struct(">I")


def encode(project: Project, extra: dict[str, Any]) -> bytes:
    """``project`` and ``extra`` (JSON values) as bytes (see module doc)."""
    header = {
        "name": project.name,
        "versions": project.versions,
        "status": project.status,
        "status_reason": project.status_reason,
        "tracks": project.tracks,
        "alternate_locations": project.alternate_locations,
        "files": len(project.files),
        "extra": extra,
    }
    frames = [orjson.dumps(header)]
    files = project.files
    for start in range(0, len(files), ROWS):
        frames.append(orjson.dumps([_row(f) for f in files[start : start + ROWS]]))
    out = [MAGIC]
    for frame in frames:
        out += (_LENGTH.pack(len(frame)), frame)
    return b"".join(out)


def _row(f: DistFile) -> list[Any]:
    return [
        f.filename,
        f.url,
        f.hashes,
        f.requires_python,
        f.yanked,
        f.size,
        f.upload_time,  # RFC 3339 with its offset: orjson writes it, fromisoformat reads it
        f.core_metadata,
        f.gpg_sig,
        f.provenance,
    ]


def decode(data: bytes) -> tuple[Project, dict[str, Any]]:
    """The project and ``extra`` that ``encode`` wrote; ``ValueError`` for anything else."""
    if not data.startswith(MAGIC):
        raise ValueError("not a cached page of this format")
    frames = _frames(data, len(MAGIC))
    try:
        header = orjson.loads(next(frames))
        files: list[DistFile] = []
        for frame in frames:
            for row in orjson.loads(frame):
                when = row[6]
                row[6] = datetime.fromisoformat(when) if when is not None else None
                files.append(DistFile(*row))
    except (StopIteration, TypeError, IndexError, KeyError) as exc:
        raise ValueError(f"cached page is damaged: {exc!r}") from exc
    if len(files) != header["files"]:
        raise ValueError(f"cached page lists {len(files)} of {header['files']} files")
    project = Project(
        name=NormalizedName(header["name"]),
        files=tuple(files),
        versions=tuple(header["versions"]),
        status=header["status"],
        status_reason=header["status_reason"],
        tracks=tuple(header["tracks"]),
        alternate_locations=tuple(header["alternate_locations"]),
    )
    return project, header["extra"]


def _frames(data: bytes, offset: int):  # type: ignore[no-untyped-def]
    view = memoryview(data)
    while offset < len(data):
        if offset + 4 > len(data):
            raise ValueError("cached page is cut short")
        (length,) = _LENGTH.unpack_from(data, offset)
        offset += 4
        if offset + length > len(data):
            raise ValueError("cached page is cut short")
        yield view[offset : offset + length]
        offset += length
