"""The on-disk form of a cached project page: compact, versioned, quick both ways.

``pickle`` of a 10,000-file page takes ~35 ms in one call that holds the GIL (and
as long again to read back), so the event loop would answer nothing meanwhile. This
form (``MAGIC``) is the project's fields and the caller's ``extra`` as a MessagePack
map, each file a map of ``DistFile``'s PEP 691 keys in lots of ``LOT``, written and
read by ``msgspec`` a lot a call (a few milliseconds for 10,000 files in all). It does
not depend on the classes' layout beyond those keys, so a pipgate that changes them
still reads what an older one wrote (or drops it: ``decode`` raises ``ValueError`` for
anything it does not recognise, as the earlier form ``pipgate-page/1``, and the page is
fetched again).
"""

from __future__ import annotations

import struct
from typing import Any

import msgspec
from packaging.utils import NormalizedName

from pipgate.proxy.models import DistFile, Project

MAGIC = b"pipgate-page/2\n"


class _Stored(msgspec.Struct, gc=False):
    """A page as ``MAGIC`` stores it."""

    name: str
    #: The files in lots of ``LOT`` (each encoded and decoded in one call).
    files: list[msgspec.Raw]
    versions: tuple[str, ...]
    status: str | None
    status_reason: str | None
    tracks: tuple[str, ...]
    alternate_locations: tuple[str, ...]
    extra: dict[str, Any]


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(_Stored)
_FILES = msgspec.msgpack.Decoder(list[DistFile])
#: Files encoded or decoded in one call (each holds the GIL): well under a millisecond.
LOT = 1000
#: Files per frame: one ``orjson`` call each, well under a millisecond.
ROWS = 1000
_LENGTH = struct.Struct(">I")


def encode(project: Project, extra: dict[str, Any]) -> bytes:
    """``project`` and ``extra`` (JSON values) as bytes (see module doc)."""
    stored = _Stored(
        project.name,
        [
            msgspec.Raw(_ENCODER.encode(project.files[start : start + LOT]))
            for start in range(0, len(project.files), LOT)
        ],
        project.versions,
        project.status,
        project.status_reason,
        project.tracks,
        project.alternate_locations,
        extra,
    )
    return MAGIC + _ENCODER.encode(stored)


def decode(data: bytes) -> tuple[Project, dict[str, Any]]:
    """The project and ``extra`` that ``encode`` wrote; ``ValueError`` for anything else."""
    if not data.startswith(MAGIC):
        raise ValueError("not a cached page of this format")
    try:
        stored = _DECODER.decode(memoryview(data)[len(MAGIC) :])
        files = [f for lot in stored.files for f in _FILES.decode(lot)]
    except msgspec.DecodeError as exc:
        raise ValueError(f"cached page is damaged: {exc}") from exc
    project = Project(
        name=NormalizedName(stored.name),
        files=tuple(files),
        versions=stored.versions,
        status=stored.status,
        status_reason=stored.status_reason,
        tracks=stored.tracks,
        alternate_locations=stored.alternate_locations,
    )
    return project, stored.extra
