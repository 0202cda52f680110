"""Tests of the test support: real dists, real clients, the fake upstream's knobs."""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.dists import build_sdist, build_wheel, sha256_of, wheel_metadata
from tests.support.fake_upstream import (
    HTML_V1,
    JSON_V1,
    FakeFile,
    FakeProject,
    FakeUpstream,
    create_fake_upstream,
    generated_big_project,
    standard_projects,
)
from tests.support.servers import client_env, run_app, run_process

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
UV = str(VENV_BIN / "uv")


# --- dists -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "kwargs", "filename"),
    [
        ("demo-pkg", "1.0", {}, "demo_pkg-1.0-py3-none-any.whl"),
        ("Demo.Pkg", "1.0.0", {"requires": ["demo-dep>=1"]}, "demo_pkg-1.0.0-py3-none-any.whl"),
        ("x", "2.0rc1", {"requires_python": ">=3.8,<4"}, "x-2.0rc1-py3-none-any.whl"),
        ("pad", "1", {"size_padding": 50_000}, "pad-1-py3-none-any.whl"),
        ("mods", "1", {"modules": {"mods/extra.py": "X = 1\n"}}, "mods-1-py3-none-any.whl"),
    ],
)
def test_build_wheel_is_valid_and_deterministic(
    tmp_path: Path, name: str, version: str, kwargs: dict, filename: str
) -> None:
    first = build_wheel(tmp_path / "a", name, version, **kwargs)
    second = build_wheel(tmp_path / "b", name, version, **kwargs)
    assert first.name == filename
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        names = zf.namelist()
        record_name = next(n for n in names if n.endswith(".dist-info/RECORD"))
        rows = list(csv.reader(io.StringIO(zf.read(record_name).decode())))
        assert {row[0] for row in rows} == set(names)
        for path, digest, size in rows:
            if path == record_name:
                continue
            data = zf.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode()
            assert int(size) == len(data)
    if "size_padding" in kwargs:
        assert first.stat().st_size > kwargs["size_padding"]


def test_wheel_metadata_carries_requirements(tmp_path: Path) -> None:
    wheel = build_wheel(
        tmp_path, "demo-pkg", "1.0", requires=["demo-dep>=0.1"], requires_python=">=3.8"
    )
    metadata = wheel_metadata(wheel).decode()
    assert "Name: demo-pkg\n" in metadata
    assert "Requires-Dist: demo-dep>=0.1\n" in metadata
    assert "Requires-Python: >=3.8\n" in metadata


def test_build_sdist_is_deterministic_and_self_contained(tmp_path: Path) -> None:
    first = build_sdist(tmp_path / "a", "demo-pkg", "1.0", requires=["demo-dep"])
    second = build_sdist(tmp_path / "b", "demo-pkg", "1.0", requires=["demo-dep"])
    assert first.name == "demo_pkg-1.0.tar.gz"
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tf:
        names = set(tf.getnames())
        member = tf.extractfile("demo_pkg-1.0/pyproject.toml")
        assert member is not None
        pyproject = member.read().decode()
    assert {
        "demo_pkg-1.0/PKG-INFO",
        "demo_pkg-1.0/backend.py",
        "demo_pkg-1.0/demo_pkg/__init__.py",
    } <= names
    assert "requires = []" in pyproject


def _uv_venv(path: Path) -> Path:
    subprocess.run([UV, "venv", "-q", str(path)], check=True, env=client_env())
    return path / "bin" / "python"


def _import_versions(python: Path, *modules: str) -> list[str]:
    code = (
        "import sys, importlib as il\nfor m in sys.argv[1:]: print(il.import_module(m).__version__)"
    )
    out = subprocess.run(
        [str(python), "-c", code, *modules], check=True, capture_output=True, text=True
    )
    return out.stdout.split()


@pytest.mark.parametrize("no_binary", [False, True], ids=["wheel", "sdist"])
def test_uv_installs_from_a_directory(tmp_path: Path, no_binary: bool) -> None:
    dists = tmp_path / "dists"
    for name, requires in [("demo-pkg", ["demo-dep>=0.1"]), ("demo-dep", [])]:
        build_wheel(dists, name, "1.0", requires=requires)
        build_sdist(dists, name, "1.0", requires=requires)
    python = _uv_venv(tmp_path / "venv")
    argv = [UV, "pip", "install", "--python", str(python), "--no-cache", "--no-index"]
    argv += ["--find-links", str(dists), "demo-pkg"]
    if no_binary:
        argv += ["--no-binary", ":all:"]
    subprocess.run(argv, check=True, env=client_env(), capture_output=True)
    assert _import_versions(python, "demo_pkg", "demo_dep") == ["1.0", "1.0"]


