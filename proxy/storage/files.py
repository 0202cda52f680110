"""The data directory's ``FileStore`` as a replica's L1, in front of the shared stores.

Files themselves come from the blob store through ``Downloads`` (a cold file is a
download, from the blob store or from upstream under a lease). What this adds
are the small things a replica asks for by key: a METADATA blob and the facts
(the hash an unhashed URL delivered, the hash of extracted METADATA), each
looked up in L1 first, then in the shared stores, and kept in L1 once found.

Blocking like ``FileStore``: call in a thread. A shared store that is down
raises ``StoreUnavailable``, except where the answer only saves work
(``metadata_hash`` while a page is built: the page then just omits it).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from pipgate.proxy.errors import StoreUnavailable
from pipgate.proxy.files.store import FileStore, _url_key
from pipgate.proxy.storage.blobs import BlobStore, metadata_key
from pipgate.proxy.storage.facts import FileFacts

log = logging.getLogger("pipgate.storage")

#: How long "no extracted metadata known" is believed before the database is asked again.
NEGATIVE_FOR = 30.0


class SharedFileStore(FileStore):
    def __init__(
        self,
        directory: Path,
        *,
        facts: FileFacts,
        blobs: BlobStore | None,
        size_limit: int,
        keep_free: Callable[[int], int] = lambda total: 0,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(
            directory,
            size_limit=size_limit,
            keep_free=keep_free,
            on_error=on_error,
            shared_directory=True,
        )
        self.facts = facts
        self.blobs = blobs
        self._no_metadata: dict[str, float] = {}

    def sha256_for_url(self, url: str) -> str | None:
        found = super().sha256_for_url(url)
        if found is None:
            found = self.facts.get(_url_key(url))
            if found is not None:
                super().remember_url(url, found)
        return found

    def remember_url(self, url: str, sha256: str) -> bool:
        self.facts.put(_url_key(url), sha256)
        return super().remember_url(url, sha256)

    def metadata_hash(self, sha256: str) -> str | None:
        found = super().metadata_hash(sha256)
        if found is not None:
            return found
        if self._no_metadata.get(sha256, 0.0) > time.monotonic():
            return None
        try:
            found = self.facts.get("metadata-sha256:" + sha256)
        except StoreUnavailable as exc:
            log.warning("metadata hash of %s unknown for now: %s", sha256, exc)
            return None
        if found is None:
            if len(self._no_metadata) > 100_000:
                self._no_metadata.clear()
            self._no_metadata[sha256] = time.monotonic() + NEGATIVE_FOR
        return found

    def metadata_hashes(self, sha256s: list[str]) -> dict[str, str]:
        """``metadata_hash`` of many: this replica's store in batches, then the shared
        facts for the rest in batches (those missing remembered for ``NEGATIVE_FOR``)."""
        found = super().metadata_hashes(sha256s)
        now = time.monotonic()
        wanted = [s for s in sha256s if s not in found and self._no_metadata.get(s, 0.0) <= now]
        if not wanted:
            return found
        try:
            shared = self.facts.get_many(["metadata-sha256:" + s for s in wanted])
        except StoreUnavailable as exc:
            log.warning("metadata hashes unknown for now: %s", exc)
            return found
        if len(self._no_metadata) > 100_000:
            self._no_metadata.clear()
        for sha256 in wanted:
            digest = shared.get("metadata-sha256:" + sha256)
            if digest is None:
                self._no_metadata[sha256] = now + NEGATIVE_FOR
            else:
                found[sha256] = digest
        return found

    def get_metadata(self, sha256: str) -> bytes | None:
        found = super().get_metadata(sha256)
        if found is not None or self.blobs is None:
            return found
        data = self.blobs.get_bytes(metadata_key(sha256))
        if data is None:
            return None
        expected = self.facts.get("metadata-sha256:" + sha256)
        if expected is not None and hashlib.sha256(data).hexdigest() != expected:
            log.error("metadata blob of %s does not match its recorded hash; ignored", sha256)
            return None
        super().put_metadata(sha256, data)
        return data

    def put_metadata(self, sha256: str, metadata: bytes) -> bool:
        """Keep METADATA in L1, the blob store and its hash as a shared fact."""
        if self.blobs is not None:
            self.blobs.put_bytes(metadata_key(sha256), metadata)
        self.facts.put("metadata-sha256:" + sha256, hashlib.sha256(metadata).hexdigest())
        self._no_metadata.pop(sha256, None)
        return super().put_metadata(sha256, metadata)
