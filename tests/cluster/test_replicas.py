"""Three replicas, one PostgreSQL, one SeaweedFS, real pip and uv (issue 10's acceptance)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import threading
import time
from pathlib import Path

import httpx

from tests.cluster.conftest import (
    BIG_FILE,
    FRESH_VERSION,
    Cluster,
    get_json,
    pip_install,
    uv_install,
)


def _file_url(cluster: Cluster, replica_index: int, project: str, filename: str) -> str:
    return f"{cluster.replicas[replica_index].url}/files/{project}/{filename}"


def test_eight_cold_requests_over_three_replicas_cost_one_upstream_get(cluster: Cluster) -> None:
    filename = "demo_dep-0.1.0-py3-none-any.whl"
    expected = cluster.upstream.file(filename)
    before = cluster.file_hits(filename)
    urls = [_file_url(cluster, i % 3, "demo-dep", filename) for i in range(8)]

    def fetch(url: str) -> tuple[int, bytes]:
        with httpx.Client(timeout=60, trust_env=False) as client:
            response = client.get(url)
            return response.status_code, response.content

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(fetch, urls))

    assert [status for status, _ in results] == [200] * 8, results[0][1][:500]
    assert {hashlib.sha256(body).hexdigest() for _, body in results} == {expected.sha256}
    assert cluster.file_hits(filename) - before == 1
    key = f"{cluster.prefix}/files/{expected.sha256[:2]}/{expected.sha256}"
    assert cluster.objects()[key] == expected.size


def test_held_on_a_listed_and_released_on_b_installed_through_c_within_a_second(
    cluster: Cluster, tmp_path: Path
) -> None:
    a, b, c = cluster.replicas
    wanted = f"demo-pkg=={FRESH_VERSION}"
    refused = pip_install(a, wanted, target=tmp_path / "a")
    assert refused.returncode != 0, refused.stdout
    with b.admin() as admin:
        entries = []
        deadline = time.monotonic() + 10
        while not entries and time.monotonic() < deadline:
            entries = get_json(admin, "/quarantine", project="demo-pkg", state="quarantined")[
                "entries"
            ]
            entries = [e for e in entries if e["version"] == FRESH_VERSION]
            time.sleep(0.05)
        assert entries, "the hold made on replica A never reached replica B's admin API"
        released = admin.post(
            f"/quarantine/{entries[0]['id']}/release",
            json={"scope": "version", "reason": "reviewed"},
        )
        assert released.status_code == 200, released.text
    # The release must be in force on C within a second (LISTEN/NOTIFY; a 0.25 s poll
    # backs it up): C's file URL answers 200 before the deadline, then pip installs.
    deadline = time.monotonic() + 1.0
    url = f"{c.url}/files/demo-pkg/demo_pkg-{FRESH_VERSION}-py3-none-any.whl"
    status = httpx.head(url, trust_env=False).status_code
    while status != 200 and time.monotonic() < deadline:
        status = httpx.head(url, trust_env=False).status_code
    assert status == 200
    installed = pip_install(c, wanted, target=tmp_path / "c")
    assert installed.returncode == 0, installed.stdout + installed.stderr


def test_rejected_on_b_is_refused_on_a_by_pip_and_uv(cluster: Cluster, tmp_path: Path) -> None:
    a, b, _ = cluster.replicas
    assert pip_install(a, "demo-yanked==1.0.0", target=tmp_path / "before").returncode == 0
    with b.admin() as admin:
        rejected = admin.post(
            "/decide/reject",
            json={"project": "demo-yanked", "reason": "malware report"},
        )
        assert rejected.status_code == 200, rejected.text
    started = time.monotonic()
    status = 200
    while status == 200 and time.monotonic() - started < 1.0:
        status = httpx.get(f"{a.url}/simple/demo-yanked/", trust_env=False).status_code
    assert status == 451  # a refused project page
    assert pip_install(a, "demo-yanked==1.0.0", target=tmp_path / "pip").returncode != 0
    assert uv_install(a, "demo-yanked==1.0.0", target=tmp_path / "uv").returncode != 0


def test_round_robin_installs_with_pip_and_uv(cluster: Cluster, tmp_path: Path) -> None:
    for i, replica in enumerate(cluster.replicas):
        tool = pip_install if i % 2 == 0 else uv_install
        done = tool(replica, "demo-dep==0.2.0", target=tmp_path / replica.name)
        assert done.returncode == 0, done.stdout + done.stderr
    assert cluster.file_hits("demo_dep-0.2.0-py3-none-any.whl") == 1


def test_kill_9_of_the_lease_holder_mid_stream(cluster: Cluster) -> None:
    cluster.upstream.file_modes[BIG_FILE] = "slow"
    expected = cluster.upstream.file(BIG_FILE)
    a = cluster.replicas[0]
    results: dict[str, object] = {}

    def fetch(replica_index: int) -> None:
        url = _file_url(cluster, replica_index, "big-pkg", BIG_FILE)
        try:
            with httpx.Client(timeout=60, trust_env=False) as client:
                response = client.get(url)
                results[url] = (response.status_code, hashlib.sha256(response.content).hexdigest())
        except httpx.HTTPError as exc:
            results[url] = exc

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        first = pool.submit(fetch, 0)
        # A holds the lease once upstream saw its GET; then B and C follow.
        deadline = time.monotonic() + 10
        while cluster.file_hits(BIG_FILE) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        followers = [pool.submit(fetch, 1), pool.submit(fetch, 2)]
        time.sleep(0.5)
        cluster.kill(a)
        first.result()
        for follower in followers:
            follower.result(timeout=60)
    try:
        for url, outcome in results.items():
            if isinstance(outcome, Exception):
                assert url.startswith(a.url), f"{url}: {outcome!r}"  # A's own client: cut off
            else:
                assert outcome == (200, expected.sha256), (url, outcome)
        key = f"{cluster.prefix}/files/{expected.sha256[:2]}/{expected.sha256}"
        big = {k: v for k, v in cluster.objects().items() if "/files/" in k and v > (1 << 20)}
        assert big == {key: expected.size}
    finally:
        cluster.upstream.file_modes.pop(BIG_FILE, None)
        cluster.start(a)


def test_postgresql_restarted_under_load(cluster: Cluster) -> None:
    """Replicas reconnect; nothing is served unjudged; no 500s."""
    a, b, c = cluster.replicas
    with b.admin() as admin:
        rejected = admin.post("/decide/reject", json={"project": "demo-archived", "reason": "bad"})
        assert rejected.status_code == 200, rejected.text
    warm = "demo_dep-0.1.0-py3-none-any.whl"
    refused = "demo_archived-1.0.0-py3-none-any.whl"
    stop = threading.Event()
    seen: list[tuple[str, int]] = []

    def load() -> None:
        with httpx.Client(timeout=30, trust_env=False) as client:
            while not stop.is_set():
                for replica in (a, b, c):
                    for path in (
                        "/simple/demo-dep/",
                        f"/files/demo-dep/{warm}",
                        f"/files/demo-archived/{refused}",
                        "/simple/demo-archived/",
                    ):
                        try:
                            seen.append((path, client.get(replica.url + path).status_code))
                        except httpx.HTTPError as exc:
                            seen.append((path, -1))
                            raise AssertionError(f"{replica.url}{path}: {exc!r}") from exc

    def answered(count: int) -> None:
        """Wait until the load has had ``count`` more answers (a round is 12 per thread)."""
        wanted = len(seen) + count
        deadline = time.monotonic() + 30
        while len(seen) < wanted and not any(run.done() for run in runs):
            assert time.monotonic() < deadline, f"the load had only {len(seen)} answers"
            time.sleep(0.01)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(load) for _ in range(2)]
        answered(24)  # under way on every replica
        cluster.postgres.restart()
        answered(48)  # and going on after the restart
        stop.set()
        for run in runs:
            run.result()
    assert seen and not [s for s in seen if s[1] >= 500 and s[1] != 503]
    assert not [s for s in seen if "archived" in s[0] and s[1] == 200]
    assert [s for s in seen if s[0].endswith(warm) and s[1] == 200]
    # Recovered: a decision that needs the store works again on every replica.
    with c.admin() as admin:
        entries = get_json(admin, "/quarantine")
        assert "entries" in entries


def test_object_store_down_serves_l1_hits_and_refuses_misses(cluster: Cluster) -> None:
    a, b, _ = cluster.replicas
    warm = f"{a.url}/files/demo-dep/demo_dep-0.2.0-py3-none-any.whl"
    assert httpx.get(warm, trust_env=False).status_code == 200
    cold = f"{b.url}/files/demo-pkg/demo_pkg-1.0.0.tar.gz"
    cluster.seaweedfs.stop_gateway()
    try:
        assert httpx.get(warm, trust_env=False, timeout=30).status_code == 200
        missed = httpx.get(cold, trust_env=False, timeout=30)
        assert missed.status_code == 503, missed.text
        assert "object store" in missed.text
        deadline = time.monotonic() + 10
        ready = httpx.get(f"{b.url}/readyz", trust_env=False)
        while "blobs store" not in ready.text and time.monotonic() < deadline:
            time.sleep(0.1)
            ready = httpx.get(f"{b.url}/readyz", trust_env=False)
        assert ready.status_code == 200 and "blobs store" in ready.text, ready.text
    finally:
        cluster.seaweedfs.start_gateway()
    deadline = time.monotonic() + 15
    status = httpx.get(cold, trust_env=False, timeout=30).status_code
    while status != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        status = httpx.get(cold, trust_env=False, timeout=30).status_code
    assert status == 200
