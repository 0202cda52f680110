"""The shared stores' parts in one process, on the real PostgreSQL and SeaweedFS: leases and
their stored-file markers, downloads answered before they are uploaded, the decision log
table, hosted indexes. (The replicas themselves: ``test_replicas.py``.)"""

from __future__ import annotations

import asyncio
import hashlib
import socket
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pipgate.policies.decision import Action, Decision
from pipgate.proxy.files.downloads import Downloads, SharedFiles
from pipgate.proxy.files.store import FileStore
from pipgate.proxy.hosted.store import FileExists, HostedFile
from pipgate.proxy.storage.blobs import BlobMissing, file_key
from pipgate.proxy.storage.decisions import SharedDecisionLog
from pipgate.proxy.storage.facts import FileFacts
from pipgate.proxy.storage.files import SharedFileStore
from pipgate.proxy.storage.hosted import SharedHostedStore
from pipgate.proxy.storage.leases import Leases
from pipgate.proxy.storage.peers import token
from pipgate.proxy.storage.postgres import PostgresDatabase
from pipgate.proxy.storage.s3 import S3Blobs
from pipgate.proxy.storage.schema import migrate
from pipgate.proxy.upstream.client import UpstreamClient, UpstreamConfig

BODY = bytes(range(256)) * 4000  # ~1 MB
SHA = hashlib.sha256(BODY).hexdigest()
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def database(postgres_schema_url: str):
    migrate(postgres_schema_url)
    db = PostgresDatabase(postgres_schema_url, max_size=4)
    yield db
    db.close()


def leases(database: PostgresDatabase, holder: str, url: str = "") -> Leases:
    return Leases(database, ttl=30, holder=holder, url=url)


def test_a_claim_says_who_holds_the_lease_or_that_the_file_is_stored(database) -> None:
    a, b = leases(database, "a", "http://a:1"), leases(database, "b", "http://b:1")
    mine = a.claim("file:x")
    assert mine.lease is not None
    theirs = b.claim("file:x")
    assert theirs.lease is None and theirs.holder_url == "http://a:1" and not theirs.stored
    a.release(mine.lease, stored=True)
    after = b.claim("file:x")
    assert after.lease is None and after.stored  # look in the store again, do not fetch
    # The marker says stored but the store lost it: taken over on purpose.
    again = b.claim("file:x", over_marker=True)
    assert again.lease is not None
    b.release(again.lease)  # failed: the row goes, the next claim wins
    assert a.claim("file:x").lease is not None
    assert a.sweep() == 0  # a fresh marker is kept


def test_an_expired_lease_is_taken_over(database) -> None:
    a = Leases(database, ttl=0.01, holder="a", url="http://a:1")
    assert a.claim("file:y").lease is not None
    import time

    time.sleep(0.05)  # a crashed holder stops renewing
    assert leases(database, "b").claim("file:y").lease is not None


async def test_a_blob_is_read_from_an_offset_with_its_whole_size(s3_location) -> None:
    blobs = S3Blobs(s3_location.url)
    await asyncio.to_thread(blobs.put_bytes, file_key(SHA), BODY)
    size, chunks = await blobs.stream(file_key(SHA), start=1000)
    assert size == len(BODY)
    assert b"".join([c async for c in chunks]) == BODY[1000:]
    with pytest.raises(BlobMissing):
        await blobs.stream(file_key("0" * 64))


