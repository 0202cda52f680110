"""Every policy end to end through real pip and uv, its message, and no way around it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.fake_upstream import FakeProject, _release
from tests.support.installers import installed, run_pip, run_uv
from tests.support.markup import listed, offered

JSON = "application/vnd.pypi.simple.v1+json"
NEW_WHEEL = "demo_pkg-1.1.0-py3-none-any.whl"
NEW_SDIST = "demo_pkg-1.1.0.tar.gz"


@pytest.fixture
def fresh_release(upstream):
    """demo-pkg 1.1.0 was uploaded two hours ago."""
    uploaded = datetime.now(UTC) - timedelta(hours=2)
    for name in (NEW_WHEEL, NEW_SDIST):
        upstream.file(name).upload_time = uploaded
    return uploaded


@pytest.fixture
def typosquat(upstream, dists_dir):
    """'coloarma', first uploaded yesterday, imitates 'colorama'."""
    files = _release(dists_dir, "coloarma", "0.4.6", uploaded=datetime.now(UTC) - timedelta(days=1))
    return upstream.add(FakeProject("coloarma", files))


def _decisions(proxy) -> list[dict]:
    path = proxy.data_dir / "decisions.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- release age ----------------------------------------------------------------------------------


def test_young_release_is_listed_yanked_with_its_hold_and_pip_gets_the_previous_one(
    upstream_url, start_proxy, fresh_release, tmp_path
):
    with start_proxy(upstream_url) as proxy:
        page = httpx.get(f"{proxy.index_url}demo-pkg/", headers={"Accept": JSON}).json()
        html = httpx.get(f"{proxy.index_url}demo-pkg/").text
        latest = run_pip(proxy.index_url, "demo-pkg", target=tmp_path / "latest")
        pinned = run_pip(proxy.index_url, "demo-pkg==1.1.0", target=tmp_path / "pinned")
        uv_pinned = run_uv(proxy.index_url, "demo-pkg==1.1.0", target=tmp_path / "uv")
        decisions = _decisions(proxy)
    # Listed only as yanked (PEP 592), the hold as the reason: no unpinned install picks
    # it, an exact pin is sent to the file, which refuses with the reason.
    for listing in (listed(page), listed(html)):
        assert {NEW_WHEEL, NEW_SDIST} <= set(listing)
        for held_file in (NEW_WHEEL, NEW_SDIST):
            reason = listing[held_file]
            assert reason and "'release-age'" in reason and "available from" in reason
        installable = {name for name, yanked in listing.items() if yanked is None}
        assert "demo_pkg-1.0.0-py3-none-any.whl" in installable
        assert not {NEW_WHEEL, NEW_SDIST} & installable
    assert page["versions"] == ["1.0.0", "1.1.0"]  # its files are listed (yanked)
    assert latest.returncode == 0, latest.stderr
    assert "demo-pkg==1.0.0" in installed(tmp_path / "latest")
    assert pinned.returncode != 0
    assert "Quarantine by release-age" in pinned.stderr + pinned.stdout
    assert uv_pinned.returncode != 0
    assert "release-age" in uv_pinned.stderr
    held = [d for d in decisions if d["file"] == NEW_WHEEL]
    assert held and held[0]["policy"] == "release-age" and held[0]["action"] == "quarantine"
    assert "minimum age is 7 d" in held[0]["reason"]


def test_pinned_file_url_of_a_young_release_is_refused_with_its_date(
    upstream_url, start_proxy, fresh_release, tmp_path
):
    with start_proxy(upstream_url) as proxy:
        response = httpx.get(f"{proxy.url}/files/demo-pkg/{NEW_WHEEL}")
        metadata = httpx.get(f"{proxy.url}/files/demo-pkg/{NEW_WHEEL}.metadata")
        pip = run_pip(
            proxy.index_url,
            f"{proxy.url}/files/demo-pkg/{NEW_WHEEL}",
            "--no-deps",
            target=tmp_path / "t",
        )
    assert response.status_code == metadata.status_code == 403
    assert response.reason_phrase.startswith("Quarantine by release-age: uploaded 2 h ago")
    assert "available from" in response.reason_phrase
    assert response.headers["x-pipgate-policy"] == "release-age"
    assert "becomes available by itself" in response.text
    assert pip.returncode != 0
    assert "Quarantine by release-age" in pip.stderr + pip.stdout


def test_release_appears_by_itself_when_it_comes_of_age(
    upstream, upstream_url, start_proxy, fresh_release
):
    now = [datetime.now(UTC)]
    with start_proxy(upstream_url, clock=lambda: now[0]) as proxy:
        before = httpx.get(f"{proxy.index_url}demo-pkg/?format=json").json()
        now[0] += timedelta(days=7, minutes=1)
        after = httpx.get(f"{proxy.index_url}demo-pkg/?format=json").json()
    assert NEW_WHEEL not in offered(before)
    assert NEW_WHEEL in offered(after)
    assert upstream.hits["/simple/demo-pkg/"] == 1  # no refetch was needed


def test_cached_file_does_not_get_around_a_later_decision(
    upstream, upstream_url, start_proxy, tmp_path
):
    data_dir = tmp_path / "data"
    with start_proxy(
        upstream_url, data_dir=data_dir, config={"policies": {"release_age": {"mode": "off"}}}
    ) as proxy:
        assert httpx.get(f"{proxy.url}/files/demo-pkg/{NEW_WHEEL}").status_code == 200
    upstream.file(NEW_WHEEL).upload_time = datetime.now(UTC) - timedelta(hours=1)
    with start_proxy(upstream_url, data_dir=data_dir, config={"cache": {"index_ttl": 0}}) as proxy:
        cached = httpx.get(f"{proxy.url}/files/demo-pkg/{NEW_WHEEL}")
    assert cached.status_code == 403


# -- typosquat --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/simple/coloarma/",
        "/simple/Coloarma/",
        "/simple/COLOARMA",
        "/simple/colo%61rma/",
        "/files/coloarma/coloarma-0.4.6-py3-none-any.whl",
        "/files/Coloarma/coloarma-0.4.6-py3-none-any.whl",
        "/files/coloarma/coloarma-0.4.6-py3-none-any.whl.metadata",
    ],
)
def test_typosquat_is_refused_on_every_path_and_spelling(
    upstream_url, start_proxy, typosquat, path
):
    with start_proxy(upstream_url) as proxy:
        for accept in (JSON, "text/html"):
            response = httpx.get(
                proxy.url + path, headers={"Accept": accept}, follow_redirects=True
            )
            # A refused project page is a 451 (uv and poetry print its reason), a file 403.
            expected = 451 if path.startswith("/simple/") else 403
            assert response.status_code == expected, (path, accept)
            assert "typosquat" in response.reason_phrase
            assert "colorama" in response.reason_phrase


def test_typosquat_page_carries_pep_792_quarantined_status(upstream_url, start_proxy, typosquat):
    with start_proxy(upstream_url) as proxy:
        page = httpx.get(f"{proxy.index_url}coloarma/", headers={"Accept": JSON})
        html = httpx.get(f"{proxy.index_url}coloarma/")
    assert page.status_code == html.status_code == 451
    status = page.json()["project-status"]
    assert status["status"] == "quarantined"
    assert "imitates popular project 'colorama'" in status["reason"]
    assert page.json()["files"] == []
    assert '<meta name="pypi:project-status" content="quarantined">' in html.text
    assert "coloarma-0.4.6" not in html.text


def test_pip_and_uv_cannot_install_a_typosquat(upstream_url, start_proxy, typosquat, tmp_path):
    with start_proxy(upstream_url) as proxy:
        pip = run_pip(proxy.index_url, "coloarma", target=tmp_path / "pip")
        uv = run_uv(proxy.index_url, "coloarma", target=tmp_path / "uv")
        metrics = httpx.get(f"{proxy.url}/metrics").text
    assert pip.returncode != 0 and uv.returncode != 0
    assert not installed(tmp_path / "pip")
    # uv prints the reason phrase of a 451 (of a 403 it only blames the credentials).
    assert "451" in uv.stderr and "imitates popular project 'colorama'" in uv.stderr
    assert 'policy="typosquat"' in metrics


def test_typosquat_in_dry_run_is_served_but_logged(upstream_url, start_proxy, typosquat, tmp_path):
    config = {"policies": {"typosquat": {"mode": "dry-run"}, "release_age": {"mode": "off"}}}
    with start_proxy(upstream_url, config=config) as proxy:
        pip = run_pip(proxy.index_url, "coloarma", target=tmp_path / "t")
        decisions = _decisions(proxy)
    assert pip.returncode == 0, pip.stderr
    assert any(d["policy"] == "typosquat" and d["mode"] == "dry-run" for d in decisions)


# -- allowlist, denylist, dependency confusion, named indexes ------------------------------------


def test_allowlist_block_mode_with_version_specifiers(upstream_url, start_proxy, tmp_path):
    config = {
        "policies": {"allowlist": {"mode": "block", "projects": ["demo-pkg<1.1", "demo-dep"]}}
    }
    with start_proxy(upstream_url, config=config) as proxy:
        unlisted = httpx.get(f"{proxy.index_url}demo-yanked/")
        page = httpx.get(f"{proxy.index_url}demo-pkg/?format=json").json()
        pip = run_pip(proxy.index_url, "demo-pkg", target=tmp_path / "t")
    assert unlisted.status_code == 451
    assert "allowlist" in unlisted.reason_phrase
    assert {f["filename"].split("-")[1] for f in page["files"]} == {"1.0.0.tar.gz", "1.0.0"}
    assert pip.returncode == 0, pip.stderr
    assert installed(tmp_path / "t") == {"demo-pkg==1.0.0", "demo-dep==0.2.0"}


def test_internal_names_are_never_requested_upstream(upstream, upstream_url, start_proxy):
    config = {"policies": {"dependency_confusion": {"internal": ["demo-*"]}}}
    with start_proxy(upstream_url, config=config) as proxy:
        page = httpx.get(f"{proxy.index_url}demo-pkg/")
        file = httpx.get(f"{proxy.url}/files/demo-pkg/{NEW_WHEEL}")
    assert (page.status_code, file.status_code) == (451, 403)
    assert "internal project name" in page.reason_phrase
    assert upstream.hits["/simple/demo-pkg/"] == 0


def test_named_index_applies_its_own_policies_over_one_cache(upstream, upstream_url, start_proxy):
    config = {"indexes": {"strict": {"policies": {"release_age": {"min_age": "2000d"}}}}}
    with start_proxy(upstream_url, config=config) as proxy:
        relaxed = httpx.get(f"{proxy.url}/simple/demo-pkg/?format=json").json()
        strict = httpx.get(f"{proxy.url}/strict/simple/demo-pkg/?format=json").json()
        strict_file = httpx.get(f"{proxy.url}/strict/files/demo-pkg/{NEW_WHEEL}")
    assert len(relaxed["files"]) == 4
    assert offered(strict) == set()
    assert strict_file.status_code == 403
    assert upstream.hits["/simple/demo-pkg/"] == 1


def test_explicit_allow_overrides_release_age_where_configured(
    upstream_url, start_proxy, fresh_release
):
    config = {"policies": {"allowlist": {"projects": ["demo-pkg"], "overrides": ["release-age"]}}}
    with start_proxy(upstream_url, config=config) as proxy:
        page = httpx.get(f"{proxy.index_url}demo-pkg/?format=json").json()
    assert NEW_WHEEL in {f["filename"] for f in page["files"]}


def test_policy_check_online_consults_upstream(upstream_url, fresh_release, typosquat, tmp_path):
    from click.testing import CliRunner

    from pipgate.proxy.cli.main import main

    result = CliRunner().invoke(
        main,
        [
            "policy",
            "check",
            "--online",
            "--format",
            "json",
            "demo-pkg==1.1.0",
            "demo-pkg==1.0.0",
            "coloarma",
        ],
        env={"PIPGATE_UPSTREAM": upstream_url, "PIPGATE_DATA_DIR": str(tmp_path)},
    )
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 1
    assert (rows[0]["action"], rows[0]["policy"]) == ("quarantine", "release-age")
    assert "available from" in rows[0]["reason"]
    assert rows[0]["files_held"] == rows[0]["files_total"] == 2
    assert rows[1]["action"] == "allow"
    assert (rows[2]["action"], rows[2]["policy"]) == ("quarantine", "typosquat")


def test_decision_log_names_the_address_the_trusted_proxy_saw(upstream_url, start_proxy, typosquat):
    with start_proxy(upstream_url, config={"server": {"trust_forwarded": True}}) as proxy:
        httpx.get(f"{proxy.index_url}coloarma/", headers={"X-Forwarded-For": "6.6.6.6, 10.1.2.3"})
        decisions = _decisions(proxy)
    assert {d["client"] for d in decisions} == {"10.1.2.3"}


def test_refusals_say_blocked_not_blockd(http, upstream_url, start_proxy):
    config = {"policies": {"allowlist": {"deny": ["demo-dep"]}}}
    with start_proxy(upstream_url, config=config) as proxy:
        refused = http.get(f"{proxy.url}/files/demo-dep/demo_dep-0.1.0.tar.gz")
    assert refused.status_code == 403
    assert "project 'demo-dep' is blocked by policy 'allowlist'" in refused.text
