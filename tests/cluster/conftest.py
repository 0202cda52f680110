"""Three pipgate replicas (``pipgate serve`` processes) on one PostgreSQL and one SeaweedFS.

``cluster`` is module-scoped: the replicas, their database and their bucket prefix
are shared by the tests of a module, which use files and projects of their own
(so one test's cold file is not another's warm one). The fake upstream runs in
this process, so tests read its request counts and change its files directly.
What a cluster is and does lives in ``tests/support/cluster.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.cluster import FRESH_VERSION, Cluster, Replica, big_project, config_toml
from tests.support.fake_upstream import create_fake_upstream, standard_projects
from tests.support.ports import free_port
from tests.support.postgres import PostgresServer
from tests.support.seaweed import BUCKET, SeaweedFS


@pytest.fixture(scope="module")
def cluster(
    postgres_server: PostgresServer,
    seaweedfs: SeaweedFS,
    dists_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    """Three replicas started with one config naming PostgreSQL and an S3 bucket."""
    if not postgres_server.running:
        postgres_server.start()
    if not seaweedfs.running:
        seaweedfs.start()
    root = tmp_path_factory.mktemp("cluster")
    name = "c_" + os.urandom(5).hex()
    database_url = postgres_server.create_database(name)
    prefix = f"c-{os.urandom(5).hex()}"
    upstream = create_fake_upstream(
        [
            *standard_projects(dists_dir),
            big_project(dists_dir),
            big_project(dists_dir, "slow-pkg"),
            big_project(dists_dir, "private-pkg", 0),
        ]
    )
    upstream.slow_chunk_size = 256 * 1024
    upstream.slow_chunk_delay = 0.1
    for file in upstream.project("demo-pkg").files:
        if f"-{FRESH_VERSION}" in file.filename:
            file.upload_time = datetime.now(UTC) - timedelta(hours=1)
    with upstream.serve() as base:
        upstream_url = base
        config = root / "pipgate.toml"
        blobs_url = f"s3://{BUCKET}/{prefix}"
        config.write_text(config_toml(upstream_url, database_url, blobs_url))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPGATE_", "AWS_"))}
        env.update(seaweedfs.env())
        replicas = [Replica(label, free_port(), root / label) for label in ("a", "b", "c")]
        found = Cluster(
            upstream,
            upstream_url,
            postgres_server,
            database_url,
            seaweedfs,
            blobs_url,
            prefix,
            config,
            env,
            replicas,
        )
        try:
            for replica in replicas:
                found.start(replica)
            yield found
        finally:
            for replica in replicas:
                found.stop(replica)
            if not postgres_server.running:
                postgres_server.start()
            postgres_server.drop_database(name)
