"""Review commands: ``quarantine``, ``allow``, ``deny``, ``decisions`` and ``token``.

They work against a running server (``--url`` and ``--token``, or
``PIPGATE_URL`` and ``PIPGATE_TOKEN``) through the admin API, or directly on
a data directory (``--data-dir``); a server using that directory picks the
change up within a second. A replica's data directory is only its cache: when
the configuration (``PIPGATE_CONFIG``, ``PIPGATE_STORAGE__DATABASE``) names a
``[storage] database``, ``--data-dir`` works on that shared database instead,
as the replicas do. Either way the commands call one interface
(``quarantine.client.ReviewClient``) and print the same typed values the same way.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

if TYPE_CHECKING:
    from pipgate.proxy.quarantine.client import ReviewClient
    from pipgate.proxy.quarantine.records import Entry, EntryDetail, Rule


def _shared_database() -> Any:
    """The configured ``[storage] database`` (a ``PostgresDatabase``), or ``None``."""
    from pipgate.proxy.config.settings import SettingsError, load_settings

    try:
        url = load_settings().storage.database
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    if url is None:
        return None
    from pipgate.proxy.storage.postgres import PostgresDatabase

    return PostgresDatabase(url, max_size=2, application="pipgate-cli")


@contextmanager
def _client(ctx: click.Context) -> Iterator[ReviewClient]:
    """The review the command talks to; its errors become the command's error message."""
    from pipgate.proxy.errors import PipgateError
    from pipgate.proxy.quarantine.client import LocalReview, RemoteReview

    url, token, data_dir = (ctx.obj or {}).get("target", (None, None, None))
    if data_dir is None and not url:
        raise click.UsageError("say where pipgate is: --url (PIPGATE_URL) or --data-dir")
    try:
        client: ReviewClient = (
            LocalReview(
                Path(data_dir),
                clock=lambda: datetime.now(UTC),
                actor=f"{getpass.getuser()}@local",
                database=_shared_database(),
            )
            if data_dir is not None
            else RemoteReview(url, token)
        )
        try:
            yield client
        finally:
            client.close()
    except PipgateError as exc:
        raise click.ClickException(str(exc)) from exc


def _target_params() -> list[click.Parameter]:
    return [
        click.Option(["--url"], envvar="PIPGATE_URL", help="Base URL of a running pipgate."),
        click.Option(["--token"], envvar="PIPGATE_TOKEN", help="Admin token (PIPGATE_TOKEN)."),
        click.Option(
            ["--data-dir"],
            type=click.Path(path_type=Path),
            help="Work on this data directory instead of a server.",
        ),
    ]


def _remembering(callback: Callable[..., Any] | None) -> Callable[..., Any]:
    """``callback`` that first keeps ``--url``, ``--token`` and ``--data-dir`` for
    ``_client``; given on a sub-command, they win over the group's."""

    @click.pass_context
    def remember(
        ctx: click.Context, url: str | None, token: str | None, data_dir: Path | None, **kwargs: Any
    ) -> Any:
        target = ctx.ensure_object(dict).get("target", (None, None, None))
        given = (url, token, data_dir)
        ctx.obj["target"] = tuple(
            mine or theirs for mine, theirs in zip(given, target, strict=True)
        )
        return ctx.invoke(callback, **kwargs) if callback is not None else None

    return remember


def _target_options(group: click.Group) -> click.Group:
    """``--url``, ``--token`` and ``--data-dir`` on a command group and on each of its
    commands, so both ``pipgate quarantine --data-dir D list`` and ``pipgate quarantine
    list --data-dir D`` work (call after the commands are defined)."""
    for command in (group, *group.commands.values()):
        if any(p.name == "data_dir" for p in command.params):
            continue
        command.callback = _remembering(command.callback)
        command.params += _target_params()
    return group


