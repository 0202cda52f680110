"""The fast path (``fast_path.py``) answers a cached page exactly as the application does:
the same status, headers, body, metrics and decision records, on every variant of a
page request; and it leaves everything it cannot answer to the application."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pipgate.proxy import fast_path
from pipgate.proxy.app import create_app
from pipgate.proxy.config.settings import deep_merge, load_settings
from tests.support.proxies import TEST_CORPUS
from tests.support.servers import run_uvicorn

#: A day after demo-pkg 1.1.0 was uploaded: its files are held by the 7-day release age.
NOW = datetime(2024, 3, 11, tzinfo=UTC)
JSON = "application/vnd.pypi.simple.v1+json"
_ANSWER = fast_path._answer
PIP = f"{JSON}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"


def _requests(base: str) -> list[tuple[str, str, dict[str, str]]]:
    variants = [
        {},
        {"Accept": PIP},
        {"Accept": PIP, "Accept-Encoding": "gzip"},
        {"Accept": "text/html", "Accept-Encoding": "gzip;q=0, br"},
        {"Accept": JSON, "Accept-Encoding": "gzip, deflate"},
        {"Accept": "image/png"},  # 406: the application's answer
    ]
    out = []
    for prefix in ("", "/strict"):
        for project in ("demo-pkg", "demo-yanked", "demo-archived", "Demo_Pkg", "coloarma"):
            for headers in variants:
                for method in ("GET", "HEAD"):
                    out.append((method, f"{base}{prefix}/simple/{project}/", headers))
    out.append(("GET", f"{base}/simple/demo-pkg/?format=json", {}))
    out.append(("GET", f"{base}/simple/demo-pkg", {}))
    out.append(("GET", f"{base}/nowhere/simple/demo-pkg/", {}))
    return out


def _normalized(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [
        (k, v) for k, v in response.headers.multi_items() if k not in ("date", "x-request-id")
    ]
    return response.status_code, headers, response.content


def _run(upstream_url: str, data_dir: Path, fast: bool, monkeypatch) -> dict[str, object]:  # type: ignore[no-untyped-def]
    answered: list[str] = []
    original = _ANSWER

    def counting(scope):  # type: ignore[no-untyped-def]
        answer = original(scope)
        if answer is not None:
            answered.append(scope["path"])
        return answer

    monkeypatch.setattr(fast_path, "_answer", counting)
    config = {
        "upstream": {"url": upstream_url, "timeout": "3s", "retries": 1, "backoff": "10ms"},
        "cache": {"data_dir": str(data_dir)},
        "indexes": {"strict": {"policies": {"release_age": {"min_age": "2000d"}}}},
    }
    settings = load_settings(None, environ={}, overrides=deep_merge({}, config))
    app = create_app(settings, clock=lambda: NOW, corpus=TEST_CORPUS, fast_path=fast)
    responses = []
    with run_uvicorn(app) as served, httpx.Client(timeout=10) as client:
        for round_ in range(3):  # the first round fills the caches
            for method, url, headers in _requests(served.url):
                response = client.request(method, url, headers=headers)
                responses.append(_normalized(response))
                etag = response.headers.get("etag")
                if round_ and etag and response.status_code == 200:
                    again = client.request(method, url, headers={**headers, "If-None-Match": etag})
                    responses.append(_normalized(again))
        metrics = client.get(f"{served.url}/metrics").text
    counters = sorted(
        line
        for line in metrics.splitlines()
        if line.startswith(("pipgate_requests_total", "pipgate_cache_total", "pipgate_decisions"))
        and "_created" not in line
    )
    return {"responses": responses, "metrics": counters, "answered": answered}


def test_the_fast_path_answers_as_the_application_does(upstream, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="pipgate.access")
    with upstream.serve() as url:
        plain = _run(url, tmp_path / "plain", False, monkeypatch)
        plain_log = _log_lines(caplog)
        caplog.clear()
        fast = _run(url, tmp_path / "fast", True, monkeypatch)
        fast_log = _log_lines(caplog)
    assert plain["answered"] == []
    assert len(fast["answered"]) > 100  # most warm requests took the fast path
    assert fast["responses"] == plain["responses"]
    assert fast["metrics"] == plain["metrics"]
    assert fast_log == plain_log
    decisions = (tmp_path / "fast" / "decisions.jsonl").read_text().splitlines()
    plain_decisions = (tmp_path / "plain" / "decisions.jsonl").read_text().splitlines()
    assert [_without_time(d) for d in decisions] == [_without_time(d) for d in plain_decisions]
    assert decisions  # demo-pkg 1.1.0 was held and recorded


def _log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Access-log lines without their request id and duration."""
    return [
        re.sub(r"^\S+ ", "", re.sub(r" [\d.]+ms$", "", r.getMessage()))
        for r in caplog.records
        if r.name == "pipgate.access" and "/metrics" not in r.getMessage()
    ]


def _without_time(line: str) -> str:
    return re.sub(r'"time": "[^"]*"', "", line)
