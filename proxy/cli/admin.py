"""Review commands: ``quarantine``, ``allow``, ``deny``, ``decisions`` and ``token``.

They work against a running server (``--url`` and ``--token``, or
``PIPGATE_URL`` and ``PIPGATE_TOKEN``) through the admin API, or directly on
a data directory (``--data-dir``); a server using that directory picks the
change up within a second. A replica's data directory is only its cache: when
the configuration (``PIPGATE_CONFIG``, ``PIPGATE_STORAGE__DATABASE``) names a
``[storage] database``, ``--data-dir`` works on that shared database instead,
as the replicas do.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import click
import httpx
import orjson


class Backend(Protocol):
    def get(self, path: str, params: dict[str, Any] | None = None) -> Any: ...

    def post(self, path: str, body: dict[str, Any]) -> Any: ...


class Remote:
    """The admin API of a running pipgate."""

    def __init__(self, url: str, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=url.rstrip("/") + "/-/admin", headers=headers, timeout=30, trust_env=False
        )

    def _check(self, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = {"error": response.text.strip()}
        if response.status_code >= 400:
            message = body.get("error") if isinstance(body, dict) else response.text
            raise click.ClickException(f"{response.request.url}: {response.status_code}: {message}")
        return body

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            return self._check(self._client.get(path, params=clean))
        except httpx.HTTPError as exc:
            raise click.ClickException(f"cannot reach {self._client.base_url}: {exc}") from exc

    def post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            return self._check(self._client.post(path, json=body))
        except httpx.HTTPError as exc:
            raise click.ClickException(f"cannot reach {self._client.base_url}: {exc}") from exc


class Local:
    """The quarantine store of a data directory, used in place of the API."""

    def __init__(self, data_dir: Path) -> None:
        from pipgate.proxy.quarantine.review import Review

        if not data_dir.is_dir():
            raise click.ClickException(f"data directory {str(data_dir)!r} does not exist")
        self.data_dir = data_dir
        self.database = _shared_database()
        self.review = Review(data_dir, clock=lambda: datetime.now(UTC), database=self.database)
        self.actor = f"{getpass.getuser()}@local"

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        from pipgate.proxy.quarantine.decisions import search

        params = {k: v for k, v in (params or {}).items() if v is not None}
        parts = path.strip("/").split("/")
        if parts == ["quarantine"]:
            entries, total = self._run(lambda: self.review.entries(**params))
            return {"entries": entries, "total": total}
        if parts[0] == "quarantine":
            return self._entry(int(parts[1]))
        if parts[0] == "lists":
            return {"rules": self.review.store.rules(kind=parts[1], **params)}
        if self.database is not None:
            from pipgate.proxy.storage.decisions import search_table

            return {"decisions": self._run(lambda: search_table(self.database, **params))}
        return {"decisions": search(self.data_dir / "decisions.jsonl", **params)}

    def _entry(self, entry_id: int) -> Any:
        entry = self.review.entry(entry_id)
        if entry is None:
            raise click.ClickException(f"no quarantine entry {entry_id}")
        return entry

    def post(self, path: str, body: dict[str, Any]) -> Any:
        parts = path.strip("/").split("/")
        reason = str(body.get("reason") or "")
        if parts[0] == "quarantine":
            kind = parts[2]
            fields = {"scope": body.get("scope", "file"), "reason": reason, "actor": self.actor}
            if kind == "release":
                fields["until"] = body.get("until")
            else:
                fields["index"] = body.get("index")
            return self._run(lambda: getattr(self.review, kind)(int(parts[1]), **fields))
        fields = {"index": body.get("index"), "rule": body["rule"], "reason": reason}
        if parts[2] == "add":
            everything = bool(body.get("everything"))
            return self._run(
                lambda: self.review.list_add(
                    parts[1], **fields, actor=self.actor, everything=everything
                )
            )
        return self._run(lambda: self.review.list_remove(parts[1], **fields, actor=self.actor))

    def _run(self, call: Callable[[], Any]) -> Any:
        from pipgate.proxy.errors import ReviewError, StoreUnavailable

        try:
            return call()
        except (ReviewError, StoreUnavailable) as exc:
            raise click.ClickException(str(exc)) from exc


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


def _backend(ctx: click.Context) -> Backend:
    url, token, data_dir = (ctx.obj or {}).get("target", (None, None, None))
    if data_dir is not None:
        return Local(Path(data_dir))
    if not url:
        raise click.UsageError("say where pipgate is: --url (PIPGATE_URL) or --data-dir")
    return Remote(url, token)


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
    ``_backend``; given on a sub-command, they win over the group's."""

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
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        click.echo(text(data))


_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_scope_option = click.option(
    "--scope",
    type=click.Choice(["file", "version", "project"]),
    default="file",
    show_default=True,
    help="What the decision covers.",
)
_reason_option = click.option("--reason", "-r", required=True, help="Why (kept in the audit log).")


# -- quarantine ---------------------------------------------------------------------------


@click.group()
def quarantine() -> None:
    """Review what pipgate holds."""


