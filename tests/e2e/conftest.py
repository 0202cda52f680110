"""End-to-end tests take their fixtures from ``tests/support/fixtures.py`` (the fake
upstream and pipgate, each on a real loopback port) and run the real installers with
``tests/support/installers.py``."""

# tests/quarantine/conftest.py still imports RunningProxy from here.
from tests.support.proxies import RunningProxy  # noqa: F401
