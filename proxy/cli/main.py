"""The ``pipgate`` command line: ``serve`` and the offline tools.

Reads configuration only through ``settings.load_settings``; flags are its
highest-precedence layer.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from pipgate.proxy.cli.admin import register as register_review_commands
from pipgate.proxy.cli.storage import register as register_storage_commands
from pipgate.proxy.cli.warm import warm as warm_command
from pipgate.proxy.config.settings import SettingsError, load_settings
from pipgate.proxy.observe.log_format import configure_logging

#: Seconds a thread holds the GIL while another waits (CPython's default is 5 ms): pages
#: are parsed and rendered in worker threads, and a request on the event loop waits for
#: them at most this long each time (measured: warm p50 1.9 ms instead of 4.9 ms while a
#: 10,000-file page is processed; 0.5 ms gained nothing more).
SWITCH_INTERVAL = 0.001


class ConfigurationError(click.ClickException):
    """A configuration that cannot be used: exit status 2, like any usage error."""

    exit_code = 2


def _settings_or_exit(config: str | None, overrides: dict[str, Any]) -> Any:
    try:
        return load_settings(config, overrides=overrides)
    except SettingsError as exc:
        raise ConfigurationError(str(exc)) from exc


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
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Default text.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes serving one port; more than one needs [storage] database (PostgreSQL).",
)
def serve(
    host: str | None,
    port: int | None,
    upstream: str | None,
    data_dir: Path | None,
    config: str | None,
    log_level: str | None,
    log_format: str | None,
    workers: int,
) -> None:
    """Start the proxy."""
    import uvicorn

    from pipgate.proxy.app import create_app
    from pipgate.proxy.files.memory import limit_arenas

    overrides: dict[str, Any] = {}
    for section, key, value in (
        ("server", "host", host),
        ("server", "port", port),
        ("upstream", "url", upstream),
        ("cache", "data_dir", data_dir),
        ("server", "log_level", log_level),
        ("server", "log_format", log_format),
    ):
        if value is not None:
            overrides.setdefault(section, {})[key] = value
    settings = _settings_or_exit(config, overrides)
    configure_logging(settings.server.log_level, settings.server.log_format)
    limit_arenas()  # before uvicorn's and anyio's threads: see memory.py
    sys.setswitchinterval(SWITCH_INTERVAL)
    if workers > 1:
        if not settings.storage.shared:
            raise ConfigurationError(
                f'--workers {workers} needs [storage] database = "postgresql://...": the '
                "processes must share decisions, leases and pages, and the embedded SQLite "
                "store belongs to one process. Run one process, or configure PostgreSQL."
            )
        from pipgate.proxy.cli.worker import run_workers

        run_workers(settings, config, overrides, workers)
        return
    app = create_app(settings, freeze_gc=True)
    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_level=settings.server.log_level,
        log_config=None,  # uvicorn's loggers go through configure_logging's handler
        access_log=False,
        proxy_headers=settings.server.trust_forwarded,
        server_header=False,
    )


@main.group()
def policy() -> None:
    """Inspect policy decisions."""


@policy.command("check")
@click.argument("requirements", nargs=-1)
@click.option("--config", type=click.Path(), help="TOML configuration file.")
@click.option("--index", default="default", show_default=True, help="Named index to judge for.")
@click.option(
    "--names-from",
    type=click.File("r"),
    help="Read NAME[==VERSION] lines from a file ('-': stdin).",
)
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text")
@click.option("--online", is_flag=True, help="Also consult upstream (release age, project facts).")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="The server's data directory, for its reviewer rules (default: the configured one).",
)
@click.option(
    "--url",
    envvar="PIPGATE_URL",
    help="Ask a running pipgate instead (read token from PIPGATE_TOKEN).",
)
@click.option("--token", envvar="PIPGATE_TOKEN", help="Token for --url (read scope).")
def policy_check(
    requirements: tuple[str, ...],
    config: str | None,
    index: str,
    names_from: Any,
    output: str,
    online: bool,
    data_dir: Path | None,
    url: str | None,
    token: str | None,
) -> None:
    """Print the server's decision for each NAME[==VERSION] without installing anything.

    Beside the server's data directory it applies the same configuration, runtime
    allow and deny lists and reviewer rules; with --url it asks the running server.

    Exit status: 0 when everything is allowed, 1 when something is quarantined
    or blocked, 2 on a usage or configuration error (or a server that cannot answer).
    """
    import json

    from pipgate.proxy.cli.policy_check import (
        CheckFailed,
        InvalidRequirement,
        check_here,
        check_remote,
        parse_requirement,
        text_line,
    )

    items = list(requirements)
    if names_from is not None:
        items += [ln.strip() for ln in names_from if ln.strip() and not ln.startswith("#")]
    if not items:
        raise click.UsageError("give at least one NAME[==VERSION] or --names-from FILE")
    try:
        parsed = [parse_requirement(item) for item in items]
    except InvalidRequirement as exc:
        raise click.UsageError(str(exc)) from exc
    if url:
        try:
            results = check_remote(url, token, index, items, online=online)
        except CheckFailed as exc:
            raise ConfigurationError(str(exc)) from exc
    else:
        overrides: dict[str, Any] = {"cache": {"data_dir": data_dir}} if data_dir else {}
        settings = _settings_or_exit(config, overrides)
        if index not in settings.index_names:
            raise click.UsageError(f"no index named {index!r}; configured: {settings.index_names}")
        from pipgate.proxy.app import load_corpus_names

        corpus = asyncio.run(load_corpus_names(settings))
        intel = asyncio.run(_advisories(settings, download=online))
        results = check_here(settings, index, parsed, online=online, corpus=corpus, intel=intel)
    for result in results:
        click.echo(json.dumps(result.as_json()) if output == "json" else text_line(result))
    sys.exit(1 if any(not r.decision.allowed for r in results) else 0)


async def _advisories(settings: Any, *, download: bool) -> Any:
    """The advisory feeds' indexes: their last good copies (a local feed itself);
    with ``download``, a URL feed with no copy yet is fetched. Says on stderr which
    feeds are missing, since their policies then decide nothing."""
    from datetime import UTC, datetime

    from pipgate.proxy.intel.feeds import IntelFeeds

    feeds = IntelFeeds.from_settings(settings, clock=lambda: datetime.now(UTC))
    try:
        await feeds.load(download=download)
    finally:
        await feeds.aclose()
    for feed in feeds.feeds:
        if feed.contents is None:
            click.echo(
                f"pipgate: advisory {feed.label} is not available ({feed.error}); "
                "its policies are not checked",
                err=True,
            )
    return feeds.snapshot()


@main.command("scan")
@click.argument(
    "archives",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--config", type=click.Path(), help="TOML configuration file.")
@click.option("--index", default="default", show_default=True, help="Named index to judge for.")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=None,
    help="Archives scanned at once, each in a worker process (0: in this process, one after "
    "another, with no memory limit or alarm) [default: the CPUs, at most 4].",
)
def scan(
    archives: tuple[Path, ...], config: str | None, index: str, output: str, jobs: int | None
) -> None:
    """Scan wheels and sdists statically, as the proxy would, and print the verdicts.

    Exit status: 0 when every file is allowed, 1 when one is quarantined or blocked,
    2 on a usage or configuration error.
    """
    from pipgate.proxy.cli.scan import default_jobs, exit_status, render, scan_files
    from pipgate.proxy.config.settings import validate_policies

    settings = _settings_or_exit(config, {})
    if index not in settings.index_names:
        raise click.UsageError(f"no index named {index!r}; configured: {settings.index_names}")
    results = scan_files(
        list(archives),
        validate_policies(settings, index).scan,
        default_jobs() if jobs is None else jobs,
        each=lambda result: click.echo(render(result, output)),
    )
    sys.exit(exit_status(results))


register_review_commands(main)
register_storage_commands(main)
main.add_command(warm_command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
