"""The real storage servers the scale-out tests stand on: PostgreSQL and SeaweedFS (S3).

Each test talks to the server with the client pipgate will use (psycopg 3, obstore;
see ``benchmarks/results/storage_clients.md``), configured only as an operator would
configure pipgate: a ``postgresql://`` URL, and the standard AWS variables.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import socket
from pathlib import Path

import obstore
import psycopg
import pytest
from obstore.exceptions import AlreadyExistsError
from obstore.store import S3Store

from tests.support.fixtures_storage import S3Location
from tests.support.ports import ephemeral_start, free_port, is_free
from tests.support.postgres import UNPRIVILEGED_USER, PostgresServer
from tests.support.seaweed import GRPC_OFFSET, S3Credentials, SeaweedFS

# --- ports -----------------------------------------------------------------------------------


def test_free_port_stays_below_the_ephemeral_range_with_its_grpc_companion() -> None:
    taken: set[int] = set()
    for _ in range(4):
        port = free_port(offsets=(0, GRPC_OFFSET), avoid=taken)
        assert port + GRPC_OFFSET < ephemeral_start()
        assert is_free(port) and is_free(port + GRPC_OFFSET)
        assert not {port, port + GRPC_OFFSET} & taken
        taken.update({port, port + GRPC_OFFSET})


def test_a_bound_port_is_not_free() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert not is_free(sock.getsockname()[1])


# --- PostgreSQL --------------------------------------------------------------------------------


def test_each_test_gets_an_empty_database_of_its_own(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    assert postgres_url == f"postgresql://pipgate@127.0.0.1:{postgres_server.port}/{database}"
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (database,)
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)


def test_sql_round_trip(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE holds (id serial PRIMARY KEY, project text NOT NULL)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO holds (project) VALUES (%s)", [("coloarma",), ("djang0",)])
        rows = conn.execute("SELECT project FROM holds ORDER BY id").fetchall()
    assert rows == [("coloarma",), ("djang0",)]


def test_rows_survive_a_restart_on_the_same_port(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE rules (kind text)")
        conn.execute("INSERT INTO rules VALUES ('release')")
    pid, port = postgres_server.pid, postgres_server.port

    postgres_server.restart()

    assert postgres_server.pid != pid and postgres_server.port == port
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT kind FROM rules").fetchall() == [("release",)]


def test_a_stopped_server_refuses_connections_until_started(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    postgres_server.stop()
    assert not postgres_server.running
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres_url, connect_timeout=2)
    postgres_server.start()
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_under_root_the_server_runs_as_an_unprivileged_user(
    postgres_server: PostgresServer,
) -> None:
    if os.geteuid() != 0:
        pytest.skip("not root: the server runs as this user")
    status = Path(f"/proc/{postgres_server.pid}/status").read_text()
    uid = int(status.split("Uid:")[1].split()[0])
    assert uid == pwd.getpwnam(UNPRIVILEGED_USER).pw_uid


# --- S3 (SeaweedFS) ---------------------------------------------------------------------------


def store_from_environment(location: S3Location) -> S3Store:
    """The way pipgate will build its store: bucket and prefix from ``s3://``, the rest
    (endpoint, keys, region, plain HTTP allowed) from the AWS variables alone."""
    return S3Store(location.bucket, prefix=location.prefix)


async def test_object_round_trip_put_get_list_delete(s3_location: S3Location) -> None:
    store = store_from_environment(s3_location)
    await obstore.put_async(store, "files/ab/abcd.whl", b"wheel bytes")
    await obstore.put_async(store, "files/ab/abcd.whl.metadata", b"Metadata-Version: 2.1\n")

    got = await obstore.get_async(store, "files/ab/abcd.whl")
    assert bytes(await got.bytes_async()) == b"wheel bytes"
    assert (await obstore.head_async(store, "files/ab/abcd.whl"))["size"] == 11
    listed = sorted(meta["path"] for meta in await obstore.list(store, "files/").collect_async())
    assert listed == ["files/ab/abcd.whl", "files/ab/abcd.whl.metadata"]

    await obstore.delete_async(store, "files/ab/abcd.whl")
    with pytest.raises(FileNotFoundError):  # what obstore raises for a missing object
        await obstore.head_async(store, "files/ab/abcd.whl")


async def test_write_once_put_refuses_to_replace_an_object(s3_location: S3Location) -> None:
    store = store_from_environment(s3_location)
    await obstore.put_async(store, "sha256/once", b"first", mode="create")
    with pytest.raises(AlreadyExistsError):
        await obstore.put_async(store, "sha256/once", b"second", mode="create")
    got = await obstore.get_async(store, "sha256/once")
    assert bytes(await got.bytes_async()) == b"first"


async def test_multipart_upload_of_a_large_object(
    seaweedfs: SeaweedFS, s3_location: S3Location
) -> None:
    store = store_from_environment(s3_location)
    data = os.urandom(11 * 1024 * 1024)  # three parts of at most 5 MiB

    await obstore.put_async(
        store, "big.whl", data, use_multipart=True, chunk_size=5 * 1024 * 1024, mode="create"
    )

    digest = hashlib.sha256()
    got = await obstore.get_async(store, "big.whl")
    async for chunk in got.stream(min_chunk_size=1024 * 1024):
        digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    uploads = seaweedfs.request("GET", f"/{s3_location.bucket}", query={"uploads": ""})
    assert uploads.status == 200
    assert b"<ListMultipartUploadsResult" in uploads.body
    assert b"<Upload>" not in uploads.body  # completed: nothing left in progress


async def test_a_stopped_gateway_refuses_then_serves_the_same_objects(
    seaweedfs: SeaweedFS, s3_location: S3Location
) -> None:
    store = store_from_environment(s3_location)
    await obstore.put_async(store, "kept", b"still here")

    # Without retries the refusal is immediate (obstore retries connection errors for up
    # to 3 minutes by default); client_options replace AWS_ALLOW_HTTP, so it is repeated.
    impatient = S3Store(
        s3_location.bucket,
        prefix=s3_location.prefix,
        client_options={"allow_http": True, "timeout": "5s"},
        retry_config={"max_retries": 0},
    )
    seaweedfs.stop_gateway()
    with pytest.raises(Exception, match="(?i)connect"):
        await obstore.head_async(impatient, "kept")
    seaweedfs.start_gateway()

    got = await obstore.get_async(store, "kept")
    assert bytes(await got.bytes_async()) == b"still here"


async def test_objects_survive_a_restart_of_the_whole_store(
    seaweedfs: SeaweedFS, s3_location: S3Location
) -> None:
    store = store_from_environment(s3_location)
    data = os.urandom(300_000)
    await obstore.put_async(store, "durable", data)
    pids = seaweedfs.pids

    seaweedfs.restart()

    assert seaweedfs.pids["server"] != pids["server"]
    got = await obstore.get_async(store_from_environment(s3_location), "durable")
    assert bytes(await got.bytes_async()) == data
    with pytest.raises(FileNotFoundError):  # what obstore raises for a missing object
        await obstore.head_async(store, "never-written")


def test_requests_are_signed_and_a_wrong_secret_is_refused(seaweedfs: SeaweedFS) -> None:
    assert seaweedfs.request("GET", "/").status == 200
    wrong = S3Credentials(seaweedfs.credentials.access_key, "not-the-secret")
    assert seaweedfs.request("GET", "/", credentials=wrong).status == 403
