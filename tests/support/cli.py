"""The ``pipgate`` command run in this process (click's ``CliRunner``)."""

from __future__ import annotations

from click.testing import Result


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """``pipgate *args`` with only ``env`` as its environment; exceptions propagate."""
    from click.testing import CliRunner

    from pipgate.proxy.cli.main import main

    return CliRunner().invoke(main, list(args), env=env or {}, input=input, catch_exceptions=False)