def _entry_line(e: dict[str, Any]) -> str:
    what = e["file"] or "(project)"
    return (
        f"{e['id']:>5}  {e['state']:<11} {e['project']:<24} {e['version'] or '-':<10} "
        f"{what:<44} {e['policy']:<14} {e['request_count']:>5}  {e['reason']}"
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
    """List entries, most recently requested first."""
    data = _backend(ctx).get("/quarantine", filters)

    def table(d: dict[str, Any]) -> str:
        head = (
            f"{'id':>5}  {'state':<11} {'project':<24} {'version':<10} {'file':<44} "
            f"{'policy':<14} {'reqs':>5}  reason"
        )
        rows = [_entry_line(e) for e in d["entries"]]
        return "\n".join([head, *rows, f"({len(rows)} of {d['total']})"])

    _emit(data, as_json, table)


@quarantine.command("show")
@click.argument("entry", type=int)
@_json_option
@click.pass_context
def quarantine_show(ctx: click.Context, entry: int, as_json: bool) -> None:
    """Show one entry: what, why, who asked, and its history."""
    data = _backend(ctx).get(f"/quarantine/{entry}")

    def text(e: dict[str, Any]) -> str:
        keys = (
            "id",
            "state",
            "index",
            "project",
            "version",
            "file",
            "policy",
            "action",
            "reason",
            "available_at",
            "first_requested",
            "last_requested",
            "request_count",
            "changed_by",
            "changed_at",
            "change_reason",
            "until",
        )
        lines = [f"{k:>16}: {e[k]}" for k in keys if e.get(k) is not None]
        lines += ["", "clients:"] + [
            f"  {c['client']}  x{c['count']}  last {c['last_seen']}" for c in e.get("clients", [])
        ]
        lines += ["", "history:"] + [
            f"  {h['time']}  {h['actor']}  {h['action']}: {h['reason']}"
            for h in e.get("history", [])
        ]
        return "\n".join(lines)

    _emit(data, as_json, text)


@quarantine.command("release")
@click.argument("entry", type=int)
@_scope_option
@click.option("--until", help="Release until a date (2026-07-01), datetime or duration (30d).")
@_reason_option
@_json_option
@click.pass_context
def quarantine_release(
    ctx: click.Context, entry: int, scope: str, until: str | None, reason: str, as_json: bool
) -> None:
    """Release an entry's file, version or project."""
    body = {"scope": scope, "until": until, "reason": reason}
    rule = _backend(ctx).post(f"/quarantine/{entry}/release", body)
    _emit(
        rule,
        as_json,
        lambda r: (
            f"released {_target(r)} (rule {r['id']})"
            + (f" until {r['until']}" if r.get("until") else "")
        ),
    )


@quarantine.command("reject")
@click.argument("entry", type=int)
@_scope_option
@click.option(
    "--index",
    help="Reject only on this index (the entry's own); by default on every index.",
)
@_reason_option
@_json_option
@click.pass_context
def quarantine_reject(
    ctx: click.Context, entry: int, scope: str, index: str | None, reason: str, as_json: bool
) -> None:
    """Reject an entry: it stays blocked on every index (or --index), with your reason."""
    rule = _backend(ctx).post(
        f"/quarantine/{entry}/reject", {"scope": scope, "index": index, "reason": reason}
    )
    _emit(rule, as_json, lambda r: f"rejected {_target(r)}{_on(r['index'])} (rule {r['id']})")


def _on(index: str) -> str:
    return " on every index" if index == "*" else f" on index {index!r}"


def _target(rule: dict[str, Any]) -> str:
    return " ".join(p for p in (rule["project"], rule.get("version"), rule.get("file")) if p)


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
        body: dict[str, Any] = {"rule": rule, "index": index, "reason": reason}
        if everything:
            body["everything"] = True
        added = _backend(ctx).post(f"/lists/{kind}/add", body)
        click.echo(f"added {added['rule']!r} to the {kind} list{_on(added['index'])}")

    @group.command("remove")
    @click.argument("rule")
    @index_option
    @click.option("--reason", "-r", default="", help="Why (kept in the audit log).")
    @click.pass_context
    def remove(ctx: click.Context, rule: str, index: str | None, reason: str) -> None:
        """Remove RULE."""
        removed = _backend(ctx).post(
            f"/lists/{kind}/remove", {"rule": rule, "index": index, "reason": reason}
        )
        click.echo(f"removed {rule!r} from the {kind} list{_on(removed['index'])}")

    @group.command("list")
    @click.option("--index")
    @_json_option
    @click.pass_context
    def show(ctx: click.Context, index: str | None, as_json: bool) -> None:
        """Show the list."""
        data = _backend(ctx).get(f"/lists/{kind}", {"index": index})
        _emit(
            data,
            as_json,
            lambda d: (
                "\n".join(
                    f"{r['index']:<10} {r['rule']:<30} {r['actor']:<12} {r['created_at']}  {r['reason']}"
                    for r in d["rules"]
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
    data = _backend(ctx).get("/decisions", filters)
    data["decisions"].reverse()
    _emit(
        data,
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