def _emit(data: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    """``data`` (typed values) as text, or with ``--json`` in the admin API's JSON."""
    if as_json:
        from pipgate.proxy.quarantine.serialize import to_json

        sys.stdout.buffer.write(orjson.dumps(to_json(data), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        click.echo(text(data))


_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_scope_option = click.option(
    "--scope",
    type=click.Choice(["version", "project", "file"]),
    help="What the decision covers: by default what the entry holds (its version, or the "
    "project); 'file' with --file for one of its files.",
)
_file_option = click.option("--file", help="Decide on this one file of the entry only.")
_reason_option = click.option("--reason", "-r", required=True, help="Why (kept in the audit log).")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


# -- quarantine ---------------------------------------------------------------------------


@click.group()
def quarantine() -> None:
    """Review what pipgate holds: one entry per held version (or project) and policy."""


def _files(entry: Entry) -> str:
    if not entry.files:
        return "(project)"
    return entry.files[0].file if len(entry.files) == 1 else f"{len(entry.files)} files"


def _entry_line(e: Entry) -> str:
    return (
        f"{e.id:>5}  {e.state:<11} {e.project:<24} {e.version or '-':<10} "
        f"{_files(e):<44} {e.policy:<14} {e.views:>5} {e.requests:>5}  {e.reason}"
    )


@quarantine.command("list")
@click.option("--state", type=click.Choice(["quarantined", "released", "rejected", "expired"]))
@click.option("--index")
@click.option("--project")
@click.option("--policy")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--offset", type=int, default=0)
@_json_option
@click.pass_context
def quarantine_list(ctx: click.Context, as_json: bool, **filters: Any) -> None:
    """List entries, most recently asked for first (views: page views that withheld the
    version; dl: downloads of its files)."""
    from pipgate.proxy.quarantine.records import EntryQuery

    with _client(ctx) as review:
        page = review.entries(EntryQuery(**filters))

    def table(d: Any) -> str:
        head = (
            f"{'id':>5}  {'state':<11} {'project':<24} {'version':<10} {'files':<44} "
            f"{'policy':<14} {'views':>5} {'dl':>5}  reason"
        )
        rows = [_entry_line(e) for e in d.entries]
        return "\n".join([head, *rows, f"({len(rows)} of {d.total})"])

    _emit(page, as_json, table)


def _entry_text(e: EntryDetail) -> str:
    facts = {
        "id": e.id,
        "state": e.state,
        "index": e.index,
        "project": e.project,
        "version": e.version,
        "policy": e.policy,
        "action": e.action,
        "reason": e.reason,
        "available_at": e.available_at,
        "first_requested": e.first_requested,
        "last_requested": e.last_requested,
        "views": e.views,
        "downloads": e.requests,
        "changed_by": e.changed_by,
        "changed_at": e.changed_at,
        "change_reason": e.change_reason,
        "until": e.until,
    }
    lines = [
        f"{k:>16}: {_when(v) if isinstance(v, datetime) else v}"
        for k, v in facts.items()
        if v is not None
    ]
    if e.files:
        lines += ["", f"files ({len(e.files)}):"] + [
            f"  {f.file}  {f.state}  downloads {f.requests}"
            + (f", last {_when(f.last_requested)}" if f.last_requested else "")
            for f in e.files
        ]
    lines += ["", "clients:"] + [
        f"  {c.client}  x{c.count}  last {_when(c.last_seen)}" for c in e.clients
    ]
    lines += ["", "history:"] + [
        f"  {_when(h.time)}  {h.actor}  {h.action}: {h.reason}" for h in e.history
    ]
    return "\n".join(lines)


@quarantine.command("show")
@click.argument("entry", type=int)
@_json_option
@click.pass_context
def quarantine_show(ctx: click.Context, entry: int, as_json: bool) -> None:
    """Show one entry: what, why, its files, who asked, and its history."""
    with _client(ctx) as review:
        found = review.entry(entry)
    _emit(found, as_json, _entry_text)


def _decided(verb: str, rule: Rule) -> str:
    until = f" until {_when(rule.until)}" if rule.until else ""
    return f"{verb} {rule.target}{_on(rule.index)}{until} (rule {rule.id})"


@quarantine.command("release")
@click.argument("entry", type=int)
@_scope_option
@_file_option
@click.option("--until", help="Release until a date (2026-07-01), datetime or duration (30d).")
@_reason_option
@_json_option
@click.pass_context
def quarantine_release(
    ctx: click.Context,
    entry: int,
    scope: str | None,
    file: str | None,
    until: str | None,
    reason: str,
    as_json: bool,
) -> None:
    """Release what an entry holds (its version), on the entry's index."""
    with _client(ctx) as review:
        rule = review.release(entry, scope=scope, file=file, until=until, reason=reason)
    _emit(rule, as_json, lambda r: _decided("released", r))


@quarantine.command("reject")
@click.argument("entry", type=int)
@_scope_option
@_file_option
@click.option(
    "--index",
    help="Reject only on this index (the entry's own); by default on every index.",
)
@_reason_option
@_json_option
@click.pass_context
def quarantine_reject(
    ctx: click.Context,
    entry: int,
    scope: str | None,
    file: str | None,
    index: str | None,
    reason: str,
    as_json: bool,
) -> None:
    """Reject what an entry holds: it stays blocked on every index (or --index), with your
    reason."""
    with _client(ctx) as review:
        rule = review.reject(entry, scope=scope, file=file, index=index, reason=reason)
    _emit(rule, as_json, lambda r: _decided("rejected", r))


@quarantine.command("decide")
@click.argument("kind", type=click.Choice(["release", "reject"]))
@click.argument("project")
@click.option("--version", help="Only this version.")
@click.option("--file", help="Only this file.")
@click.option(
    "--index", help="The index (default: 'default' for a release, every index for a reject)."
)
@click.option("--until", help="Release until a date (2026-07-01), datetime or duration (30d).")
@_reason_option
@_json_option
@click.pass_context
def quarantine_decide(
    ctx: click.Context,
    kind: str,
    project: str,
    version: str | None,
    file: str | None,
    index: str | None,
    until: str | None,
    reason: str,
    as_json: bool,
) -> None:
    """Release or reject a project, version or file by name (it need not be held yet)."""
    with _client(ctx) as review:
        rule = review.decide(
            kind,
            project=project,
            version=version,
            file=file,
            index=index,
            until=until,
            reason=reason,
        )
    _emit(rule, as_json, lambda r: _decided("released" if kind == "release" else "rejected", r))


def _on(index: str) -> str:
    return " on every index" if index == "*" else f" on index {index!r}"


# -- allow / deny -------------------------------------------------------------------------


def _list_group(kind: str) -> click.Group:
    # A deny rule applies on every index unless scoped; an allow rule names one index.
    index_option = click.option(
        "--index",
        default=None if kind == "deny" else "default",
        show_default=kind != "deny",
        help="The index (default: every index)" if kind == "deny" else "The index.",
    )

    @click.group(
        kind,
        help=f"The runtime {kind} list (kept in the data directory, "
        "applied on top of the configuration).",
    )
    def group() -> None:
        pass

    @group.command("add")
    @click.argument("rule")
    @index_option
    @_reason_option
    @click.option(
        "--everything",
        is_flag=True,
        help="Confirm an allow rule that matches every project ('*'): it lifts every policy.",
    )
    @click.pass_context
    def add(
        ctx: click.Context, rule: str, index: str | None, reason: str, everything: bool
    ) -> None:
        """Add RULE: a name, a glob (acme-*) or name==version."""
        with _client(ctx) as review:
            added = review.list_add(
                kind, rule=rule, index=index, reason=reason, everything=everything
            )
        click.echo(f"added {added.rule!r} to the {kind} list{_on(added.index)}")

    @group.command("remove")
    @click.argument("rule")
    @index_option
    @click.option("--reason", "-r", default="", help="Why (kept in the audit log).")
    @click.pass_context
    def remove(ctx: click.Context, rule: str, index: str | None, reason: str) -> None:
        """Remove RULE."""
        with _client(ctx) as review:
            removed = review.list_remove(kind, rule=rule, index=index, reason=reason)
        click.echo(f"removed {rule!r} from the {kind} list{_on(removed.index)}")

    @group.command("list")
    @click.option("--index")
    @_json_option
    @click.pass_context
    def show(ctx: click.Context, index: str | None, as_json: bool) -> None:
        """Show the list."""
        with _client(ctx) as review:
            rules = review.rules(kind=kind, index=index)
        _emit(
            rules,
            as_json,
            lambda found: (
                "\n".join(
                    f"{r.index:<10} {r.rule:<30} {r.actor:<12} {_when(r.created_at)}  {r.reason}"
                    for r in found
                )
                or f"the {kind} list is empty"
            ),
        )

    return group


allow = _list_group("allow")
deny = _list_group("deny")


# -- decisions ----------------------------------------------------------------------------


@click.group()
def decisions() -> None:
    """The decision log."""


@decisions.command("tail")
@click.option("-n", "--lines", "limit", type=int, default=20, show_default=True)
@click.option("-q", "--search", "q", help="Text anywhere in the entry.")
@click.option("--project")
@click.option("--policy")
@click.option("--action", type=click.Choice(["quarantine", "block"]))
@_json_option
@click.pass_context
def decisions_tail(ctx: click.Context, as_json: bool, **filters: Any) -> None:
    """The newest decisions, oldest of them first."""
    from pipgate.proxy.quarantine.decisions import DecisionQuery

    with _client(ctx) as review:
        found = review.decisions(DecisionQuery(**filters))
    found.reverse()
    _emit(
        {"decisions": found},
        as_json,
        lambda d: (
            "\n".join(
                f"{e['time']} {e['client']:<15} {e['action']:<10} {e['project']} {e.get('file') or ''} "
                f"[{e['policy']}{', dry-run' if e.get('mode') == 'dry-run' else ''}] {e['reason']}"
                for e in d["decisions"]
            )
            or "no decisions"
        ),
    )


# -- token --------------------------------------------------------------------------------


@click.group()
def token() -> None:
    """Admin tokens."""


@token.command("hash")
@click.argument("secret", required=False)
@click.option("--new", is_flag=True, help="Make a new random token and print it with its hash.")
@click.option("--name", default="admin", show_default=True)
@click.option(
    "--scope", type=click.Choice(["admin", "read", "install"]), default="admin", show_default=True
)
def token_hash(secret: str | None, new: bool, name: str, scope: str) -> None:
    """Print the SHA-256 of a token (read from stdin if not given) as an [admin] entry."""
    from pipgate.proxy.quarantine.auth import hash_token, new_token

    if new:
        secret = new_token()
        click.echo(f"token: {secret}", err=True)
    elif secret is None:
        secret = (
            click.prompt("token", hide_input=True) if sys.stdin.isatty() else sys.stdin.readline()
        ).strip()
    if not secret:
        raise click.UsageError("an empty token cannot be hashed")
    digest = hash_token(secret)
    click.echo(f'{{ name = "{name}", sha256 = "{digest}", scope = "{scope}" }}')


def register(main: click.Group) -> None:
    for group in (quarantine, allow, deny, decisions):
        main.add_command(_target_options(group))
    main.add_command(token)
