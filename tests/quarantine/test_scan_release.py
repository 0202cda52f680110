"""A file the content scan flagged is queued for review, and a release serves it again."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.fake_upstream import FakeUpstream, create_fake_upstream, standard_projects
from tests.support.proxies import RunningProxy as Proxy
from tests.support.scan_samples import GLIMMER_SDIST as SDIST
from tests.support.scan_samples import glimmer_tools


@pytest.fixture
def upstream(dists_dir: Path) -> FakeUpstream:
    fake = create_fake_upstream(standard_projects(dists_dir))
    fake.add(glimmer_tools())
    return fake


def test_flagged_file_is_queued_and_a_release_serves_it(proxy: Proxy) -> None:
    url = f"{proxy.url}/files/glimmer-tools/{SDIST}"
    assert httpx.get(url).status_code == 403
    with proxy.client() as api:
        listed = api.get("/quarantine", params={"state": "quarantined", "project": "glimmer-tools"})
        (entry,) = listed.json()["entries"]
        assert (entry["policy"], [f["file"] for f in entry["files"]]) == ("scan", [SDIST])
        (held,) = entry["files"]
        assert "decode-exec" in held["reason"] and "setup.py:3" in held["reason"]
        assert held["requests"] == 1
        released = api.post(
            f"/quarantine/{entry['id']}/release",
            json={"scope": "file", "file": SDIST, "reason": "a test fixture, read by hand"},
        )
        assert released.status_code == 200, released.text
    assert httpx.get(url).status_code == 200
