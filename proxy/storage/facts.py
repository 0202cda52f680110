"""Facts about files that replicas share: the sha256 an unhashed URL delivered, and the
sha256 of the METADATA extracted from a wheel (what pages advertise as core-metadata).

Keys are the embedded ``FileStore``'s (``url:<sha256 of URL>``,
``metadata-sha256:<file sha256>``), values are hex digests; a fact never changes
once written. Blocking: call in a thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipgate.proxy.storage.postgres import PostgresDatabase


class FileFacts:
    def __init__(self, database: PostgresDatabase) -> None:
        self._database = database

    def get(self, key: str) -> str | None:
        with self._database.read() as tx:
            row = tx.execute("SELECT value FROM file_facts WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        with self._database.write_free() as tx:
            tx.execute(
                "INSERT INTO file_facts (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, value),
            )
