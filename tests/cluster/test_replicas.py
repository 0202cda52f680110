"""Three replicas, one PostgreSQL, one SeaweedFS, real pip and uv (issue 10's acceptance)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import threading
import time
from pathlib import Path

import httpx

from tests.support.archives import pkg_info, sdist
from tests.support.cluster import (
    BIG_FILE,
    FRESH_VERSION,
    PRIVATE_FILE,
    SLOW_FILE,
    UPLOADER,
    Cluster,
    get_json,
    pip_install,
    twine_upload,
    uv_install,
)
from tests.support.dists import build_wheel


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
    assert _stored(cluster, key) == expected.size


def _stored(cluster: Cluster, key: str) -> int | None:
    """The size of object ``key`` once it is there (clients are answered before the
    upload ends), or ``None`` after a few seconds."""
    deadline = time.monotonic() + 10
    while (size := cluster.objects().get(key)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return size


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
    with c.admin() as admin:  # A's decision log is C's: one table
        logged: list[dict[str, object]] = []
        deadline = time.monotonic() + 5
        while not logged and time.monotonic() < deadline:
            logged = get_json(admin, "/decisions", project="demo-pkg", policy="release-age")[
                "decisions"
            ]
            time.sleep(0.05)
        assert logged and FRESH_VERSION in str(logged[0]["file"]), logged
    with b.admin() as admin:
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


def test_a_slow_cold_file_streams_to_a_client_of_a_replica_that_does_not_fetch_it(
    cluster: Cluster,
) -> None:
    """B streams the file from A, which fetches it, as it arrives: B's client has bytes
    long before the file is whole (pip gives up after 15 s without any), and upstream
    is asked once."""
    cluster.upstream.file_modes[SLOW_FILE] = "slow"
    delay, cluster.upstream.slow_chunk_delay = cluster.upstream.slow_chunk_delay, 0.2  # ~5 s
    expected = cluster.upstream.file(SLOW_FILE)

    def fetch(replica_index: int, read_timeout: float) -> tuple[int, str]:
        url = _file_url(cluster, replica_index, "slow-pkg", SLOW_FILE)
        with httpx.Client(timeout=httpx.Timeout(read_timeout, connect=5), trust_env=False) as c:
            response = c.get(url)
            return response.status_code, hashlib.sha256(response.content).hexdigest()

    try:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            first = pool.submit(fetch, 0, 60)
            deadline = time.monotonic() + 10
            while cluster.file_hits(SLOW_FILE) == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            # Waiting for the object store would leave B silent for about 5 s.
            second = pool.submit(fetch, 1, 2.0)
            assert second.result() == (200, expected.sha256)
            assert first.result() == (200, expected.sha256)
    finally:
        cluster.upstream.file_modes.pop(SLOW_FILE, None)
        cluster.upstream.slow_chunk_delay = delay
    assert cluster.file_hits(SLOW_FILE) == 1
    # The replicas' route serves files unjudged: nobody else may use it.
    internal = f"{cluster.replicas[0].url}/-/internal/downloads/{expected.sha256}"
    for headers in ({}, {"X-Pipgate-Peer-Token": "0" * 64}):
        refused = httpx.get(internal, headers=headers, trust_env=False)
        assert refused.status_code == 403 and refused.content != b"", refused.text


def test_a_private_upstream_file_is_fetched_once_for_the_cluster(cluster: Cluster) -> None:
    expected = cluster.upstream.file(PRIVATE_FILE)
    urls = [
        f"{cluster.replicas[i % 3].url}/corp/files/private-pkg/{PRIVATE_FILE}" for i in range(6)
    ]

    def fetch(url: str) -> tuple[int, str]:
        with httpx.Client(timeout=60, trust_env=False) as client:
            response = client.get(url)
            return response.status_code, hashlib.sha256(response.content).hexdigest()

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(fetch, urls))
    assert results == [(200, expected.sha256)] * 6
    assert cluster.file_hits(PRIVATE_FILE) == 1


def test_uploaded_through_a_installed_through_c(cluster: Cluster, tmp_path: Path) -> None:
    a, _, c = cluster.replicas
    wheel = build_wheel(tmp_path / "dist", "acme-lib", "1.0.0")
    uploaded = twine_upload(f"{a.url}/corp/", wheel)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    installed = pip_install(c, "acme-lib==1.0.0", target=tmp_path / "c", index="corp")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (tmp_path / "c" / "acme_lib" / "__init__.py").exists()
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert cluster.objects()[f"{cluster.prefix}/hosted/{sha256[:2]}/{sha256}"] == len(
        wheel.read_bytes()
    )
    again = twine_upload(f"{c.url}/corp/", wheel)  # the index is one: C knows the file
    assert again.returncode != 0 and "409" in again.stdout + again.stderr


EVIL_SETUP = """\
import base64
from setuptools import setup
exec(base64.b64decode("cHJpbnQoJ3B3bmVkJyk="))
setup(name="acme-evil", version="1.0.0")
"""


def test_an_upload_the_scan_flags_on_a_is_refused_by_c_too(cluster: Cluster) -> None:
    """C has no report of A's scan of the upload: it scans the file before serving it."""
    a, _, c = cluster.replicas
    data = sdist(
        {"PKG-INFO": pkg_info("acme-evil", "1.0.0"), "setup.py": EVIL_SETUP},
        root="acme_evil-1.0.0",
    )
    filename = "acme_evil-1.0.0.tar.gz"
    uploaded = httpx.post(
        f"{a.url}/corp/",
        auth=("__token__", UPLOADER),
        data={
            ":action": "file_upload",
            "name": "acme-evil",
            "version": "1.0.0",
            "filetype": "sdist",
            "sha256_digest": hashlib.sha256(data).hexdigest(),
        },
        files={"content": (filename, data, "application/gzip")},
        trust_env=False,
    )
    assert uploaded.status_code == 200, uploaded.text  # kept, refused where served
    deadline = time.monotonic() + 5
    refused = httpx.get(f"{c.url}/corp/files/acme-evil/{filename}", trust_env=False)
    while refused.status_code == 404 and time.monotonic() < deadline:  # C learns of it
        time.sleep(0.05)
        refused = httpx.get(f"{c.url}/corp/files/acme-evil/{filename}", trust_env=False)
    assert refused.status_code == 403, refused.text
    assert refused.headers["X-Pipgate-Policy"] == "scan" and "decode-exec" in refused.text


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
        # B and C streamed from A; one of them took the lease over and fetched the rest,
        # the other streamed from it: upstream was asked twice in all.
        assert cluster.file_hits(BIG_FILE) == 2
        # Clients are answered before the upload ends: wait for the object.
        key = f"{cluster.prefix}/files/{expected.sha256[:2]}/{expected.sha256}"
        assert _stored(cluster, key) == expected.size
        # No partial object: every file in the bucket is whole.
        sizes = {f.sha256: f.size for p in cluster.upstream.projects.values() for f in p.files}
        stored = {k.rsplit("/", 1)[1]: v for k, v in cluster.objects().items() if "/files/" in k}
        assert stored == {sha: sizes[sha] for sha in stored}
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
