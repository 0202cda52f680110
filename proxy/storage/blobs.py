"""``BlobStore``: distribution files and their metadata, content-addressed and write-once.

Keys name the *file's* sha256, never a filename, project or URL (a key reveals
nothing and needs no escaping): ``files/ab/<sha256>``, ``metadata/ab/<sha256>``
(the METADATA of that file; its own hash is a fact in the state store), and
``hosted/ab/<sha256>`` for files uploaded to hosted indexes: those are the only
copy (everything else can be fetched again), so they have a prefix of their own
for backups, replication and lifecycle rules.

A blob is written only from a file whose size and sha256 were already
verified, and never replaced: a key that exists already holds the same bytes,
so "already exists" is success. Large files go up in parts that become visible
together when the upload completes, so no reader ever sees part of a blob.

The embedded default has no ``BlobStore``: the data directory's ``FileStore``
is the store. With S3 (``s3.py``) the ``FileStore`` becomes this replica's L1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

from pipgate.proxy.errors import StorageError


class BlobMissing(StorageError):
    """No blob under that key (it may appear later)."""


def file_key(sha256: str) -> str:
    return f"files/{sha256[:2]}/{sha256}"


def metadata_key(sha256: str) -> str:
    return f"metadata/{sha256[:2]}/{sha256}"


def hosted_key(sha256: str) -> str:
    return f"hosted/{sha256[:2]}/{sha256}"


class BlobStore(Protocol):
    #: What the store is, for messages (``s3://bucket/prefix``).
    label: str

    async def head(self, key: str) -> int | None:
        """The blob's size, or ``None`` when there is none. Raises ``StoreUnavailable``."""
        ...

    async def stream(self, key: str, *, start: int = 0) -> tuple[int, AsyncIterator[bytes]]:
        """``(size of the whole blob, chunks from byte start on)`` in one request (no
        separate look first); raises ``BlobMissing`` or ``StoreUnavailable``."""
        ...

    async def put_file(self, key: str, path: Path, *, size: int) -> None:
        """Upload a verified file, write-once (an existing key is success)."""
        ...

    def put_path(self, key: str, path: Path | BinaryIO, *, size: int) -> None:
        """``put_file`` for a worker thread (blocking)."""
        ...

    def read_into(self, key: str, out: BinaryIO) -> int | None:
        """Write the blob to ``out`` (blocking, in bounded memory); its size, or ``None``
        when missing."""
        ...

    def get_bytes(self, key: str) -> bytes | None:
        """A small blob whole (blocking: call in a thread); ``None`` when missing."""
        ...

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store a small verified blob, write-once (blocking: call in a thread)."""
        ...

    async def check(self) -> list[str]:
        """Problems with reaching, reading and writing the store (empty: none)."""
        ...

    async def ping(self) -> None:
        """One round trip; raises ``StoreUnavailable`` when the store cannot be reached."""
        ...
