"""Extracted-metadata hashes shared through PostgreSQL are read in batches: a page of
thousands of wheels is a few queries, not one per wheel."""

from __future__ import annotations

from pathlib import Path

from pipgate.proxy.storage.facts import FileFacts
from pipgate.proxy.storage.files import SharedFileStore
from pipgate.proxy.storage.postgres import PostgresDatabase
from pipgate.proxy.storage.schema import migrate


def test_metadata_hashes_come_from_other_replicas_in_batches(postgres_url: str, tmp_path: Path):
    migrate(postgres_url)
    database = PostgresDatabase(postgres_url, max_size=2)
    try:
        facts = FileFacts(database)
        other = SharedFileStore(tmp_path / "a", facts=facts, blobs=None, size_limit=1 << 30)
        digests = [f"{i:064x}" for i in range(1200)]
        for digest in digests[::3]:  # extracted on another replica
            other.put_metadata(digest, f"Metadata-Version: 2.1\nName: d{digest}\n".encode())
        here = SharedFileStore(tmp_path / "b", facts=facts, blobs=None, size_limit=1 << 30)
        queries: list[str] = []
        counting = facts.get_many

        def get_many(keys: list[str], **kw: int) -> dict[str, str]:
            queries.append(f"{len(keys)} keys")
            return counting(keys, **kw)

        facts.get_many = get_many  # type: ignore[method-assign]
        found = here.metadata_hashes(digests)
        assert found == {d: other.metadata_hash(d) for d in digests[::3]}
        assert queries == ["1200 keys"]  # one call, three statements of 500
        assert here.metadata_hashes(digests) == found
        assert queries == ["1200 keys", "400 keys"]  # the missing are believed missing a while
        other.close()
        here.close()
    finally:
        database.close()