@pytest.mark.slow
@pytest.mark.parametrize("no_binary", [False, True], ids=["wheel", "sdist"])
def test_pip_installs_from_a_directory(tmp_path: Path, no_binary: bool) -> None:
    dists = tmp_path / "dists"
    build_wheel(dists, "demo-pkg", "1.0", requires=["demo-dep"])
    build_sdist(dists, "demo-pkg", "1.0", requires=["demo-dep"])
    build_wheel(dists, "demo-dep", "1.0")
    build_sdist(dists, "demo-dep", "1.0")
    python = _uv_venv(tmp_path / "venv")
    argv = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-cache-dir"]
    argv += ["--no-index", "--find-links", str(dists), "demo-pkg"]
    if no_binary:
        argv += ["--no-binary", ":all:"]
    subprocess.run(argv, check=True, env=client_env(), capture_output=True)
    assert _import_versions(python, "demo_pkg", "demo_dep") == ["1.0", "1.0"]


# --- fake upstream -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeUpstream, str]]:
    projects = standard_projects(tmp_path_factory.mktemp("dists"))
    projects.append(generated_big_project("big-project", 10_000))
    upstream = create_fake_upstream(
        projects, hang_seconds=5.0, slow_chunk_size=256, slow_chunk_delay=0.01
    )
    with upstream.serve() as index_url:
        yield upstream, index_url


@pytest.fixture
def upstream(served: tuple[FakeUpstream, str]) -> Iterator[FakeUpstream]:
    fake, _ = served
    fake.reset_hits()
    yield fake
    fake.heal()
    fake.json_enabled = True
    fake.last_modified = False


@pytest.fixture
def index_url(served: tuple[FakeUpstream, str]) -> str:
    return served[1]


