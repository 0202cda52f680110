"""Hostile input from either side, against a real pipgate and a fake upstream on real ports:
look-alike names from clients (issue 8, finding 10)."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest


@pytest.fixture
def proxy(upstream_url, start_proxy):
    with start_proxy(upstream_url, config={"indexes": {"strict": {}}}) as running:
        yield running


LOOK_ALIKES = [
    "\u0131dna",  # ı: dotless i
    "\u017fix",  # ſ: long s
    "\u212aeras",  # K: Kelvin sign, "keras" once lower-cased
    "\u0130dna",  # İ: dotted capital I
    "demo-pk\u0261",  # ɡ: Latin small script g
]


def test_non_ascii_look_alike_names_never_reach_upstream(proxy, upstream):
    upstream.reset_hits()
    for name in LOOK_ALIKES:
        for path in (
            f"/simple/{quote(name)}/",
            f"/strict/simple/{quote(name)}/?format=json",
            f"/files/{quote(name)}/{quote(name)}-1.0.tar.gz",
            f"/files/{quote(name)}/{quote(name)}-1.0.tar.gz.metadata",
        ):
            response = httpx.get(proxy.url + path)
            assert response.status_code == 404, (path, response.status_code, response.text)
            assert "is not a valid project name" in response.text, path
            assert "ASCII" in response.text
    assert upstream.requests == []
