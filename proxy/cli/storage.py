"""``pipgate migrate`` and ``pipgate storage check|import``: the shared stores, for operators.

Each reads ``[storage]`` from the same configuration as ``serve`` (``--config``,
``PIPGATE_STORAGE__DATABASE``/``__BLOBS``, the ``AWS_*`` variables) and prints
what it did or found; exit status 1 when something is wrong.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click


def _storage(config: str | None) -> Any:
    from pipgate.proxy.cli.main import _settings_or_exit

    settings = _settings_or_exit(config, {})
    if not settings.storage.database:
        raise click.UsageError(
            'no shared store is configured: set [storage] database = "postgresql://..." '
            "(or PIPGATE_STORAGE__DATABASE); the embedded default needs no migration"
        )
    return settings.storage


def _end(status: int) -> NoReturn:
    """End a command that used the object store, its output flushed, without the
    interpreter's teardown: obstore's shared Tokio runtime keeps worker threads running, and
    one caught mid-task as Python tears itself down aborts the process (SIGABRT, status
    -6) after the command has done its work and said so. Inside a test runner (output not
    the process's own) it exits the usual way."""
    if sys.stdout is not sys.__stdout__ or sys.stderr is not sys.__stderr__:
        raise SystemExit(status)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def register(main: click.Group) -> None:
    @main.command("migrate")
    @click.option("--config", type=click.Path(), help="TOML configuration file.")
    def migrate_command(config: str | None) -> None:
        """Bring the PostgreSQL schema up to date (safe while replicas run or start)."""
        from pipgate.proxy.errors import StoreUnavailable
        from pipgate.proxy.storage.schema import SCHEMA_VERSION, migrate
        from pipgate.proxy.urls import redact

        storage = _storage(config)
        try:
            applied = migrate(storage.database)
        except StoreUnavailable as exc:
            raise click.ClickException(str(exc)) from exc
        where = redact(storage.database)
        if applied:
            click.echo(f"{where}: applied schema versions {', '.join(map(str, applied))}")
        else:
            click.echo(f"{where}: schema already at version {SCHEMA_VERSION}")

    @main.group("storage")
    def storage_group() -> None:
        """Check the shared stores, or move a data directory into them."""

    @storage_group.command("check")
    @click.option("--config", type=click.Path(), help="TOML configuration file.")
    def check_command(config: str | None) -> None:
        """Connectivity, permissions, bucket and schema version of the shared stores."""
        problems = asyncio.run(_check(_storage(config)))
        for line in problems:
            click.echo(f"problem: {line}", err=True)
        _end(1 if problems else 0)

    @storage_group.command("import")
    @click.option("--config", type=click.Path(), help="TOML configuration file.")
    @click.option(
        "--from-data-dir",
        "data_dir",
        type=click.Path(path_type=Path, exists=True, file_okay=False),
        required=True,
        help="A single-node data directory (stop the pipgate using it first).",
    )
    def import_command(config: str | None, data_dir: Path) -> None:
        """Copy a data directory's quarantine history, rules, audit, sessions, decision log
        and files into PostgreSQL and the object store (again: skips what is there)."""
        from pipgate.proxy.errors import PipgateError
        from pipgate.proxy.storage.transfer import import_data_dir

        storage = _storage(config)
        try:
            report = asyncio.run(import_data_dir(data_dir, storage, echo=click.echo))
        except PipgateError as exc:
            click.echo(f"Error: {exc}", err=True)
            _end(1)
        click.echo(report)
        _end(0)


async def _check(storage: Any) -> list[str]:
    from anyio import to_thread

    from pipgate.proxy.errors import StoreUnavailable
    from pipgate.proxy.storage.postgres import PostgresDatabase
    from pipgate.proxy.storage.schema import SCHEMA_VERSION, schema_state
    from pipgate.proxy.urls import redact

    problems: list[str] = []
    where = redact(storage.database)
    try:
        state = await to_thread.run_sync(schema_state, storage.database)
    except StoreUnavailable as exc:
        return [str(exc)]
    problem = state.problem()
    if problem:
        problems.append(f"{where}: {problem}")
    else:
        click.echo(f"{where}: reachable, schema version {state.version} (code {SCHEMA_VERSION})")
        database = PostgresDatabase(storage.database, max_size=1)
        try:

            def probe() -> None:
                with database.write() as tx:
                    tx.execute("SELECT count(*) FROM entries").fetchone()
                    tx.execute(
                        "INSERT INTO file_facts (key, value) VALUES ('pipgate-check', 'x') "
                        "ON CONFLICT (key) DO NOTHING"
                    )
                    tx.execute("DELETE FROM file_facts WHERE key = 'pipgate-check'")

            await to_thread.run_sync(probe)
            click.echo(f"{where}: can read and write")
        except Exception as exc:
            problems.append(f"{where}: cannot read and write its tables: {exc}")
        finally:
            database.close()
    if storage.blobs:
        from pipgate.proxy.storage.s3 import S3Blobs

        found = await S3Blobs(storage.blobs).check()
        if found:
            problems += found
        else:
            click.echo(f"{storage.blobs}: reachable, write-once writes, reads back, deletes")
    return problems