@pytest.mark.parametrize(
    ("accept", "json_enabled", "content_type"),
    [
        (JSON_V1, True, JSON_V1),
        (None, True, "text/html; charset=utf-8"),
        ("text/html", True, "text/html; charset=utf-8"),
        (HTML_V1, True, HTML_V1),
        (f"{JSON_V1}, {HTML_V1};q=0.2, text/html;q=0.01", True, JSON_V1),
        (f"{JSON_V1};q=0.1, text/html", True, "text/html; charset=utf-8"),
        ("*/*", True, "text/html; charset=utf-8"),
        (JSON_V1, False, "text/html; charset=utf-8"),
    ],
)
def test_content_negotiation(
    http: httpx.Client,
    upstream: FakeUpstream,
    index_url: str,
    accept: str | None,
    json_enabled: bool,
    content_type: str,
) -> None:
    upstream.json_enabled = json_enabled
    headers = {"Accept": accept} if accept else {}
    for path in ("", "demo-pkg/"):
        response = http.get(index_url + path, headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type


def test_json_page_promises_the_real_bytes(upstream: FakeUpstream, index_url: str) -> None:
    with httpx.Client(trust_env=False) as client:
        page = client.get(index_url + "demo-pkg/", headers={"Accept": JSON_V1}).json()
        assert page["meta"]["api-version"] == "1.1"
        assert page["versions"] == ["1.0.0", "1.1.0"]
        assert len(page["files"]) == 4
        for entry in page["files"]:
            data = client.get(entry["url"]).content
            assert hashlib.sha256(data).hexdigest() == entry["hashes"]["sha256"]
            assert len(data) == entry["size"]
            assert entry["upload-time"].endswith("Z")
            if entry["filename"].endswith(".whl"):
                metadata = client.get(entry["url"] + ".metadata").content
                assert entry["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
                assert b"Requires-Dist: demo-dep" in metadata
            else:
                assert entry["core-metadata"] is False
        newest = next(
            e for e in page["files"] if e["filename"] == "demo_pkg-1.1.0-py3-none-any.whl"
        )
        assert newest["requires-python"] == ">=3.8,<4"


def test_html_page_follows_pep_503(
    http: httpx.Client, upstream: FakeUpstream, index_url: str
) -> None:
    html = http.get(index_url + "demo-pkg/").text
    wheel = upstream.file("demo_pkg-1.1.0-py3-none-any.whl")
    assert f"{wheel.url_path}#sha256={wheel.sha256}" in html
    assert 'data-requires-python="&gt;=3.8,&lt;4"' in html
    assert 'data-core-metadata="sha256=' in html and "data-dist-info-metadata=" in html
    yanked = http.get(index_url + "demo-yanked/").text
    assert 'data-yanked="broken build"' in yanked
    assert 'data-yanked=""' in yanked


@pytest.mark.parametrize(
    ("project", "field", "expected"),
    [
        ("demo-yanked", "yanked", [False, "broken build", True]),
        ("demo-dep", "core-metadata", [False, False, False, False]),
    ],
)
def test_json_file_fields(
    http: httpx.Client, index_url: str, project: str, field: str, expected: list
) -> None:
    page = http.get(index_url + project + "/", headers={"Accept": JSON_V1}).json()
    assert [entry[field] for entry in page["files"]] == expected


def test_project_status_and_index(http: httpx.Client, index_url: str) -> None:
    page = http.get(index_url + "demo-archived/", headers={"Accept": JSON_V1}).json()
    assert page["meta"]["api-version"] == "1.4"
    assert page["project-status"] == {"status": "archived", "reason": "superseded by demo-pkg"}
    assert (
        '<meta name="pypi:project-status" content="archived">'
        in http.get(index_url + "demo-archived/").text
    )
    names = [p["name"] for p in http.get(index_url, headers={"Accept": JSON_V1}).json()["projects"]]
    assert {"demo-pkg", "demo-dep", "demo-yanked", "demo-archived", "big-project"} <= set(names)
    assert 'href="/simple/demo-pkg/"' in http.get(index_url).text


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("demo-pkg", "/simple/demo-pkg/"),
        ("Demo_Pkg/", "/simple/demo-pkg/"),
        ("Demo.PKG", "/simple/demo-pkg/"),
    ],
)
def test_redirects_to_the_normalized_slash_url(
    http: httpx.Client, index_url: str, path: str, location: str
) -> None:
    response = http.get(index_url + path)
    assert response.status_code == 301
    assert response.headers["location"] == location


