"""End-to-end tests take their fixtures from ``tests/support/fixtures.py`` (the fake
upstream and pipgate, each on a real loopback port) and run the real installers with
``tests/support/installers.py``."""
