"""The content scan end to end: real pip through pipgate against the fake upstream.

The "malicious" package is inert text the scanner reads; nothing runs it (pip is refused
before it holds the archive).
"""

from __future__ import annotations

import json

import httpx

from tests.support.disks import fill
from tests.support.installers import run_pip
from tests.support.scan_samples import GLIMMER_SDIST as SDIST
from tests.support.scan_samples import glimmer_tools

COLD_WHEEL = "demo_dep-0.2.0-py3-none-any.whl"


def test_decode_and_exec_setup_py_is_held_on_first_request_with_the_rule_named(
    upstream, upstream_url, start_proxy, tmp_path
):
    upstream.add(glimmer_tools())
    with start_proxy(upstream_url) as proxy:
        result = run_pip(proxy.index_url, "glimmer-tools", target=tmp_path / "t")
        again = httpx.get(f"{proxy.url}/files/glimmer-tools/{SDIST}")
        page = httpx.get(
            f"{proxy.index_url}glimmer-tools/",
            headers={"Accept": "application/vnd.pypi.simple.v1+json"},
        ).json()
        second = run_pip(proxy.index_url, "glimmer-tools", target=tmp_path / "t2")
        decisions = [
            json.loads(line)
            for line in (proxy.data_dir / "decisions.jsonl").read_text().splitlines()
        ]
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "403" in output and "decode-exec" in output and "setup.py:3" in output, output
    assert not (tmp_path / "t" / "glimmer_tools").exists()
    assert again.status_code == 403  # the stored file is refused on every later request
    assert page["files"] == []  # pages hold what the scan flagged, like any held file
    assert second.returncode != 0
    assert again.headers["X-Pipgate-Policy"] == "scan"
    assert "decode-exec" in again.text
    held = [d for d in decisions if d.get("policy") == "scan"]
    assert held and held[0]["file"] == SDIST and "decode-exec" in held[0]["reason"]
    assert upstream.hits[upstream.file_path(SDIST)] == 1  # fetched and scanned once


def test_ordinary_packages_install_and_each_file_is_scanned_once(
    upstream, upstream_url, start_proxy, tmp_path
):
    with start_proxy(upstream_url) as proxy:
        first = run_pip(proxy.index_url, "demo-pkg==1.0.0", target=tmp_path / "one")
        second = run_pip(proxy.index_url, "demo-pkg==1.0.0", target=tmp_path / "two")
        scanned = proxy.state.scan.verdicts.scanned
        workers = proxy.state.scan.verdicts.workers
    assert workers is not None and workers.pools_started == 1  # in a worker process
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    fetched = [p for p, n in upstream.hits.items() if "/files/" in p or p.endswith((".whl", ".gz"))]
    assert scanned == len(fetched) >= 1


def test_a_flagged_file_served_unstored_on_a_full_disk_is_still_refused(
    upstream,
    upstream_url,
    start_proxy,
    small_disk,
):
    upstream.add(glimmer_tools())
    config = {"cache": {"min_free_space": "1MB"}}
    with start_proxy(upstream_url, config=config, data_dir=small_disk / "data") as proxy:
        with httpx.Client(timeout=30) as client:
            assert client.get(f"{proxy.index_url}glimmer-tools/").status_code == 200
            fill(small_disk)
            refused = client.get(f"{proxy.url}/files/glimmer-tools/{SDIST}")
            served = client.get(f"{proxy.url}/files/demo-dep/{COLD_WHEEL}")
    assert refused.status_code == 403, refused.text
    assert "decode-exec" in refused.text
    assert served.status_code == 200
    assert served.headers["x-pipgate-cache"] == "unstored"