class GatedUploads(S3Blobs):
    """The real S3 store, whose uploads wait for ``gate``; it counts HEAD requests."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.gate = asyncio.Event()
        self.heads = 0

    async def head(self, key: str) -> int | None:
        self.heads += 1
        return await super().head(key)

    async def put_file(self, key, path, *, size):  # type: ignore[no-untyped-def]
        await self.gate.wait()
        await super().put_file(key, path, size=size)


def upstream_client(calls: list[httpx.Request]) -> UpstreamClient:
    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, content=BODY)

    return UpstreamClient(
        UpstreamConfig(url="https://up.example/simple/", retries=0, backoff=0),
        transport=httpx.MockTransport(answer),
    )


async def test_a_cold_file_is_answered_before_it_is_in_the_object_store(
    database, s3_location, tmp_path: Path
) -> None:
    blobs = GatedUploads(s3_location.url)
    calls: list[httpx.Request] = []
    downloads = Downloads(
        FileStore(tmp_path, size_limit=10**8),
        upstream_client(calls),
        cluster=SharedFiles(leases(database, "a", "http://a:1"), blobs),
    )
    download = downloads.start("demo", "demo-1.0.tar.gz", "https://up.example/f", SHA, len(BODY))
    # Verified while its upload waits: clients get it now.
    await asyncio.wait_for(download.wait_until_verified(), 10)
    assert not download.done
    with await download.open_verified() as handle:
        assert handle.read() == BODY
    other = leases(database, "b").claim("file:" + SHA)
    assert other.lease is None and other.holder_url == "http://a:1"  # still held: uploading
    blobs.gate.set()
    await download.wait_until_done()
    assert download.stored and download.published
    size, chunks = await blobs.stream(file_key(SHA))
    assert size == len(BODY) and b"".join([c async for c in chunks]) == BODY
    assert leases(database, "b").claim("file:" + SHA).stored
    # One look in the bucket (a GET, not a HEAD) and one claim before the upstream fetch.
    assert blobs.heads == 0 and len(calls) == 1


async def test_a_file_in_the_object_store_is_read_in_one_request(
    database, s3_location, tmp_path: Path
) -> None:
    blobs = GatedUploads(s3_location.url)
    await asyncio.to_thread(blobs.put_bytes, file_key(SHA), BODY)
    calls: list[httpx.Request] = []
    downloads = Downloads(
        FileStore(tmp_path, size_limit=10**8),
        upstream_client(calls),
        cluster=SharedFiles(leases(database, "a"), blobs),
    )
    download = downloads.start("demo", "demo-1.0.tar.gz", "https://up.example/f", SHA, len(BODY))
    await download.wait_until_done()
    with await download.open_verified() as handle:
        assert handle.read() == BODY
    assert blobs.heads == 0 and calls == []


def _refusal(policy: str = "release-age") -> Decision:
    return Decision(Action.QUARANTINE, policy, "uploaded 2 h ago; minimum age is 7 d")


def test_the_decision_log_is_one_table_for_every_replica(database) -> None:
    a, b = SharedDecisionLog(database), SharedDecisionLog(database)
    try:
        for log, client in ((a, "10.0.0.1"), (b, "10.0.0.2")):
            assert log.record(
                index="default",
                project="demo",
                file="demo-1.0-py3-none-any.whl",
                decision=_refusal(),
                client=client,
                now=NOW,
            )
        assert not a.record(  # a repeat, thinned out
            index="default",
            project="demo",
            file="demo-1.0-py3-none-any.whl",
            decision=_refusal(),
            client="10.0.0.1",
            now=NOW,
        )
        a.flush()
        b.flush()
        found = a.search(project="demo")
        assert [e["client"] for e in found] == ["10.0.0.2", "10.0.0.1"]  # newest first
        assert found[0] == {
            "time": "2026-12-01T12:00:00Z",
            "client": "10.0.0.2",
            "index": "default",
            "project": "demo",
            "file": "demo-1.0-py3-none-any.whl",
            "policy": "release-age",
            "action": "quarantine",
            "mode": "enforce",
            "reason": "uploaded 2 h ago; minimum age is 7 d",
        }
        assert [e["client"] for e in b.search(q="7 D", limit=1)] == ["10.0.0.2"]
        assert b.search(q="100%") == [] and b.search(policy="typosquat") == []
    finally:
        a.close()
        b.close()


def test_the_decision_log_never_blocks_and_stays_bounded_while_postgresql_is_down() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = PostgresDatabase(f"postgresql://pipgate@127.0.0.1:{port}/x", timeout=0.2)
    errors: list[str] = []
    log = SharedDecisionLog(down, max_pending=5, on_error=errors.append)
    try:
        for i in range(8):
            assert log.record(
                index="default",
                project=f"p{i}",
                file=None,
                decision=_refusal(),
                client="c",
                now=NOW,
            )
        assert log.pending == 5 and log.dropped == 3 and errors == ["decisions"] * 3
    finally:
        log.close()
        down.close()


def _upload(index: str, filename: str, data: bytes, version: str = "1.0") -> HostedFile:
    return HostedFile(
        index=index,
        project="acme-lib",  # type: ignore[arg-type]
        filename=filename,
        version=version,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        requires_python=None,
        metadata_sha256=None,
        uploaded_at=NOW,
        uploader="ci",
        client="10.0.0.9",
    )


def test_a_hosted_upload_on_one_replica_is_served_by_another(
    database, s3_location, tmp_path: Path
) -> None:
    blobs = S3Blobs(s3_location.url)

    def replica(name: str) -> SharedHostedStore:
        l1 = SharedFileStore(
            tmp_path / name, facts=FileFacts(database), blobs=blobs, size_limit=10**8
        )
        return SharedHostedStore(database, blobs, l1)

    a, c = replica("a"), replica("c")
    assert c.project("corp", "acme-lib") is None  # type: ignore[arg-type]
    data = b"PK wheel bytes" * 100
    temp = a.new_temp_path()
    temp.write_bytes(data)
    a.add(_upload("corp", "acme_lib-1.0-py3-none-any.whl", data), temp, b"Name: acme-lib\n")
    assert c.refresh()  # what the notification (or the probe) triggers
    page = c.project("corp", "acme-lib")  # type: ignore[arg-type]
    assert page is not None and [f.filename for f in page.project.files] == [
        "acme_lib-1.0-py3-none-any.whl"
    ]
    assert c.projects("corp") == ["acme-lib"] and c.projects("other") == []
    with c.open(hashlib.sha256(data).hexdigest()) as handle:  # copied from the bucket
        assert handle.read() == data
    assert c.get_metadata(hashlib.sha256(data).hexdigest()) == b"Name: acme-lib\n"
    again = c.new_temp_path()
    again.write_bytes(data)
    with pytest.raises(FileExists, match="was uploaded to index 'corp'"):
        c.add(_upload("corp", "acme_lib-1.0-py3-none-any.whl", data), again, None)
    assert c.open("0" * 64) is None


def test_a_peer_token_opens_one_file_on_one_replica() -> None:
    """The token is bound to the holder's own address and to the file."""
    a = token("s3cret", "http://10.0.0.1:8080", SHA)
    assert a == token("s3cret", "http://10.0.0.1:8080/", SHA)
    assert a != token("s3cret", "http://10.0.0.2:8080", SHA)
    assert a != token("s3cret", "http://10.0.0.1:8080", "0" * 64)
    assert a != token("other", "http://10.0.0.1:8080", SHA)
