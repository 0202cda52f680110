"""Against the real PyPI (opt in: ``scripts/test --live -m live`` or PIPGATE_LIVE=1)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.installers import installed, run_pip, run_uv

pytestmark = pytest.mark.live
PYPI = "https://pypi.org/simple/"


def test_pip_and_uv_install_from_pypi_through_pipgate(start_proxy, tmp_path):
    with start_proxy(PYPI, config={"upstream": {"timeout": "30s"}}) as proxy:
        pip = run_pip(proxy.index_url, "six==1.16.0", target=tmp_path / "pip")
        uv = run_uv(proxy.index_url, "six==1.16.0", target=tmp_path / "uv")
        page = httpx.get(
            f"{proxy.index_url}six/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        ).json()
    assert pip.returncode == 0, pip.stderr
    assert uv.returncode == 0, uv.stderr
    assert "six==1.16.0" in installed(tmp_path / "pip") & installed(tmp_path / "uv")
    assert all(f["url"].startswith("../../files/six/") for f in page["files"])
    assert any("upload-time" in f for f in page["files"])


def test_a_real_typosquat_name_is_refused(start_proxy):
    # pipgate never answers a look-alike with a page of files: a name PyPI has is held
    # as a typosquat (451), one PyPI has taken down is not found there either (404).
    on_pypi = httpx.get(f"{PYPI}reqeusts/", timeout=30).status_code == 200
    with start_proxy(PYPI, bundled_corpus=True) as proxy:
        response = httpx.get(f"{proxy.index_url}reqeusts/", timeout=30)
    if on_pypi:
        assert response.status_code == 451, response.text
        assert "typosquat" in response.reason_phrase
    else:
        assert response.status_code == 404, response.text
