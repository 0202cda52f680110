"""One storage client measured in its own process and virtual environment (issue 10).

    python storage_client_worker.py CLIENT TASK          (JSON result on the last line)

Run by ``benchmarks/storage_clients.py``, never by hand: it needs only the standard
library and the client under test (plus uvloop), and reads where the servers are from
the environment: ``BENCH_PG_URL`` for PostgreSQL, the standard AWS variables
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...) and ``BENCH_BUCKET`` for S3.
``BENCH_LOOP=uvloop`` runs the async parts on uvloop. Restart coordination with the
orchestrator is line-based: the worker prints ``RESTART`` and waits for a line on stdin.

CLIENT: psycopg | asyncpg | obstore | aiobotocore | boto3
TASK:   pg | s3 | s3-env | s3-profile | s3-fork
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

SMALL = os.urandom(1024)
SMALL_ROUNDS = int(os.environ.get("BENCH_SMALL_ROUNDS", "300"))
PG_ROUNDS = int(os.environ.get("BENCH_PG_ROUNDS", "2000"))
BIG_KEY = os.environ.get("BENCH_BIG_KEY", "bench/big-30mb")
BIG_SHA256 = os.environ.get("BENCH_BIG_SHA256", "")
CHUNK = 1024 * 1024


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index] * 1000


def hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def reset_hwm() -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs), where allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


async def timed(fn: Callable[[], Awaitable[Any]], rounds: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        await fn()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return samples


def latency(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(samples, 50), 3), "p99_ms": round(pct(samples, 99), 3)}


def wait_for_restart() -> None:
    print("RESTART", flush=True)
    sys.stdin.readline()


# --- PostgreSQL ---------------------------------------------------------------------------


class Pg:
    """The operations measured, one implementation per driver."""

    async def open(self, url: str) -> None: ...
    async def close(self) -> None: ...
    async def execute(self, sql: str) -> None: ...
    async def point(self, key: int) -> Any: ...
    async def insert_many(self, rows: list[tuple[int, str]]) -> None: ...
    async def listen(self, url: str, channel: str, got: Callable[[str], None]) -> None: ...
    async def notify(self, channel: str, payload: str) -> None: ...
    async def unlisten(self) -> None: ...
    async def lock_then_unlock(self, key: int) -> bool: ...


class Psycopg(Pg):
    async def open(self, url: str) -> None:
        import psycopg
        from psycopg_pool import AsyncConnectionPool

        self.psycopg = psycopg
        # check: a pooled connection is tested before it is handed out (survives restarts).
        check = os.environ.get("BENCH_PG_CHECK", "1") == "1"
        self.pool = AsyncConnectionPool(
            url,
            min_size=2,
            max_size=4,
            open=False,
            check=AsyncConnectionPool.check_connection if check else None,
            kwargs={"autocommit": True},
        )
        await self.pool.open(wait=True)
        self.listener: Any = None

    async def close(self) -> None:
        await self.unlisten()
        await self.pool.close()

    async def execute(self, sql: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(sql)

    async def point(self, key: int) -> Any:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT v FROM kv WHERE k = %s", (key,))
            return (await cur.fetchone())[0]

    async def insert_many(self, rows: list[tuple[int, str]]) -> None:
        async with self.pool.connection() as conn:
            async with conn.cursor() as cur:
                await cur.executemany("INSERT INTO bulk (k, v) VALUES (%s, %s)", rows)

    async def listen(self, url: str, channel: str, got: Callable[[str], None]) -> None:
        self.listener = await self.psycopg.AsyncConnection.connect(url, autocommit=True)
        await self.listener.execute(f"LISTEN {channel}")

        async def pump() -> None:
            async for note in self.listener.notifies():
                got(note.payload)

        self.pump = asyncio.create_task(pump())

    async def notify(self, channel: str, payload: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))

    async def unlisten(self) -> None:
        if self.listener is not None:
            self.pump.cancel()
            await self.listener.close()
            self.listener = None

    async def lock_then_unlock(self, key: int) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))
            got = (await cur.fetchone())[0]
            if got:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            return bool(got)


class Asyncpg(Pg):
    async def open(self, url: str) -> None:
        import asyncpg

        self.asyncpg = asyncpg
        self.pool = await asyncpg.create_pool(url, min_size=2, max_size=4)
        self.listener: Any = None

    async def close(self) -> None:
        await self.unlisten()
        await self.pool.close()

    async def execute(self, sql: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(sql)

    async def point(self, key: int) -> Any:
        async with self.pool.acquire() as conn:
            return await conn.fetchval("SELECT v FROM kv WHERE k = $1", key)

    async def insert_many(self, rows: list[tuple[int, str]]) -> None:
        async with self.pool.acquire() as conn:
            await conn.executemany("INSERT INTO bulk (k, v) VALUES ($1, $2)", rows)

    async def listen(self, url: str, channel: str, got: Callable[[str], None]) -> None:
        self.listener = await self.asyncpg.connect(url)
        await self.listener.add_listener(channel, lambda _c, _pid, _ch, payload: got(payload))

    async def notify(self, channel: str, payload: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_notify($1, $2)", channel, payload)

    async def unlisten(self) -> None:
        if self.listener is not None:
            await self.listener.close()
            self.listener = None

    async def lock_then_unlock(self, key: int) -> bool:
        async with self.pool.acquire() as conn:
            got = await conn.fetchval("SELECT pg_try_advisory_lock($1)", key)
            if got:
                await conn.execute("SELECT pg_advisory_unlock($1)", key)
            return bool(got)


async def pg_task(driver: Pg) -> dict[str, Any]:
    url = os.environ["BENCH_PG_URL"]
    result: dict[str, Any] = {}
    started = time.perf_counter()
    await driver.open(url)
    result["pool_open_ms"] = round((time.perf_counter() - started) * 1000, 2)
    await driver.execute("DROP TABLE IF EXISTS kv; DROP TABLE IF EXISTS bulk")
    await driver.execute(
        "CREATE TABLE kv (k integer PRIMARY KEY, v text NOT NULL);"
        " INSERT INTO kv SELECT g, md5(g::text) FROM generate_series(1, 10000) g;"
        " CREATE TABLE bulk (k integer, v text)"
    )

    keys = iter(range(10**9))
    result["point_query"] = latency(
        await timed(lambda: driver.point(next(keys) % 10000 + 1), PG_ROUNDS)
    )

    rows = [(i, f"value-{i:06d}-" + "x" * 40) for i in range(1000)]
    inserts = []
    for _ in range(7):
        await driver.execute("TRUNCATE bulk")
        t = time.perf_counter()
        await driver.insert_many(rows)
        inserts.append(time.perf_counter() - t)
    result["insert_1k_rows_ms"] = round(statistics.median(inserts) * 1000, 2)

    # LISTEN/NOTIFY: time from sending NOTIFY on a pooled connection to the listener's callback.
    arrived: asyncio.Queue[str] = asyncio.Queue()
    await driver.listen(url, "bench", arrived.put_nowait)
    round_trips = []
    for i in range(220):
        t = time.perf_counter()
        await driver.notify("bench", str(i))
        payload = await asyncio.wait_for(arrived.get(), 5)
        assert payload == str(i), (payload, i)
        if i >= 20:
            round_trips.append(time.perf_counter() - t)
    result["notify_round_trip"] = latency(round_trips)

    lock_samples = await timed(lambda: driver.lock_then_unlock(424242), 500)
    result["advisory_try_lock_unlock"] = latency(lock_samples)

    # Restart: the orchestrator restarts PostgreSQL (fast shutdown) while the pool is open.
    wait_for_restart()
    t = time.perf_counter()
    failures: list[str] = []
    recovered = False
    while time.perf_counter() - t < 30:
        try:
            await driver.point(1)
            recovered = True
            break
        except Exception as exc:
            failures.append(type(exc).__name__)
            await asyncio.sleep(0.05)
    result["after_restart"] = {
        "recovered_same_pool": recovered,
        "failed_queries_before_success": len(failures),
        "errors": sorted(set(failures)),
        "first_success_ms": round((time.perf_counter() - t) * 1000, 1),
    }
    # The LISTEN connection died with the server: does the old listener still deliver?
    await driver.notify("bench", "after-restart")
    try:
        await asyncio.wait_for(arrived.get(), 1)
        result["after_restart"]["listener_survived"] = True
    except TimeoutError:
        result["after_restart"]["listener_survived"] = False
    await driver.close()
    return result


# --- S3 ------------------------------------------------------------------------------------


class S3:
    """The operations measured, one implementation per client."""

    name = ""

    async def open(self, bucket: str) -> None: ...
    async def close(self) -> None: ...
    async def put(self, key: str, data: bytes) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def head(self, key: str) -> int: ...
    async def put_if_absent(self, key: str, data: bytes) -> bool: ...
    async def stream(self, key: str, sink: Callable[[bytes], None]) -> None: ...
    async def multipart(self, key: str, data: bytes, part: int) -> None: ...
    async def multipart_if_absent(self, key: str, data: bytes, part: int) -> bool: ...
    async def delete(self, key: str) -> None: ...


class Obstore(S3):
    async def open(self, bucket: str) -> None:
        import obstore
        from obstore.store import S3Store

        self.obs = obstore
        self.store = S3Store(bucket)  # everything else from the AWS_* environment

    async def put(self, key: str, data: bytes) -> None:
        await self.obs.put_async(self.store, key, data)

    async def get(self, key: str) -> bytes:
        result = await self.obs.get_async(self.store, key)
        return bytes(await result.bytes_async())

    async def head(self, key: str) -> int:
        return (await self.obs.head_async(self.store, key))["size"]

    async def put_if_absent(self, key: str, data: bytes) -> bool:
        from obstore.exceptions import AlreadyExistsError

        try:
            await self.obs.put_async(self.store, key, data, mode="create")
            return True
        except AlreadyExistsError:
            return False

    async def stream(self, key: str, sink: Callable[[bytes], None]) -> None:
        result = await self.obs.get_async(self.store, key)
        async for chunk in result.stream(min_chunk_size=CHUNK):
            sink(bytes(chunk))

    async def multipart(self, key: str, data: bytes, part: int) -> None:
        await self.obs.put_async(
            self.store, key, data, use_multipart=True, chunk_size=part, max_concurrency=4
        )

    async def multipart_if_absent(self, key: str, data: bytes, part: int) -> bool:
        from obstore.exceptions import AlreadyExistsError

        try:
            await self.obs.put_async(
                self.store, key, data, use_multipart=True, chunk_size=part, mode="create"
            )
            return True
        except AlreadyExistsError:
            return False

    async def delete(self, key: str) -> None:
        await self.obs.delete_async(self.store, key)


class Aiobotocore(S3):
    async def open(self, bucket: str) -> None:
        from aiobotocore.session import get_session

        self.bucket = bucket
        self._cm = get_session().create_client("s3")  # endpoint etc. from the environment
        self.s3 = await self._cm.__aenter__()

    async def close(self) -> None:
        await self._cm.__aexit__(None, None, None)

    async def put(self, key: str, data: bytes) -> None:
        await self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)

    async def get(self, key: str) -> bytes:
        response = await self.s3.get_object(Bucket=self.bucket, Key=key)
        async with response["Body"] as body:
            return await body.read()

    async def head(self, key: str) -> int:
        return (await self.s3.head_object(Bucket=self.bucket, Key=key))["ContentLength"]

    async def put_if_absent(self, key: str, data: bytes) -> bool:
        from botocore.exceptions import ClientError

        try:
            await self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*")
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("PreconditionFailed", "412"):
                return False
            raise

    async def stream(self, key: str, sink: Callable[[bytes], None]) -> None:
        response = await self.s3.get_object(Bucket=self.bucket, Key=key)
        async with response["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK):
                sink(chunk)

    async def _multipart(self, key: str, data: bytes, part: int, **complete: Any) -> None:
        upload = await self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)
        upload_id = upload["UploadId"]
        gate = asyncio.Semaphore(4)

        async def send(number: int, offset: int) -> dict[str, Any]:
            async with gate:
                answer = await self.s3.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=data[offset : offset + part],
                )
                return {"ETag": answer["ETag"], "PartNumber": number}

        try:
            parts = await asyncio.gather(
                *(send(i + 1, off) for i, off in enumerate(range(0, len(data), part)))
            )
            await self.s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": list(parts)},
                **complete,
            )
        except BaseException:
            await self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    async def multipart(self, key: str, data: bytes, part: int) -> None:
        await self._multipart(key, data, part)

    async def multipart_if_absent(self, key: str, data: bytes, part: int) -> bool:
        from botocore.exceptions import ClientError

        try:
            await self._multipart(key, data, part, IfNoneMatch="*")
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("PreconditionFailed", "412"):
                return False
            raise

    async def delete(self, key: str) -> None:
        await self.s3.delete_object(Bucket=self.bucket, Key=key)


class Boto3Threads(S3):
    """boto3 (synchronous) with every call in a thread pool, as an async server would."""

    async def open(self, bucket: str) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self.pool = concurrent.futures.ThreadPoolExecutor(8)
        self.s3 = boto3.client("s3", config=Config(max_pool_connections=16))
        self.transfer = TransferConfig
        self.loop = asyncio.get_running_loop()

    def call(self, fn: Callable[[], Any]) -> Awaitable[Any]:
        return self.loop.run_in_executor(self.pool, fn)

    async def close(self) -> None:
        self.pool.shutdown()

    async def put(self, key: str, data: bytes) -> None:
        await self.call(lambda: self.s3.put_object(Bucket=self.bucket, Key=key, Body=data))

    async def get(self, key: str) -> bytes:
        return await self.call(
            lambda: self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        )

    async def head(self, key: str) -> int:
        answer = await self.call(lambda: self.s3.head_object(Bucket=self.bucket, Key=key))
        return answer["ContentLength"]

    async def put_if_absent(self, key: str, data: bytes) -> bool:
        from botocore.exceptions import ClientError

        try:
            await self.call(
                lambda: self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*")
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("PreconditionFailed", "412"):
                return False
            raise

    async def stream(self, key: str, sink: Callable[[bytes], None]) -> None:
        response = await self.call(lambda: self.s3.get_object(Bucket=self.bucket, Key=key))
        body = response["Body"]
        while True:
            chunk = await self.call(lambda: body.read(CHUNK))
            if not chunk:
                break
            sink(chunk)

    async def multipart(self, key: str, data: bytes, part: int) -> None:
        import io

        config = self.transfer(
            multipart_threshold=part, multipart_chunksize=part, max_concurrency=4
        )
        await self.call(
            lambda: self.s3.upload_fileobj(io.BytesIO(data), self.bucket, key, Config=config)
        )

    async def multipart_if_absent(self, key: str, data: bytes, part: int) -> bool:
        import io

        from botocore.exceptions import ClientError

        config = self.transfer(
            multipart_threshold=part, multipart_chunksize=part, max_concurrency=4
        )
        try:
            await self.call(
                lambda: self.s3.upload_fileobj(
                    io.BytesIO(data),
                    self.bucket,
                    key,
                    Config=config,
                    ExtraArgs={"IfNoneMatch": "*"},
                )
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("PreconditionFailed", "412"):
                return False
            raise
        except ValueError as exc:  # s3transfer rejects ExtraArgs it does not know
            return f"unsupported: {exc}"  # type: ignore[return-value]

    async def delete(self, key: str) -> None:
        await self.call(lambda: self.s3.delete_object(Bucket=self.bucket, Key=key))


S3_CLIENTS: dict[str, type[S3]] = {
    "obstore": Obstore,
    "aiobotocore": Aiobotocore,
    "boto3": Boto3Threads,
}
PG_DRIVERS: dict[str, type[Pg]] = {"psycopg": Psycopg, "asyncpg": Asyncpg}


async def s3_task(client: S3) -> dict[str, Any]:
    bucket = os.environ["BENCH_BUCKET"]
    prefix = os.environ.get("BENCH_PREFIX", "bench/")
    result: dict[str, Any] = {}
    # Memory first, in a fresh process: the peak while streaming 30 MB, bytes hashed.
    await client.open(bucket)
    await client.head(BIG_KEY)
    reset_hwm()
    base = rss_kb()
    throughput = []
    for i in range(3):
        digest = hashlib.sha256()
        t = time.perf_counter()
        await client.stream(BIG_KEY, digest.update)
        elapsed = time.perf_counter() - t
        assert digest.hexdigest() == BIG_SHA256, "streamed bytes differ"
        throughput.append(30 / elapsed)
        if i == 0:
            result["stream_peak_rss_over_base_mb"] = round((hwm_kb() - base) / 1024, 1)
    result["stream_get_30mb_mb_s"] = round(statistics.median(throughput), 1)

    small_key = prefix + "small"
    await client.put(small_key, SMALL)
    assert await client.get(small_key) == SMALL
    result["put_1kib"] = latency(await timed(lambda: client.put(small_key, SMALL), SMALL_ROUNDS))
    result["get_1kib"] = latency(await timed(lambda: client.get(small_key), SMALL_ROUNDS))
    result["head"] = latency(await timed(lambda: client.head(small_key), SMALL_ROUNDS))

    big = os.urandom(30 * 1024 * 1024)
    uploads = []
    for i in range(3):
        key = f"{prefix}multipart-{i}"
        t = time.perf_counter()
        await client.multipart(key, big, 8 * 1024 * 1024)
        uploads.append(time.perf_counter() - t)
        assert await client.head(key) == len(big)
        await client.delete(key)
    result["multipart_put_30mb_mb_s"] = round(30 / statistics.median(uploads), 1)

    # Write-once: a second PUT with If-None-Match: * must be refused and change nothing.
    once = prefix + "once"
    await client.delete(once)
    first = await client.put_if_absent(once, b"first")
    second = await client.put_if_absent(once, b"second")
    kept = await client.get(once)
    result["conditional_put"] = {
        "first_accepted": first,
        "second_refused": second is False,
        "object_unchanged": kept == b"first",
    }
    mp_key = prefix + "once-multipart"
    await client.delete(mp_key)
    piece = os.urandom(11 * 1024 * 1024)
    try:
        first = await client.multipart_if_absent(mp_key, piece, 5 * 1024 * 1024)
        second = await client.multipart_if_absent(mp_key, os.urandom(len(piece)), 5 * 1024 * 1024)
        kept = await client.get(mp_key)
        result["conditional_multipart"] = {
            "first_accepted": first,
            "second_refused": second is False,
            "second_result": repr(second),
            "object_unchanged": kept == piece,
        }
    except Exception as exc:
        result["conditional_multipart"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    await client.close()
    return result


async def s3_env_task(client: S3) -> dict[str, Any]:
    """Whether the client reaches the store configured by environment (or profile) only."""
    bucket = os.environ["BENCH_BUCKET"]
    try:
        await client.open(bucket)
        key = os.environ.get("BENCH_PREFIX", "bench/") + "env-probe"
        await client.put(key, b"env")
        ok = await client.get(key) == b"env"
        await client.close()
        return {"works": ok}
    except Exception as exc:
        return {"works": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def s3_fork_task(name: str) -> dict[str, Any]:
    """A client made and used in the parent, then, in a forked child (no exec): the
    inherited client, and a new client made in the child (a pre-fork server model)."""

    async def use(client: S3) -> bool:
        key = os.environ.get("BENCH_PREFIX", "bench/") + f"fork-{os.getpid()}"
        await client.put(key, b"fork")
        return await client.get(key) == b"fork"

    def attempt(coro_factory: Callable[[], Awaitable[bool]]) -> dict[str, Any]:
        loop = asyncio.new_event_loop()
        try:
            return {"ok": loop.run_until_complete(asyncio.wait_for(coro_factory(), 5))}
        except BaseException as exc:
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}

    client = S3_CLIENTS[name]()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(client.open(os.environ["BENCH_BUCKET"]))
    parent_ok = loop.run_until_complete(use(client))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)

        async def inherited() -> bool:
            if isinstance(client, Boto3Threads):
                client.loop = asyncio.get_running_loop()
                client.pool = concurrent.futures.ThreadPoolExecutor(2)
            return await use(client)

        async def fresh() -> bool:
            new = S3_CLIENTS[name]()
            await new.open(os.environ["BENCH_BUCKET"])
            try:
                return await use(new)
            finally:
                await new.close()

        message = json.dumps({"fresh": attempt(fresh), "inherited": attempt(inherited)})
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    raw = os.read(read, 8192).decode()
    child = json.loads(raw) if raw else {"fresh": {"ok": False, "error": f"status {status}"}}
    return {"parent_ok": parent_ok, **child}


def main() -> None:
    name, task = sys.argv[1], sys.argv[2]
    if os.environ.get("BENCH_LOOP") == "uvloop":
        import uvloop

        runner: Callable[[Awaitable[Any]], Any] = uvloop.run
    else:
        runner = asyncio.run
    if task == "pg":
        result = runner(pg_task(PG_DRIVERS[name]()))
    elif task == "s3":
        result = runner(s3_task(S3_CLIENTS[name]()))
    elif task in ("s3-env", "s3-profile"):
        result = runner(s3_env_task(S3_CLIENTS[name]()))
    elif task == "s3-fork":
        result = s3_fork_task(name)
    else:
        raise SystemExit(f"unknown task {task!r}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
