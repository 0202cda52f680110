"""Security review of quarantine review (auth, console, API, webhook): one test per finding."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx

from tests.quarantine.conftest import ADMIN, Proxy
from tests.quarantine.test_api import hold_fresh_release



def test_package_auth_covers_indexes_named_like_open_paths(
    start_proxy: Callable[..., Any], upstream_url: str
) -> None:
    # "/metrics", "/healthz" and "/readyz" are open; an index whose name merely starts
    # with those letters (metrics-team, healthzone) must not be.
    config = {"admin": {"package_auth": True},
              "indexes": {"metrics-team": {}, "healthzone": {}, "readyz2": {}}}
    with start_proxy(upstream_url, config=config) as proxy:
        for index in ("metrics-team", "healthzone", "readyz2"):
            for path in (f"/{index}/simple/demo-pkg/", f"/{index}/simple/"):
                assert httpx.get(proxy.url + path).status_code == 401, path
            assert httpx.get(f"{proxy.url}/{index}/simple/demo-pkg/",
                             auth=("x", ADMIN)).status_code == 200
        for open_path in ("/healthz", "/readyz", "/metrics"):
            assert httpx.get(proxy.url + open_path).status_code == 200
