"""The review findings reuse the quarantine suite's fixtures (a fake upstream, pipgate with tokens)."""

from tests.quarantine.conftest import proxy, start_proxy, upstream  # noqa: F401
