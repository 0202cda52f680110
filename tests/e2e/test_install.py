"""Real pip and uv install through pipgate from a fake upstream on a real port."""

from __future__ import annotations

import httpx

from tests.support.installers import installed, run_pip, run_uv


def test_pip_installs_a_project_and_its_dependency(upstream, upstream_url, start_proxy, tmp_path):
    with start_proxy(upstream_url) as proxy:
        result = run_pip(proxy.index_url, "demo-pkg", target=tmp_path / "t")
    assert result.returncode == 0, result.stderr
    assert installed(tmp_path / "t") == {"demo-pkg==1.1.0", "demo-dep==0.2.0"}
    # Every byte came through the proxy: upstream saw the proxy fetch each wheel once.
    wheel = "demo_pkg-1.1.0-py3-none-any.whl"
    assert upstream.hits[upstream.file_path(wheel)] == 1


def test_uv_installs_through_the_proxy(upstream, upstream_url, start_proxy, tmp_path):
    with start_proxy(upstream_url) as proxy:
        result = run_uv(proxy.index_url, "demo-pkg==1.0.0", target=tmp_path / "t")
    assert result.returncode == 0, result.stderr
    assert installed(tmp_path / "t") == {"demo-pkg==1.0.0", "demo-dep==0.2.0"}


def test_pip_builds_an_sdist_fetched_through_the_proxy(upstream_url, start_proxy, tmp_path):
    with start_proxy(upstream_url) as proxy:
        result = run_pip(
            proxy.index_url,
            "--no-binary",
            ":all:",
            "--no-deps",
            "demo-dep==0.1.0",
            target=tmp_path / "t",
        )
    assert result.returncode == 0, result.stderr
    assert installed(tmp_path / "t") == {"demo-dep==0.1.0"}


def test_html_only_upstream_works_for_pip_and_uv(dists_dir, start_proxy, tmp_path):
    from tests.support.fake_upstream import create_fake_upstream, standard_projects

    upstream = create_fake_upstream(standard_projects(dists_dir), json_enabled=False)
    with (
        upstream.serve() as url,
        start_proxy(
            url,
            config={
                # an HTML page carries no upload times: judge them as old for this test
                "policies": {"release_age": {"unknown_upload_time": "allow"}},
            },
        ) as proxy,
    ):
        pip = run_pip(proxy.index_url, "demo-pkg==1.0.0", target=tmp_path / "pip")
        uv = run_uv(proxy.index_url, "demo-pkg==1.0.0", target=tmp_path / "uv")
    assert pip.returncode == 0, pip.stderr
    assert uv.returncode == 0, uv.stderr
    assert "demo-pkg==1.0.0" in installed(tmp_path / "pip") & installed(tmp_path / "uv")


def test_served_pages_point_only_at_the_proxy(upstream_url, start_proxy):
    with start_proxy(upstream_url) as proxy:
        for accept in ("application/vnd.pypi.simple.v1+json", "text/html"):
            page = httpx.get(f"{proxy.index_url}demo-pkg/", headers={"Accept": accept})
            assert page.status_code == 200
            upstream_host = upstream_url.split("/simple/")[0]
            assert upstream_host not in page.text
            assert "/packages/" not in page.text
        data = httpx.get(f"{proxy.index_url}demo-pkg/?format=json").json()
    urls = [httpx.URL(f"{proxy.index_url}demo-pkg/").join(f["url"]) for f in data["files"]]
    assert {u.host for u in urls} == {"127.0.0.1"}
    assert all(u.path.startswith("/files/demo-pkg/") for u in urls)


def test_pep_658_metadata_from_upstream_and_extracted_from_cached_wheels(upstream_url, start_proxy):
    with start_proxy(upstream_url) as proxy:
        page = httpx.get(f"{proxy.index_url}demo-pkg/?format=json").json()
        wheel = next(f for f in page["files"] if f["filename"].endswith(".whl"))
        assert wheel["core-metadata"] == wheel["dist-info-metadata"]
        meta_url = httpx.URL(f"{proxy.index_url}demo-pkg/").join(
            wheel["url"].split("#")[0] + ".metadata"
        )
        metadata = httpx.get(meta_url)
        assert metadata.status_code == 200
        assert b"Name: demo-pkg" in metadata.content
        import hashlib

        assert hashlib.sha256(metadata.content).hexdigest() == wheel["core-metadata"]["sha256"]

        # demo-dep's upstream offers no metadata: none is advertised until the wheel is cached.
        dep = httpx.get(f"{proxy.index_url}demo-dep/?format=json").json()
        dep_wheel = next(
            f for f in dep["files"] if f["filename"].endswith("0.2.0-py3-none-any.whl")
        )
        assert "core-metadata" not in dep_wheel
        file_url = httpx.URL(f"{proxy.index_url}demo-dep/").join(dep_wheel["url"])
        assert httpx.get(file_url).status_code == 200
        dep = httpx.get(f"{proxy.index_url}demo-dep/?format=json").json()
        dep_wheel = next(f for f in dep["files"] if f["filename"] == dep_wheel["filename"])
        assert "sha256" in dep_wheel["core-metadata"]
        extracted = httpx.get(str(file_url).split("#")[0] + ".metadata")
        assert extracted.status_code == 200
        assert hashlib.sha256(extracted.content).hexdigest() == dep_wheel["core-metadata"]["sha256"]
