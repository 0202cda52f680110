"""How tests/quarantine starts pipgate (with the plugin's ``start_proxy``, ``proxy``,
``start_proxy_in_process`` and ``proxy_in_process``): a fake upstream whose demo-pkg
``FRESH_VERSION`` is an hour old (``tests/support/fresh_release.py``), and pipgate with
the two admin tokens ``ADMIN`` and ``READER`` (``tests/support/proxies.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.fresh_release import fresh_upstream
from tests.support.proxies import ProxyOptions


@pytest.fixture
def upstream(dists_dir: Path) -> FakeUpstream:
    return fresh_upstream(dists_dir)


@pytest.fixture
def proxy_options() -> ProxyOptions:
    return ProxyOptions(corpus=["requests", "demo-pkg"], admin=True)
