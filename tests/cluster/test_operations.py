"""Operating the shared stores: start-up migrations, the storage commands, --workers."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from packaging.utils import NormalizedName

from pipgate.policies.decision import Action, Decision
from pipgate.proxy.hosted.store import HostedFile, LocalHostedStore
from pipgate.proxy.observe.decision_log import DecisionLog
from pipgate.proxy.quarantine.records import Hold
from pipgate.proxy.quarantine.review import Review
from pipgate.proxy.storage.schema import SCHEMA_VERSION
from tests.support.dists import build_wheel
from tests.support.ports import free_port
from tests.support.postgres import PostgresServer
from tests.support.servers import run_process

PIPGATE = [sys.executable, "-m", "pipgate.proxy.cli.main"]


def _env(**extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPGATE_", "AWS_"))}
    env.update(extra)
    return env


def test_two_replicas_starting_at_once_migrate_an_empty_database_once(
    postgres_server: PostgresServer, postgres_url: str, tmp_path: Path
) -> None:
    env = _env(PIPGATE_STORAGE__DATABASE=postgres_url, PIPGATE_UPSTREAM="http://127.0.0.1:9/")
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        # Both start before either is ready: they meet at the migration lock.
        starting = [
            subprocess.Popen(
                [*PIPGATE, "serve", "--port", str(p), "--data-dir", str(tmp_path / str(p))],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            for p in ports
        ]
        for popen in starting:
            stack.callback(popen.wait, 10)
            stack.callback(popen.terminate)
        for port in ports:
            stack.enter_context(
                run_process(
                    [sys.executable, "-c", "import time; time.sleep(60)"],
                    f"http://127.0.0.1:{port}/readyz",
                )
            )
    name = postgres_url.rsplit("/", 1)[1]
    rows = postgres_server.psql(
        "SELECT version, applied_by FROM schema_version ORDER BY version", database=name
    ).splitlines()
    versions = [row.split("|") for row in rows]
    assert [int(v) for v, _ in versions] == list(range(1, SCHEMA_VERSION + 1)), rows
    assert len({who for _, who in versions}) == 1, rows  # one replica migrated, once


def test_a_replica_started_without_postgresql_is_unready_until_it_has_migrated_it(
    postgres_server: PostgresServer, postgres_url: str, tmp_path: Path
) -> None:
    env = _env(PIPGATE_STORAGE__DATABASE=postgres_url, PIPGATE_UPSTREAM="http://127.0.0.1:9/")
    port = free_port()
    argv = [*PIPGATE, "serve", "--port", str(port), "--data-dir", str(tmp_path / "l1")]
    postgres_server.stop()
    try:
        with run_process(argv, f"http://127.0.0.1:{port}/healthz", env=env, timeout=60):
            ready = f"http://127.0.0.1:{port}/readyz"
            unready = httpx.get(ready, trust_env=False)
            assert unready.status_code == 503, unready.text
            assert "schema is not checked yet: cannot connect to PostgreSQL" in unready.text
            page = httpx.get(f"http://127.0.0.1:{port}/simple/demo-pkg/", trust_env=False)
            assert page.status_code == 503, page.text  # nothing judged without the rules
            postgres_server.start()
            deadline = time.monotonic() + 30  # it keeps trying (every second)
            while (answer := httpx.get(ready, trust_env=False)).status_code != 200:
                assert time.monotonic() < deadline, answer.text
                time.sleep(0.1)
    finally:
        if not postgres_server.running:
            postgres_server.start()
    name = postgres_url.rsplit("/", 1)[1]
    versions = postgres_server.psql("SELECT version FROM schema_version", database=name).split()
    assert versions == [str(v) for v in range(1, SCHEMA_VERSION + 1)]


def test_migrate_and_storage_check_commands(postgres_url: str, s3_location, tmp_path: Path) -> None:
    env = _env(
        PIPGATE_STORAGE__DATABASE=postgres_url,
        PIPGATE_STORAGE__BLOBS=s3_location.url,
        **s3_location.env,
    )
    first = subprocess.run([*PIPGATE, "migrate"], env=env, capture_output=True, text=True)
    versions = ", ".join(str(v) for v in range(1, SCHEMA_VERSION + 1))
    assert first.returncode == 0, first.stderr
    assert f"applied schema versions {versions}" in first.stdout
    again = subprocess.run([*PIPGATE, "migrate"], env=env, capture_output=True, text=True)
    assert f"already at version {SCHEMA_VERSION}" in again.stdout, again.stderr
    check = subprocess.run([*PIPGATE, "storage", "check"], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert f"schema version {SCHEMA_VERSION}" in check.stdout and "write-once" in check.stdout
    wrong = subprocess.run(
        [*PIPGATE, "storage", "check"],
        env={**env, "AWS_SECRET_ACCESS_KEY": "wrong"},
        capture_output=True,
        text=True,
    )
    assert wrong.returncode == 1 and s3_location.url in wrong.stderr


def test_storage_import_moves_quarantine_history(
    postgres_url: str, s3_location, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    single = tmp_path / "single"
    review = Review(single, clock=lambda: now)
    held = Decision(Action.QUARANTINE, "typosquat", "looks like requests")
    review.store.record(
        [
            [
                Hold(
                    "default",
                    "reqeusts",
                    None,
                    "typosquat",
                    "quarantine",
                    held.reason,
                    None,
                    "1.2.3.4",
                    now,
                )
            ]
        ]
    )
    review.decide("reject", project="reqeusts", reason="typosquat confirmed", actor="alice")
    review.close()
    decisions = DecisionLog(single / "decisions.jsonl")
    decisions.record(
        index="default", project="reqeusts", file=None, decision=held, client="1.2.3.4", now=now
    )
    decisions.close()
    wheel = build_wheel(tmp_path / "dist", "acme-lib", "1.0.0")
    hosted = LocalHostedStore(single / "hosted")
    temp = hosted.new_temp_path()
    temp.write_bytes(wheel.read_bytes())
    upload = HostedFile(
        index="corp",
        project=NormalizedName("acme-lib"),
        filename=wheel.name,
        version="1.0.0",
        sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(),
        size=wheel.stat().st_size,
        requires_python=None,
        metadata_sha256=None,
        uploaded_at=now,
        uploader="ci",
        client="1.2.3.4",
    )
    hosted.add(upload, temp, b"Metadata-Version: 2.1\nName: acme-lib\n")
    hosted.close()
    env = _env(
        PIPGATE_STORAGE__DATABASE=postgres_url,
        PIPGATE_STORAGE__BLOBS=s3_location.url,
        **s3_location.env,
    )
    moved = subprocess.run(
        [*PIPGATE, "storage", "import", "--from-data-dir", str(single)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert moved.returncode == 0, moved.stderr
    assert "1 entries" in moved.stdout and "1 rules" in moved.stdout
    assert "decision log: 1 lines" in moved.stdout
    assert "hosted indexes: 1 files copied" in moved.stdout
    from pipgate.proxy.storage.decisions import search_table
    from pipgate.proxy.storage.facts import FileFacts
    from pipgate.proxy.storage.files import SharedFileStore
    from pipgate.proxy.storage.hosted import SharedHostedStore
    from pipgate.proxy.storage.postgres import PostgresDatabase
    from pipgate.proxy.storage.s3 import S3Blobs

    database = PostgresDatabase(postgres_url)
    shared = Review(tmp_path / "replica", clock=lambda: now, database=database)
    try:
        page = shared.entries()
        assert page.total == 1 and page.entries[0].state == "rejected"
        assert [r.kind for r in shared.rules()] == ["reject"]
        assert [a.action for a in shared.audit()] == ["reject"]
        assert shared.entry(page.entries[0].id).history[0].action == "reject"
        (new,) = shared.store.record(
            [[Hold("default", "other", None, "typosquat", "quarantine", "x", None, "1.2.3.4", now)]]
        )
        assert new.id > page.entries[0].id
        assert [(d["project"], d["file"]) for d in search_table(database)] == [("reqeusts", None)]
        blobs = S3Blobs(s3_location.url)
        l1 = SharedFileStore(
            tmp_path / "l1", facts=FileFacts(database), blobs=blobs, size_limit=10**8
        )
        replica = SharedHostedStore(database, blobs, l1)
        hosted = replica.project("corp", NormalizedName("acme-lib"))
        assert hosted is not None and [f.filename for f in hosted.project.files] == [wheel.name]
        with replica.open(upload.sha256) as handle:
            assert handle.read() == wheel.read_bytes()
        assert replica.get_metadata(upload.sha256) == b"Metadata-Version: 2.1\nName: acme-lib\n"
    finally:
        shared.close()
    twice = subprocess.run(
        [*PIPGATE, "storage", "import", "--from-data-dir", str(single)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert twice.returncode == 1 and "already holds quarantine history" in twice.stderr


def test_workers_are_refused_on_the_embedded_default(tmp_path: Path) -> None:
    refused = subprocess.run(
        [*PIPGATE, "serve", "--workers", "2", "--data-dir", str(tmp_path)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode == 2
    assert "--workers 2 needs [storage] database" in refused.stderr


@pytest.mark.slow
def test_two_workers_share_postgresql(postgres_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = _env(PIPGATE_STORAGE__DATABASE=postgres_url, PIPGATE_UPSTREAM="http://127.0.0.1:9/")
    argv = [*PIPGATE, "serve", "--workers", "2", "--port", str(port), "--data-dir", str(tmp_path)]
    with run_process(argv, f"http://127.0.0.1:{port}/readyz", env=env, timeout=60) as running:
        ready = httpx.get(f"{running.url}", trust_env=False)
        assert ready.status_code == 200 and "ready" in ready.text
