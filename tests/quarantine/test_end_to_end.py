"""A brand-new release is held, found through the API, released, and pip then installs it."""

from __future__ import annotations

from pathlib import Path

from tests.support.fresh_release import FRESH_VERSION
from tests.support.installers import run_pip
from tests.support.proxies import RunningProxy as Proxy


def test_pip_fails_then_release_via_api_then_pip_succeeds(proxy: Proxy, tmp_path: Path) -> None:
    requirement = f"demo-pkg=={FRESH_VERSION}"
    refused = run_pip(proxy.index_url, "--no-deps", requirement, target=tmp_path / "first")
    assert refused.returncode != 0, refused.stdout

    with proxy.client() as api:
        listed = api.get("/quarantine", params={"state": "quarantined", "project": "demo-pkg"})
        assert listed.status_code == 200, listed.text
        (entry,) = [e for e in listed.json()["entries"] if e["version"] == FRESH_VERSION]
        assert entry["policy"] == "release-age" and len(entry["files"]) == 2
        assert entry["views"] >= 1 and entry["top_clients"] == ["127.0.0.1"]

        released = api.post(
            f"/quarantine/{entry['id']}/release", json={"reason": "reviewed the diff"}
        )
        assert released.status_code == 200, released.text
        assert released.json()["actor"] == "alice"

        shown = api.get(f"/quarantine/{entry['id']}").json()
        assert shown["state"] == "released" and shown["changed_by"] == "alice"
        assert shown["history"][0]["action"] == "release"

    installed = run_pip(proxy.index_url, "--no-deps", requirement, target=tmp_path / "second")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert list((tmp_path / "second").glob(f"demo_pkg-{FRESH_VERSION}.dist-info"))
