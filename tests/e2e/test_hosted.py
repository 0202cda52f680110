"""Hosted indexes end to end: the real twine and uv publish upload freshly built
distributions into pipgate, the real pip and uv install them through it, and an
internal name present both there and on the fake PyPI resolves only to the hosted one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pipgate.proxy.quarantine.auth import hash_token
from tests.support.dists import build_sdist, build_wheel
from tests.support.fake_upstream import FakeFile, FakeProject, create_fake_upstream
from tests.support.installers import UV, installed, run_pip, run_uv
from tests.support.servers import client_env

TWINE = Path(sys.executable).with_name("twine")
TOKEN = "pg_test-upload-token"
READER = "pg_test-read-token"
CONFIG = {
    "admin": {
        "tokens": [
            {"name": "ci", "sha256": hash_token(TOKEN), "scope": "upload"},
            {"name": "rita", "sha256": hash_token(READER), "scope": "read"},
        ]
    },
    "indexes": {
        "corp": {
            "hosted": True,
            "upload": ["ci"],
            "policies": {"release_age": {"exempt_hosted": True}},
        },
    },
    "policies": {"dependency_confusion": {"internal": ["acme-*"]}},
}


def twine_upload(url: str, *files: Path, password: str = TOKEN) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(TWINE),
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            url,
            *map(str, files),
        ],
        env=client_env(
            TWINE_USERNAME="__token__",
            TWINE_PASSWORD=password,
            NO_COLOR="1",
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def uv_publish(url: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(UV), "publish", "--publish-url", url, "--token", TOKEN, *map(str, files)],
        env=client_env(NO_COLOR="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def impostor(dists_dir: Path):
    """A fake PyPI that has acme-lib too, at a higher version: the dependency-confusion bait."""
    bait = dists_dir / "bait"
    return create_fake_upstream(
        [
            FakeProject("acme-lib", [FakeFile.from_path(build_wheel(bait, "acme-lib", "99.0.0"))]),
            FakeProject("demo-dep", [FakeFile.from_path(build_wheel(bait, "demo-dep", "0.2.0"))]),
        ]
    )


def test_twine_and_uv_publish_then_pip_and_uv_install(impostor, start_proxy, tmp_path):
    if not TWINE.exists():
        pytest.skip(f"twine is not installed beside {sys.executable} (pip install -e '.[test]')")
    dist = tmp_path / "dist"
    old = [
        build_wheel(dist / "1.0", "acme-lib", "1.0.0", requires=["demo-dep"]),
        build_sdist(dist / "1.0", "acme-lib", "1.0.0", requires=["demo-dep"]),
    ]
    new = [
        build_wheel(dist / "1.1", "acme-lib", "1.1.0", requires=["demo-dep"]),
        build_sdist(dist / "1.1", "acme-lib", "1.1.0", requires=["demo-dep"]),
    ]
    with impostor.serve() as upstream_url, start_proxy(upstream_url, config=CONFIG) as proxy:
        upload_url = f"{proxy.url}/corp/"
        by_twine = twine_upload(upload_url, *old)
        by_uv = uv_publish(upload_url, *new)
        again = twine_upload(upload_url, old[0])
        stranger = twine_upload(upload_url, new[0], password="pg_not-a-token")
        index = f"{proxy.url}/corp/simple/"
        pip = run_pip(index, "acme-lib", target=tmp_path / "pip")
        uv = run_uv(index, "acme-lib==1.0.0", target=tmp_path / "uv")
        page = httpx.get(
            f"{index}acme-lib/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        ).json()
        listing = httpx.get(index, headers={"Accept": "application/vnd.pypi.simple.v1+json"}).json()
        wheel = next(f for f in page["files"] if f["filename"].endswith("1.1.0-py3-none-any.whl"))
        metadata = httpx.get(
            httpx.URL(f"{index}acme-lib/")
            .join(wheel["url"])
            .copy_with(fragment=None)
            .join(wheel["filename"] + ".metadata")
        )

    assert by_twine.returncode == 0, by_twine.stdout + by_twine.stderr
    assert by_uv.returncode == 0, by_uv.stdout + by_uv.stderr
    # A published file is never replaced; twine prints the reason phrase.
    assert again.returncode != 0
    assert (
        "409" in again.stdout + again.stderr
        and "File already exists" in again.stdout + again.stderr
    )
    assert stranger.returncode != 0 and "401" in stranger.stdout + stranger.stderr

    assert pip.returncode == 0, pip.stderr
    assert installed(tmp_path / "pip") == {"acme-lib==1.1.0", "demo-dep==0.2.0"}
    assert uv.returncode == 0, uv.stderr
    assert installed(tmp_path / "uv") == {"acme-lib==1.0.0", "demo-dep==0.2.0"}

    # Every Simple API field: versions, sizes, upload times, hashes, requires-python, PEP 658.
    assert page["versions"] == ["1.0.0", "1.1.0"]
    assert {f["filename"] for f in page["files"]} == {p.name for p in (*old, *new)}
    assert all(f["size"] > 0 and f["upload-time"] and f["hashes"]["sha256"] for f in page["files"])
    assert metadata.status_code == 200 and b"Name: acme-lib" in metadata.content
    import hashlib

    assert hashlib.sha256(metadata.content).hexdigest() == wheel["core-metadata"]["sha256"]
    assert "acme-lib" in {p["name"] for p in listing["projects"]}
    # The internal name never reached the public upstream, whose 99.0.0 was never offered.
    assert not [r for r in impostor.requests if "acme" in r.path]


def post_upload(base: str, path: Path, token: str = TOKEN) -> httpx.Response:
    """The legacy upload API as twine speaks it, from httpx."""
    import hashlib

    data = path.read_bytes()
    name, version = path.name.split("-")[:2]
    return httpx.post(
        base,
        auth=("__token__", token),
        data={
            ":action": "file_upload",
            "protocol_version": "1",
            "name": name,
            "version": version.removesuffix(".tar.gz"),
            "filetype": "bdist_wheel" if path.name.endswith(".whl") else "sdist",
            "sha256_digest": hashlib.sha256(data).hexdigest(),
        },
        files={"content": (path.name, data, "application/octet-stream")},
    )


def test_internal_names_resolve_only_from_hosted_and_private_sources(
    impostor, dists_dir, start_proxy, tmp_path
):
    bait = dists_dir / "bait"
    impostor.add(
        FakeProject("acme-util", [FakeFile.from_path(build_wheel(bait, "acme-util", "99.0.0"))])
    )
    impostor.add(
        FakeProject("acme-other", [FakeFile.from_path(build_wheel(bait, "acme-other", "99.0.0"))])
    )
    impostor.add(
        FakeProject("corp-tool", [FakeFile.from_path(build_wheel(bait, "corp-tool", "99.0.0"))])
    )
    impostor.add(FakeProject("zeta", [FakeFile.from_path(build_wheel(bait, "zeta", "1.0.0"))]))
    mirror = create_fake_upstream(
        [
            FakeProject(
                "acme-util",
                [FakeFile.from_path(build_wheel(dists_dir / "mirror", "acme-util", "2.0.0"))],
            )
        ]
    )
    mirror.project_modes["zeta"] = "5xx"
    config = {
        **CONFIG,
        "indexes": {
            **CONFIG["indexes"],
            "default": {"sources": ["corp", "mirror", "pypi"]},
        },
        "policies": {**CONFIG["policies"], "release_age": {"exempt_hosted": True}},
    }
    built = tmp_path / "dist"
    with mirror.serve() as mirror_url, impostor.serve() as upstream_url:
        config["upstreams"] = {"mirror": {"url": mirror_url, "retries": 0}}
        with start_proxy(upstream_url, config=config) as proxy:
            for path in (
                build_wheel(built, "acme-lib", "1.0.0"),
                build_wheel(built, "corp-tool", "1.0.0"),
            ):
                assert post_upload(f"{proxy.url}/corp/", path).status_code == 200
            pip = run_pip(proxy.index_url, "acme-lib", "acme-util", target=tmp_path / "pip")
            uv = run_uv(
                proxy.index_url, "acme-lib", "acme-util", "corp-tool", target=tmp_path / "uv"
            )
            json_ = {"Accept": "application/vnd.pypi.simple.v1+json"}
            tool = httpx.get(f"{proxy.index_url}corp-tool/", headers=json_).json()
            other = httpx.get(f"{proxy.index_url}acme-other/")
            zeta = httpx.get(f"{proxy.index_url}zeta/")
            listing = {
                p["name"] for p in httpx.get(proxy.index_url, headers=json_).json()["projects"]
            }
            checked = httpx.get(
                f"{proxy.url}/-/admin/check",
                params={"requirement": ["acme-lib", "acme-other"], "online": "1"},
                headers={"Authorization": f"Bearer {READER}"},
            ).json()["results"]

    assert pip.returncode == 0, pip.stderr
    assert installed(tmp_path / "pip") == {"acme-lib==1.0.0", "acme-util==2.0.0"}
    assert uv.returncode == 0, uv.stderr
    assert installed(tmp_path / "uv") == {"acme-lib==1.0.0", "acme-util==2.0.0", "corp-tool==1.0.0"}
    # The first source that has a name serves it alone: no 99.0.0 merged in.
    assert tool["versions"] == ["1.0.0"]
    # An internal name no private source has keeps its refusal, and is never asked of PyPI.
    assert other.status_code == 451 and other.headers["x-pipgate-policy"] == "dependency-confusion"
    # A private source that fails fails the request: no falling through to PyPI.
    assert zeta.status_code == 502
    assert {"acme-lib", "acme-util", "corp-tool"} <= listing
    # policy check --online --url gives the server's own answer for internal names too.
    assert [(r["name"], r["action"], r["policy"]) for r in checked] == [
        ("acme-lib", "allow", "default"),
        ("acme-other", "block", "dependency-confusion"),
    ]
    assert not [r.path for r in impostor.requests if "acme" in r.path or "zeta" in r.path]
    assert impostor.hits["/simple/corp-tool/"] == 0
    assert mirror.hits["/simple/acme-util/"] >= 1
