"""The legacy upload API in process: who may upload, what is refused and why, nothing kept
of a refused upload, and a published file never replaced."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pipgate.proxy.app import create_app
from pipgate.proxy.config.settings import SettingsError, load_settings
from pipgate.proxy.quarantine.auth import hash_token
from tests.support.dists import build_sdist, build_wheel
from tests.support.markup import offered

UPLOADER, READER, OTHER = "pg_uploader", "pg_reader", "pg_other-uploader"
TOKENS = [
    {"name": "ci", "sha256": hash_token(UPLOADER), "scope": "upload"},
    {"name": "rita", "sha256": hash_token(READER), "scope": "read"},
    {"name": "other", "sha256": hash_token(OTHER), "scope": "upload"},
]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("built")
    return {
        "wheel": build_wheel(d, "acme-lib", "1.0.0"),
        "sdist": build_sdist(d, "acme-lib", "1.0.0"),
        "other": build_wheel(d, "other-lib", "2.0.0"),
    }


@pytest.fixture
def client(tmp_path):
    settings = load_settings(
        None,
        environ={},
        overrides={
            "cache": {"data_dir": str(tmp_path / "data")},
            "upstream": {"url": "http://127.0.0.1:9/simple/", "retries": 0},
            "admin": {"tokens": TOKENS},
            "indexes": {
                "corp": {"hosted": True, "upload": ["ci"]},
                "tiny": {"hosted": True, "upload": ["*"], "max_upload_size": "100B"},
                "own": {
                    "hosted": True,
                    "upload": ["*"],
                    "policies": {"release_age": {"exempt_hosted": True}},
                },
            },
        },
    )
    with TestClient(create_app(settings, corpus=["requests"])) as client:
        yield client


def post(client, path: str, filename: str, data: bytes, token: str | None = UPLOADER, **fields):
    form = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": filename.split("-")[0],
        "version": filename.split("-")[1].removesuffix(".tar.gz"),
        "filetype": "bdist_wheel" if filename.endswith(".whl") else "sdist",
        "sha256_digest": hashlib.sha256(data).hexdigest(),
    } | fields
    form = {k: v for k, v in form.items() if v is not None}
    auth = ("__token__", token) if token else None
    return client.post(path, data=form, files={"content": (filename, data)}, auth=auth)


def _renamed_wheel(source: Path, name: str) -> tuple[str, bytes]:
    """The wheel's bytes under another project's filename (metadata still says acme-lib)."""
    return f"{name}-1.0.0-py3-none-any.whl", source.read_bytes()


def _respelled(sdist: Path) -> bytes:
    """The sdist with its root directory spelled ``acme-lib-1.0.0``."""
    out = io.BytesIO()
    with tarfile.open(sdist) as tin, tarfile.open(fileobj=out, mode="w:gz") as tout:
        for member in tin.getmembers():
            data = tin.extractfile(member)
            member.name = member.name.replace("acme_lib-1.0.0", "acme-lib-1.0.0", 1)
            tout.addfile(member, data)
    return out.getvalue()


def _sdist_without_pkg_info() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tf:
        info = tarfile.TarInfo("acme_lib-1.0.0/setup.py")
        info.size = 0
        tf.addfile(info, io.BytesIO(b""))
    return raw.getvalue()


def _wheel_without_record(source: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            if not item.filename.endswith("RECORD"):
                zout.writestr(item, zin.read(item))
    return out.getvalue()


def test_refusals(client, built):
    wheel = built["wheel"].read_bytes()
    name = built["wheel"].name
    cases = [
        (post(client, "/corp/", name, wheel, token=None), 401, "needs a token"),
        (post(client, "/corp/", name, wheel, token="pg_wrong"), 401, "needs a token"),
        (post(client, "/corp/", name, wheel, token=READER), 403, "'rita' may not upload"),
        (post(client, "/corp/", name, wheel, token=OTHER), 403, "'other' may not upload"),
        (post(client, "/", name, wheel), 405, "'default' does not accept uploads"),
        (post(client, "/nowhere/", name, wheel), 404, "no index"),
        (post(client, "/corp/", name, wheel, **{":action": "submit"}), 400, "unsupported :action"),
        (post(client, "/corp/", "acme_lib-1.0.0.zip", wheel), 400, "neither a wheel"),
        (
            post(client, "/corp/", "acme_lib-1.0-x.whl", wheel),
            400,
            "invalid distribution file name",
        ),
        (post(client, "/corp/", name, wheel, name="other-lib"), 400, "not the project of"),
        (post(client, "/corp/", name, wheel, version="1.0.1"), 400, "not the version of"),
        (post(client, "/corp/", name, wheel, filetype="sdist"), 400, "is a bdist_wheel"),
        (post(client, "/corp/", name, wheel, sha256_digest="0" * 64), 400, "does not match"),
        (post(client, "/corp/", name, wheel, sha256_digest=None), 400, "no digest"),
        (
            post(client, "/corp/", *_renamed_wheel(built["wheel"], "beta_lib"), name="beta-lib"),
            400,
            "holds acme_lib-1.0.0.dist-info",
        ),
        (post(client, "/corp/", name, b"not a zip"), 400, "not a valid wheel"),
        (
            post(client, "/corp/", name, _wheel_without_record(built["wheel"])),
            400,
            "no acme_lib-1.0.0.dist-info/WHEEL or RECORD",
        ),
        (
            post(client, "/corp/", "acme_lib-1.0.0.tar.gz", _sdist_without_pkg_info()),
            400,
            "has no acme_lib-1.0.0/PKG-INFO",
        ),
        (post(client, "/tiny/", name, wheel), 413, "larger than max_upload_size"),
    ]
    for response, status, message in cases:
        assert (response.status_code, message in response.text) == (status, True), response.text
    # Nothing of a refused upload was kept.
    state = client.app.state.pipgate
    assert state.hosted.projects("corp") == [] and state.hosted.projects("tiny") == []


def test_upload_then_no_overwrite_and_one_sdist_per_release(client, built):
    wheel, sdist = built["wheel"].read_bytes(), built["sdist"].read_bytes()
    assert post(client, "/corp/", built["wheel"].name, wheel).status_code == 200
    assert post(client, "/corp/", built["sdist"].name, sdist).status_code == 200
    again = post(client, "/corp/", built["wheel"].name, wheel)
    assert again.status_code == 409 and "File already exists" in again.text
    # Another spelling of the same release's sdist: PyPI keeps one sdist per release too.
    second = post(
        client,
        "/corp/",
        "acme-lib-1.0.0.tar.gz",
        _respelled(built["sdist"]),
        name="acme-lib",
        version="1.0.0",
    )
    assert second.status_code == 409 and "a release has one sdist" in second.text
    records = client.app.state.pipgate.hosted.records("corp")
    assert [(r.filename, r.uploader) for r in records] == [
        (built["wheel"].name, "ci"),
        (built["sdist"].name, "ci"),
    ]
    page = client.get(
        "/corp/simple/acme-lib/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    # Just uploaded: held by the 7-day release age (not exempted on this index), listed
    # only as yanked with the hold as the reason.
    assert page.status_code == 200 and offered(page.json()) == set()
    holds = client.get("/corp/holds/acme-lib").json()
    assert {h["policy"] for h in holds["held"]} == {"release-age"}


@pytest.mark.parametrize(
    ("indexes", "message"),
    [
        ({"x": {"sources": ["nope"]}}, "'nope' is neither a hosted index"),
        ({"x": {"upload": ["ci"]}}, "index 'x' is not hosted"),
        ({"x": {"hosted": True, "upload": ["rita"]}}, "no token named 'rita' with scope"),
        ({"x": {"hosted": True, "sources": ["x", "x"]}}, "names a source twice"),
    ],
)
def test_invalid_index_sources_and_upload_lists(indexes, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(None, environ={}, overrides={"indexes": indexes, "admin": {"tokens": TOKENS}})


def test_an_upload_is_content_scanned_like_any_file(client):
    """The scan reads the upload before it is served: inert text, never run."""
    from tests.support.archives import pkg_info, sdist
    from tests.support.scan_samples import EVIL_SETUP

    filename = "glimmer_tools-1.0.0.tar.gz"
    data = sdist(
        {"PKG-INFO": pkg_info("glimmer-tools", "1.0.0", "Tools"), "setup.py": EVIL_SETUP},
        root="glimmer_tools-1.0.0",
    )
    stored = post(client, "/own/", filename, data, name="glimmer-tools", version="1.0.0")
    fetched = client.get(f"/own/files/glimmer-tools/{filename}")
    assert stored.status_code == 200, stored.text
    assert fetched.status_code == 403
    assert fetched.headers["x-pipgate-policy"] == "scan" and "decode-exec" in fetched.text
    # Kept, as a flagged download is: a reviewer may release it.
    assert client.app.state.pipgate.hosted.projects("own") == ["glimmer-tools"]
