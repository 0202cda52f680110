"""Walk a distribution archive (zip, wheel, egg, tar.gz/bz2/xz) in memory, within caps.

Nothing is extracted: members are read into memory, one at a time, only when the caller
asks for them, and never beyond ``max_source`` bytes. Member names are normalized to
forward-slash relative paths; absolute names, ``..`` components, symbolic and hard links,
devices and fifos are never read or followed, only reported as ``Member.unsafe``. The format
is taken from the leading bytes, not from the filename.
"""

from __future__ import annotations

import bz2
import io
import lzma
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from isal import isal_zlib

from . import tar
from .limits import Deadline, ScanLimits, Unscannable

#: ``want(path, size)``: how many of this member's bytes the walk should read (``0`` or
#: ``False``: none; ``True``: up to ``max_source``).
Want = Callable[[str, int], int]


@dataclass(frozen=True, slots=True)
class Member:
    """One archive entry. ``data`` is set when it was read (at most ``max_source`` bytes,
    ``truncated`` when there was more); ``unsafe`` names why it was skipped unread."""

    path: str
    size: int
    data: bytes | None = None
    truncated: bool = False
    unsafe: str | None = None


def archive_kind(head: bytes) -> str | None:
    """``zip`` or ``tar`` from the first 512 bytes; ``None`` when it is neither."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")):
        return "tar"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return None


def walk(fileobj: BinaryIO, limits: ScanLimits, deadline: Deadline, want: Want) -> Iterator[Member]:
    """Yield every member of the archive in ``fileobj`` (seekable, positioned at 0).

    Raises ``Unscannable`` when the archive is not one, is corrupt, or exceeds a cap.
    """
    head = fileobj.read(512)
    fileobj.seek(0)
    kind = archive_kind(head)
    if kind is None:
        raise Unscannable("not a zip or tar archive")
    try:
        if kind == "zip":
            yield from _walk_zip(fileobj, limits, deadline, want)
        else:
            yield from _walk_tar(fileobj, head, limits, deadline, want)
    except Unscannable:
        raise
    except (
        tarfile.TarError,
        zipfile.BadZipFile,
        zlib.error,
        isal_zlib.error,
        lzma.LZMAError,
        EOFError,
        OSError,
    ) as exc:
        raise Unscannable(f"unreadable archive: {exc}") from exc
    except (ValueError, NotImplementedError, RuntimeError) as exc:
        # zipfile raises these for unsupported compression, encryption, bad headers.
        raise Unscannable(f"unreadable archive: {exc}") from exc


def safe_path(name: str) -> tuple[str, str | None]:
    """The member name as a relative forward-slash path, and why it is unsafe (if it is)."""
    path = name.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return path, "absolute path"
    if ".." in path.split("/"):
        return path, "path traversal"
    if "\x00" in path:
        return path.replace("\x00", "?"), "NUL in name"
    return path, None


def _walk_zip(
    fileobj: BinaryIO, limits: ScanLimits, deadline: Deadline, want: Want
) -> Iterator[Member]:
    with zipfile.ZipFile(fileobj) as archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise Unscannable(f"{len(infos)} members; the limit is {limits.max_members}")
        for info in infos:
            if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                raise Unscannable(
                    f"zip bomb: {info.filename!r} expands {info.file_size / max(info.compress_size, 1):.0f}x"
                )
        unpacked = 0
        for info in infos:
            deadline.check()
            path, unsafe = safe_path(info.filename)
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            if unsafe is None and stat.S_ISLNK(mode):
                unsafe = "symbolic link"
            cap = _cap(want(path, info.file_size), limits) if unsafe is None else 0
            if not cap:
                yield Member(path, info.file_size, unsafe=unsafe)
                continue
            with archive.open(info) as stream:
                data = stream.read(cap + 1)
            unpacked += len(data)
            if unpacked > limits.max_unpacked:
                raise Unscannable(f"more than {limits.max_unpacked} bytes unpacked")
            yield Member(path, info.file_size, data[:cap], len(data) > cap)


class _Inflating(io.RawIOBase):
    """The decompressed bytes of ``raw`` (gzip, bzip2, xz or plain), counted as they come.

    The caps are enforced on every read, so a bomb stops where it crosses one, even while
    ``tarfile`` skips over a member nobody asked to read.
    """

    def __init__(self, raw: BinaryIO, head: bytes, limits: ScanLimits, deadline: Deadline):
        self.raw = raw
        self.limits = limits
        self.deadline = deadline
        self.compressed = 0
        self.unpacked = 0
        self._pending = b""
        self._at = 0  # where in _pending the next read starts
        self._codec = (
            "gzip"
            if head.startswith(b"\x1f\x8b")
            else "bzip2"
            if head.startswith(b"BZh")
            else "xz"
            if head.startswith(b"\xfd7zXZ\x00")
            else None
        )
        self._inflater = self._new_inflater()

    def _new_inflater(self):  # type: ignore[no-untyped-def]
        if self._codec == "gzip":
            # ISA-L's inflate: the same stream API, at about 2.5 times zlib's speed.
            return isal_zlib.decompressobj(isal_zlib.MAX_WBITS | 16)
        if self._codec == "bzip2":
            return bz2.BZ2Decompressor()
        if self._codec == "xz":
            return lzma.LZMADecompressor()
        return None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _read(self, size: int) -> bytes:
        self.deadline.check()
        while self._at >= len(self._pending):
            self._pending, self._at = b"", 0
            chunk = self.raw.read(64 * 1024)
            self.compressed += len(chunk)
            if self._inflater is None:
                self._pending = chunk
                break
            if not chunk:
                if not _finished(self._inflater):
                    raise Unscannable("unreadable archive: compressed stream ends early")
                break
            while chunk:
                self._pending += self._inflater.decompress(chunk)
                chunk = b""
                if _finished(self._inflater) and self._inflater.unused_data:
                    # Concatenated members (gzip allows several in one file).
                    chunk = self._inflater.unused_data
                    self._inflater = self._new_inflater()
            self._check(len(self._pending))
        # Handed out from an offset: slicing off what was read would copy the rest of a
        # chunk (megabytes, from a well-compressed one) at every read.
        data = self._pending[self._at : self._at + size]
        self._at += len(data)
        return data

    def _check(self, more: int) -> None:
        self.unpacked += more
        limits = self.limits
        if self.unpacked > limits.max_unpacked:
            raise Unscannable(f"more than {limits.max_unpacked} bytes unpacked")
        if self.unpacked > limits.ratio_floor and self.unpacked > limits.max_ratio * max(
            self.compressed, 1
        ):
            raise Unscannable(
                f"decompression bomb: {self.unpacked} bytes from {self.compressed} "
                f"(over {limits.max_ratio:g}x)"
            )


def _finished(inflater) -> bool:  # type: ignore[no-untyped-def]
    return bool(getattr(inflater, "eof", True))


def _walk_tar(
    fileobj: BinaryIO, head: bytes, limits: ScanLimits, deadline: Deadline, want: Want
) -> Iterator[Member]:
    """The members of a tar archive, read by ``tar.headers``; where it meets something it
    leaves to ``tarfile``, the archive is read again by ``tarfile`` from the start and the
    members already given are passed over."""
    given = 0
    try:
        stream = io.BufferedReader(_Inflating(fileobj, head, limits, deadline), 64 * 1024)
        for header in tar.headers(stream):
            given += 1
            member = _tar_member(
                header.name,
                header.size,
                _tar_unsafe(header.type == b"2" or header.type == b"1", header.regular),
                header.type == b"5",
                header.read,
                given,
                limits,
                deadline,
                want,
            )
            if member is not None:
                yield member
        return
    except tar.Broken as exc:
        raise Unscannable(f"unreadable archive: {exc}") from None
    except tar.Unusual:
        pass
    fileobj.seek(0)
    yield from _walk_tarfile(fileobj, head, limits, deadline, want, skip=given)


def _walk_tarfile(
    fileobj: BinaryIO,
    head: bytes,
    limits: ScanLimits,
    deadline: Deadline,
    want: Want,
    skip: int = 0,
) -> Iterator[Member]:
    stream = io.BufferedReader(_Inflating(fileobj, head, limits, deadline), 64 * 1024)
    # Stream mode over bytes already decompressed by _Inflating: one pass, no seeking.
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for count, info in enumerate(archive, start=1):
            if count <= skip:
                continue

            def read(limit: int, info: tarfile.TarInfo = info) -> bytes:
                member = archive.extractfile(info)
                return member.read(limit) if member is not None else b""

            member = _tar_member(
                info.name,
                info.size,
                _tar_unsafe(info.issym() or info.islnk(), info.isreg()),
                info.isdir(),
                read,
                count,
                limits,
                deadline,
                want,
            )
            if member is not None:
                yield member


def _tar_unsafe(link: bool, regular: bool) -> str | None:
    if link:
        return "link"
    return None if regular else "special file"


def _tar_member(
    name: str,
    size: int,
    unsafe: str | None,
    directory: bool,
    read: Callable[[int], bytes],
    count: int,
    limits: ScanLimits,
    deadline: Deadline,
    want: Want,
) -> Member | None:
    deadline.check()
    if count > limits.max_members:
        raise Unscannable(f"more than {limits.max_members} members")
    if directory:
        return None
    path, bad_name = safe_path(name)
    unsafe = bad_name or unsafe
    cap = _cap(want(path, size), limits) if unsafe is None else 0
    if not cap:
        return Member(path, size, unsafe=unsafe)
    data = read(cap + 1)
    return Member(path, size, data[:cap], len(data) > cap)


def _cap(wanted: int, limits: ScanLimits) -> int:
    if wanted is True:
        return limits.max_source
    return min(int(wanted), limits.max_entry_source)
