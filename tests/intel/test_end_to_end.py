"""Known malware and known vulnerabilities through real pip, on every path, retroactively."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from pipgate.proxy.intel.wiring import PURGE_CLIENT
from tests.support.console import logged_in
from tests.support.feed_records import GHSA_ID, MAL_ID
from tests.support.installers import installed, run_pip
from tests.support.osv_records import record, write_dir

JSON = "application/vnd.pypi.simple.v1+json"
EVIL_WHEEL = "evil_pkg-1.0.0-py3-none-any.whl"
OLD_DEMO = "demo_pkg-1.0.0-py3-none-any.whl"
DEP_WHEEL = "demo_dep-0.2.0-py3-none-any.whl"


def decisions(proxy) -> list[dict]:  # type: ignore[no-untyped-def]
    path = proxy.data_dir / "decisions.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_malware_is_refused_on_every_path_naming_the_advisory(
    upstream, upstream_url, start_proxy, tmp_path: Path
) -> None:
    with start_proxy(upstream_url) as proxy:
        pinned = run_pip(
            proxy.index_url,
            f"{proxy.url}/files/evil-pkg/{EVIL_WHEEL}",
            "--no-deps",
            target=tmp_path,
        )
        paths = [
            "/simple/evil-pkg/",
            "/simple/Evil_Pkg/",
            f"/files/evil-pkg/{EVIL_WHEEL}",
            f"/files/evil-pkg/{EVIL_WHEEL}.metadata",
            f"/files/evil-pkg/{EVIL_WHEEL}.provenance",
        ]
        with httpx.Client(base_url=proxy.url, follow_redirects=True) as client:
            responses = {path: client.get(path, headers={"Accept": JSON}) for path in paths}
            page = responses["/simple/evil-pkg/"].json()
            ready = client.get("/readyz")
            metrics = client.get("/metrics").text
    assert pinned.returncode != 0
    assert (
        f"Block by malicious: every version of 'evil-pkg' is known malware: {MAL_ID} "
        "(Malicious code in evil-pkg (PyPI))" in pinned.stderr + pinned.stdout
    )
    for path, response in responses.items():
        assert response.status_code == (451 if path.startswith("/simple/") else 403), path
        assert response.headers["x-pipgate-policy"] == "malicious", path
        assert MAL_ID in response.reason_phrase, path
    assert MAL_ID in page["project-status"]["reason"]
    assert upstream.hits["/simple/evil-pkg/"] == 0  # refused by name, never asked upstream
    assert ready.status_code == 200 and ready.text.startswith("ready\n")
    assert "/feed: advisories: 1 malicious, 1 vulnerabilities; read 20" in ready.text
    assert 'pipgate_intel_refresh_total{feed="' in metrics and 'outcome="updated"} 1.0' in metrics


def test_vulnerable_version_is_refused_and_unpinned_install_gets_the_fix(
    upstream_url, start_proxy, tmp_path: Path
) -> None:
    with start_proxy(upstream_url) as proxy:
        pinned = run_pip(
            proxy.index_url,
            f"{proxy.url}/files/demo-pkg/{OLD_DEMO}",
            "--no-deps",
            target=tmp_path / "a",
        )
        unpinned = run_pip(proxy.index_url, "demo-pkg", "--no-deps", target=tmp_path / "b")
        page = httpx.get(f"{proxy.index_url}demo-pkg/", headers={"Accept": JSON}).json()
        logged = decisions(proxy)
    assert pinned.returncode != 0
    output = pinned.stderr + pinned.stdout
    assert (
        f"Block by vulnerabilities: demo-pkg 1.0.0 has known vulnerabilities: {GHSA_ID}" in output
    )
    assert "CVE-2025-0001" in output and "[critical, fixed in 1.1.0]" in output
    assert unpinned.returncode == 0, unpinned.stderr
    assert installed(tmp_path / "b") == {"demo-pkg==1.1.0"}
    assert page["versions"] == ["1.1.0"]
    assert {f["filename"] for f in page["files"]} == {
        "demo_pkg-1.1.0-py3-none-any.whl",
        "demo_pkg-1.1.0.tar.gz",
    }
    assert any(d["policy"] == "vulnerabilities" and GHSA_ID in d["reason"] for d in logged)


def test_warn_serves_the_file_with_a_warning(upstream_url, start_proxy) -> None:
    config = {"policies": {"vulnerabilities": {"action": "warn"}}}
    with start_proxy(upstream_url, config=config) as proxy:
        response = httpx.get(f"{proxy.url}/files/demo-pkg/{OLD_DEMO}")
        logged = decisions(proxy)
    assert response.status_code == 200
    assert response.headers["x-pipgate-warning"].startswith(
        f"vulnerabilities: demo-pkg 1.0.0 has known vulnerabilities: {GHSA_ID}"
    )
    (entry,) = [d for d in logged if d["policy"] == "vulnerabilities"]
    assert entry["mode"] == "dry-run"


def test_a_refreshed_feed_refuses_and_purges_a_cached_file(
    upstream_url, start_proxy, feed_dir: Path, tmp_path: Path
) -> None:
    late_id = "MAL-2025-0002"
    with start_proxy(upstream_url) as proxy:
        store = proxy.state.store
        assert httpx.get(f"{proxy.url}/files/demo-dep/{DEP_WHEEL}").status_code == 200
        before = httpx.get(f"{proxy.index_url}demo-dep/", headers={"Accept": JSON}).json()
        sha256 = next(f["hashes"]["sha256"] for f in before["files"] if f["filename"] == DEP_WHEEL)
        assert sha256 in store

        write_dir(
            feed_dir, [record(late_id, "demo-dep", versions=["0.2.0"], summary="Hijacked release")]
        )
        assert proxy.state.intel.refresh_soon().result(timeout=30) == [True]

        assert sha256 not in store
        refused = httpx.get(f"{proxy.url}/files/demo-dep/{DEP_WHEEL}")
        after = httpx.get(f"{proxy.index_url}demo-dep/", headers={"Accept": JSON}).json()
        pip = run_pip(proxy.index_url, "demo-dep", "--no-deps", target=tmp_path / "t")
        logged = decisions(proxy)
        with logged_in(proxy) as ui:
            project_page = ui.get("/projects/default/demo-dep").text
            decisions_page = ui.get("/decisions", params={"q": late_id}).text
            queue = ui.get("/", params={"state": "quarantined", "policy": "malicious"}).text
    assert refused.status_code == 403
    assert refused.reason_phrase == (
        f"Block by malicious: demo-dep 0.2.0 is known malware: {late_id} (Hijacked release)"
    )
    assert DEP_WHEEL not in {f["filename"] for f in after["files"]}  # the cached page was rebuilt
    assert pip.returncode == 0 and installed(tmp_path / "t") == {"demo-dep==0.1.0"}
    purged = [d for d in logged if d["client"] == PURGE_CLIENT]
    assert [(d["file"], d["policy"], d["action"]) for d in purged] == [
        (DEP_WHEEL, "malicious", "block")
    ]
    for page in (project_page, decisions_page, queue):
        assert late_id in page and DEP_WHEEL in page


def test_a_feed_listing_a_cached_file_purges_it_at_start_up(upstream_url, start_proxy) -> None:
    config = {"policies": {"malicious": {"mode": "off"}}}
    with start_proxy(upstream_url, config=config) as proxy:
        assert httpx.get(f"{proxy.url}/files/evil-pkg/{EVIL_WHEEL}").status_code == 200
        page = httpx.get(f"{proxy.index_url}evil-pkg/", headers={"Accept": JSON}).json()
        sha256 = page["files"][0]["hashes"]["sha256"]
        assert sha256 in proxy.state.store
    with start_proxy(upstream_url) as proxy:
        assert sha256 not in proxy.state.store
        logged = decisions(proxy)
    assert [(d["file"], d["client"]) for d in logged] == [(EVIL_WHEEL, PURGE_CLIENT)]
