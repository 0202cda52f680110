"""The ``pipgate`` command line: ``serve`` and the offline tools.

Reads configuration only through ``settings.load_settings``; flags are its
highest-precedence layer.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from .settings import SettingsError, load_settings


def _settings_or_exit(config: str | None, overrides: dict[str, Any]) -> Any:
    try:
        return load_settings(config, overrides=overrides)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.version_option(package_name="pipgate")
def main() -> None:
    """pipgate: a PyPI proxy that quarantines typosquats, brand-new releases and unapproved projects."""


@main.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8080).")
@click.option("--upstream", help="Upstream simple index URL (default https://pypi.org/simple/).")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Cache and log directory.")
@click.option("--config", type=click.Path(), help="TOML configuration file.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
def serve(
    host: str | None,
    port: int | None,
    upstream: str | None,
    data_dir: Path | None,
    config: str | None,
    log_level: str | None,
) -> None:
    """Start the proxy."""
    import uvicorn

    from .app import create_app

    overrides: dict[str, Any] = {}
    for section, key, value in (
        ("server", "host", host),
        ("server", "port", port),
        ("upstream", "url", upstream),
        ("cache", "data_dir", data_dir),
        ("server", "log_level", log_level),
    ):
        if value is not None:
            overrides.setdefault(section, {})[key] = value
    settings = _settings_or_exit(config, overrides)
    level = settings.server.log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs URLs, credentials included
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_level=settings.server.log_level,
        access_log=False,
        proxy_headers=settings.server.trust_forwarded,
        server_header=False,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