def test_etag_and_last_modified_revalidation(
    http: httpx.Client, upstream: FakeUpstream, index_url: str
) -> None:
    upstream.last_modified = True
    first = http.get(index_url + "demo-pkg/")
    assert first.headers["last-modified"] == "Sun, 10 Mar 2024 00:00:00 GMT"
    again = http.get(index_url + "demo-pkg/", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    since = http.get(
        index_url + "demo-pkg/", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert since.status_code == 304
    as_json = http.get(
        index_url + "demo-pkg/", headers={"Accept": JSON_V1, "If-None-Match": first.headers["etag"]}
    )
    assert as_json.status_code == 200, "JSON and HTML are different representations"
    upstream.file("demo_pkg-1.0.0.tar.gz").yanked = "changed"
    try:
        changed = http.get(
            index_url + "demo-pkg/", headers={"If-None-Match": first.headers["etag"]}
        )
        assert changed.status_code == 200
    finally:
        upstream.file("demo_pkg-1.0.0.tar.gz").yanked = False


@pytest.mark.parametrize(
    ("scope", "mode", "status"),
    [
        ("global", "5xx", 503),
        ("global", "404", 404),
        ("project", "5xx", 503),
        ("project", "404", 404),
        ("project", "garbage", 200),
    ],
)
def test_page_failure_modes(
    http: httpx.Client, upstream: FakeUpstream, index_url: str, scope: str, mode: str, status: int
) -> None:
    if scope == "global":
        upstream.mode = mode  # type: ignore[assignment]
    else:
        upstream.project_modes["demo-pkg"] = mode  # type: ignore[assignment]
    assert http.get(index_url + "demo-pkg/").status_code == status
    assert http.get(index_url + "demo-dep/").status_code == (status if scope == "global" else 200)
    upstream.heal()
    assert http.get(index_url + "demo-pkg/").status_code == 200


def test_garbage_is_not_parseable(
    http: httpx.Client, upstream: FakeUpstream, index_url: str
) -> None:
    upstream.mode = "garbage"
    as_json = http.get(index_url + "demo-pkg/", headers={"Accept": JSON_V1})
    assert as_json.headers["content-type"] == JSON_V1
    with pytest.raises(ValueError):
        as_json.json()
    as_html = http.get(index_url + "demo-pkg/")
    assert b"<a " not in as_html.content


def test_timeout_hangs_until_the_client_gives_up(
    http: httpx.Client, upstream: FakeUpstream, index_url: str
) -> None:
    upstream.project_modes["demo-pkg"] = "timeout"
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.get(index_url + "demo-pkg/", timeout=0.3)
    assert time.monotonic() - started < 2
    upstream.heal()
    assert http.get(index_url + "demo-pkg/", timeout=2).status_code == 200


def test_file_failure_modes(http: httpx.Client, upstream: FakeUpstream, index_url: str) -> None:
    wheel = upstream.file("demo_pkg-1.0.0-py3-none-any.whl")
    url = index_url.removesuffix("/simple/") + wheel.url_path
    real = http.get(url).content
    assert hashlib.sha256(real).hexdigest() == wheel.sha256

    upstream.file_modes[wheel.filename] = "corrupt"
    corrupt = http.get(url).content
    assert len(corrupt) == len(real) and corrupt != real

    upstream.file_modes[wheel.filename] = "truncate"
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(url)

    upstream.file_modes[wheel.filename] = "slow"
    started = time.monotonic()
    assert http.get(url).content == real
    assert time.monotonic() - started >= 0.03

    upstream.file_modes[wheel.filename + ".metadata"] = "5xx"
    assert http.get(url + ".metadata").status_code == 503
    upstream.heal()
    assert http.get(url + ".metadata").status_code == 200


def test_hits_count_each_path(http: httpx.Client, upstream: FakeUpstream, index_url: str) -> None:
    for _ in range(3):
        http.get(index_url + "demo-dep/")
    http.get(index_url + "demo-pkg", follow_redirects=True)
    hits = upstream.hits
    assert hits["/simple/demo-dep/"] == 3
    assert hits["/simple/demo-pkg"] == 1 and hits["/simple/demo-pkg/"] == 1
    assert hits["/simple/never/"] == 0
    assert upstream.requests[-1].path == "/simple/demo-pkg/"


def test_big_project_page(http: httpx.Client, upstream: FakeUpstream, index_url: str) -> None:
    page = http.get(index_url + "big-project/", headers={"Accept": JSON_V1}).json()
    assert len(page["files"]) == 10_000
    assert len(page["versions"]) > 100
    assert len({entry["hashes"]["sha256"] for entry in page["files"]}) == 10_000
    assert any(entry["filename"].endswith("win_amd64.whl") for entry in page["files"])
    assert http.get(page["files"][0]["url"]).status_code == 404  # phantom: no bytes


def test_files_and_relative_urls_in_a_fresh_upstream(http: httpx.Client, tmp_path: Path) -> None:
    data = b"not really a wheel"
    project = FakeProject("tiny", [FakeFile.from_bytes("tiny-1.0-py3-none-any.whl", data)])
    fake = create_fake_upstream([project], relative_urls=True)
    with fake.serve() as index_url:
        page = http.get(index_url + "tiny/", headers={"Accept": JSON_V1}).json()
        url = page["files"][0]["url"]
        assert url.startswith("../../packages/")
        assert http.get(httpx.URL(index_url + "tiny/").join(url)).content == data


def test_uv_installs_through_the_fake_upstream(
    tmp_path: Path, upstream: FakeUpstream, index_url: str
) -> None:
    python = _uv_venv(tmp_path / "venv")
    argv = [
        UV,
        "pip",
        "install",
        "--python",
        str(python),
        "--no-cache",
        "--index-url",
        index_url,
        "demo-pkg",
    ]
    subprocess.run(argv, check=True, env=client_env(), capture_output=True)
    assert _import_versions(python, "demo_pkg", "demo_dep") == ["1.1.0", "0.2.0"]
    assert upstream.hits["/simple/demo-dep/"] >= 1


# --- servers and CLI ---------------------------------------------------------------------


def test_run_app_binds_a_real_port(http: httpx.Client) -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    with run_app(app) as base:
        assert not base.endswith(":0")
        assert http.get(base).text == "ok"
    with pytest.raises(httpx.ConnectError):
        http.get(base)


def test_run_app_stops_with_its_lifespan_and_cuts_off_a_hanging_request(
    http: httpx.Client,
) -> None:
    lifespan: list[str] = []
    hanging = threading.Event()

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                lifespan.append(message["type"])
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        if scope["path"] == "/hang":
            hanging.set()
            await asyncio.sleep(60)  # a request that never ends
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    outcome: list[object] = []

    def hang(base: str) -> None:
        try:
            outcome.append(httpx.get(base + "/hang", timeout=30))
        except httpx.HTTPError as exc:
            outcome.append(exc)

    with run_app(app) as base:
        assert http.get(base).text == "ok"  # an idle keep-alive connection stays open
        client = threading.Thread(target=hang, args=(base,))
        client.start()
        assert hanging.wait(5)
    client.join(30)
    assert lifespan == ["lifespan.startup", "lifespan.shutdown"]
    # Cut off after the graceful second: uvicorn answers what never started answering 500.
    (cut_off,) = outcome
    assert isinstance(cut_off, httpx.Response) and cut_off.status_code == 500, cut_off


def test_cli_serves_the_standard_scenario(http: httpx.Client, tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "tests.support.fake_upstream", "--scenario", "standard"]
    argv += ["--data-dir", str(tmp_path)]
    with run_process(
        argv, url_line_prefix="FAKE_UPSTREAM_URL=", cwd=REPO, env=client_env()
    ) as proc:
        assert proc.url.endswith("/simple/")
        page = http.get(proc.url + "demo-pkg/", headers={"Accept": JSON_V1}).json()
        wheel = page["files"][0]
        assert sha256_of(tmp_path / "v1" / wheel["filename"]) == wheel["hashes"]["sha256"]
    assert proc.popen.poll() is not None


@pytest.mark.slow
def test_cli_bench_scenario_installs_the_requirement_set(
    http: httpx.Client, tmp_path: Path
) -> None:
    argv = [sys.executable, "-m", "tests.support.fake_upstream", "--scenario", "bench"]
    argv += ["--data-dir", str(tmp_path / "data")]
    with run_process(
        argv, url_line_prefix="FAKE_UPSTREAM_URL=", cwd=REPO, env=client_env()
    ) as proc:
        huge = http.get(proc.url + "bench-huge/", headers={"Accept": JSON_V1}).json()
        assert len(huge["files"]) == 10_000
        big = http.get(proc.url + "big-wheel/", headers={"Accept": JSON_V1}).json()
        assert big["files"][0]["size"] > 30 * 1024 * 1024
        python = _uv_venv(tmp_path / "venv")
        argv = [
            UV,
            "pip",
            "install",
            "--python",
            str(python),
            "--no-cache",
            "--index-url",
            proc.url,
        ]
        subprocess.run(
            [*argv, "bench-app", "bench-huge", "big-wheel"],
            check=True,
            env=client_env(),
            capture_output=True,
        )
        listed = subprocess.run(
            [UV, "pip", "list", "--python", str(python)],
            check=True,
            env=client_env(),
            capture_output=True,
            text=True,
        ).stdout
        assert listed.count("bench-") >= 25


@pytest.mark.slow
@pytest.mark.parametrize("json_enabled", [True, False], ids=["json", "html-only"])
def test_pip_installs_through_the_fake_upstream(
    tmp_path: Path, upstream: FakeUpstream, index_url: str, json_enabled: bool
) -> None:
    upstream.json_enabled = json_enabled
    python = _uv_venv(tmp_path / "venv")
    argv = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-cache-dir"]
    subprocess.run(
        [*argv, "--index-url", index_url, "demo-pkg"],
        check=True,
        env=client_env(),
        capture_output=True,
    )
    assert _import_versions(python, "demo_pkg", "demo_dep") == ["1.1.0", "0.2.0"]
    accepts = [
        r.headers.get("accept", "") for r in upstream.requests if r.path.startswith("/simple/")
    ]
    assert any(JSON_V1 in accept for accept in accepts)
