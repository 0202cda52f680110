"""Three pipgate replicas (``pipgate serve`` processes) on one PostgreSQL and one SeaweedFS,
as tests/cluster runs them (its ``cluster`` fixture starts a ``Cluster``): their
configuration, the replicas, the fake upstream's big files, and the real pip, uv and
twine run against one replica."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from pipgate.proxy.quarantine.auth import hash_token
from tests.support.fake_upstream import FakeFile, FakeProject, FakeUpstream, _wheel
from tests.support.postgres import PostgresServer
from tests.support.seaweed import BUCKET, SeaweedFS
from tests.support.servers import RunningProcess, run_process

ADMIN = "cluster-admin-token"
#: May upload to the hosted index ``corp``.
UPLOADER = "cluster-upload-token"
#: demo-pkg 1.1.0 is one hour old: held by the 7-day release age until released.
FRESH_VERSION = "1.1.0"
#: A file large enough to be killed mid-stream, served slowly (about 2.5 s).
BIG_FILE = "big_pkg-1.0.0-py3-none-any.whl"
BIG_SIZE = 6 << 20
#: Another, for a client of a replica that does not fetch it (streamed past 4 MB).
SLOW_FILE = "slow_pkg-1.0.0-py3-none-any.whl"
#: Only ever asked for through the private upstream ``mirror`` (index ``corp``).
PRIVATE_FILE = "private_pkg-1.0.0-py3-none-any.whl"


def config_toml(upstream_url: str, database: str, blobs: str) -> str:
    return f"""
[upstream]
url = "{upstream_url}"
timeout = "10s"
retries = 0

[server]
access_log = false
log_level = "warning"

[upstreams.mirror]
url = "{upstream_url}"
timeout = "10s"
retries = 0

[storage]
database = "{database}"
blobs = "{blobs}"
lease_ttl = "2s"

[policies.typosquat]
mode = "off"

[indexes.corp]
hosted = true
upload = ["ci"]
sources = ["corp", "mirror"]
policies.release_age.exempt_hosted = true

[[admin.tokens]]
name = "alice"
sha256 = "{hash_token(ADMIN)}"
scope = "admin"

[[admin.tokens]]
name = "ci"
sha256 = "{hash_token(UPLOADER)}"
scope = "upload"
"""


@dataclass
class Replica:
    name: str
    port: int
    data_dir: Path
    process: RunningProcess | None = None
    stack: ExitStack = field(default_factory=ExitStack)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple/"

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/-/admin",
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=10,
            trust_env=False,
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.popen.pid


@dataclass
class Cluster:
    upstream: FakeUpstream
    upstream_url: str
    postgres: PostgresServer
    database_url: str
    seaweedfs: SeaweedFS
    blobs_url: str
    prefix: str
    config: Path
    env: dict[str, str]
    replicas: list[Replica]

    def argv(self, replica: Replica) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pipgate.proxy.cli.main",
            "serve",
            "--config",
            str(self.config),
            "--port",
            str(replica.port),
            "--data-dir",
            str(replica.data_dir),
        ]

    def start(self, replica: Replica) -> None:
        replica.stack = ExitStack()
        replica.process = replica.stack.enter_context(
            run_process(self.argv(replica), f"{replica.url}/readyz", env=self.env, timeout=60)
        )

    def stop(self, replica: Replica) -> None:
        replica.stack.close()
        replica.process = None

    def kill(self, replica: Replica) -> None:
        """``kill -9``: no shutdown, no lease released."""
        assert replica.process is not None
        os.kill(replica.pid, signal.SIGKILL)
        replica.process.popen.wait(10)
        replica.stack.close()
        replica.process = None

    def objects(self) -> dict[str, int]:
        """Every object under this cluster's prefix, with its size."""
        response = self.seaweedfs.request(
            "GET", f"/{BUCKET}", query={"list-type": "2", "prefix": self.prefix}
        )
        assert response.status == 200, response.body[:300]
        import re

        text = response.body.decode()
        keys = re.findall(r"<Key>([^<]+)</Key>", text)
        sizes = [int(s) for s in re.findall(r"<Size>(\d+)</Size>", text)]
        return dict(zip(keys, sizes, strict=True))

    def file_hits(self, filename: str) -> int:
        """Upstream GETs of ``filename`` (not its .metadata)."""
        return sum(n for path, n in self.upstream.hits.items() if path.endswith("/" + filename))


def big_project(dists_dir: Path, name: str = "big-pkg", size: int = BIG_SIZE) -> FakeProject:
    """A real wheel of about ``size`` bytes (the content scan reads it as one)."""
    path = _wheel(dists_dir, name, "1.0.0", size_padding=size)
    return FakeProject(
        name, [FakeFile.from_path(path, upload_time=datetime(2024, 1, 1, tzinfo=UTC))]
    )


@contextmanager
def timed() -> Iterator[list[float]]:
    started = time.monotonic()
    box: list[float] = []
    yield box
    box.append(time.monotonic() - started)


def twine_upload(url: str, *files: Path) -> subprocess.CompletedProcess[str]:
    from tests.support.servers import client_env

    return subprocess.run(
        [
            str(Path(sys.executable).with_name("twine")),
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            url,
            *map(str, files),
        ],
        env=client_env(
            TWINE_USERNAME="__token__",
            TWINE_PASSWORD=UPLOADER,
            NO_COLOR="1",
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def pip_install(
    replica: Replica, *requirements: str, target: Path, index: str | None = None
) -> subprocess.CompletedProcess[str]:
    from tests.support.servers import client_env

    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--no-deps",
            "--disable-pip-version-check",
            "--index-url",
            f"{replica.url}/{index}/simple/" if index else replica.index_url,
            "--target",
            str(target),
            *requirements,
        ],
        capture_output=True,
        text=True,
        env=client_env(),
        timeout=120,
    )


def uv_install(
    replica: Replica, *requirements: str, target: Path
) -> subprocess.CompletedProcess[str]:
    from tests.support.installers import UV
    from tests.support.servers import client_env

    return subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "--no-cache",
            "--no-deps",
            "--index-url",
            replica.index_url,
            "--target",
            str(target),
            "--python",
            sys.executable,
            *requirements,
        ],
        capture_output=True,
        text=True,
        env=client_env(),
        timeout=120,
    )


def get_json(client: httpx.Client, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()
