"""``pipgate warm``: resolve and prefetch through a running pipgate, then say what is held.

Inputs: requirements files (``-r``), ``pyproject.toml`` (``--project``), resolved by
uv through pipgate for every platform at once (``--universal``) or for each
``--python``/``--platform`` target; and ``uv.lock`` files (``--lock``), whose files
are fetched as locked. Every file goes through pipgate, so its cache holds them
afterwards. Exit status: 0 when everything wanted is warm, 1 when a resolution or
a download failed or something a lock or a pin asks for is held, 2 on a usage error.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import click
import httpx
from packaging.utils import NormalizedName

PathArg = click.Path(exists=True, dir_okay=False, path_type=Path)


@dataclass
class Report:
    outcomes: list[Any] = field(default_factory=list)
    holds: list[Any] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(
            self.problems
            or any(o.status == "failed" for o in self.outcomes)
            or any(h.needed for h in self.holds)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "files": [
                {**asdict(o.file), "status": o.status, "bytes": o.size, "message": o.message}
                for o in self.outcomes
                if o.status != "held"
            ],
            "held": [asdict(h) for h in self.holds],
            "problems": self.problems,
        }


@click.command("warm")
@click.option(
    "-r",
    "--requirement",
    "requirements",
    multiple=True,
    type=PathArg,
    help="A requirements file (repeatable).",
)
@click.option(
    "--project", "projects", multiple=True, type=PathArg, help="A pyproject.toml (repeatable)."
)
@click.option(
    "--lock", "locks", multiple=True, type=PathArg, help="A uv.lock: fetch every file it names."
)
@click.option(
    "--python",
    "pythons",
    multiple=True,
    help="Target Python, e.g. 3.12 (repeatable; default: all).",
)
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    help="Target platform: linux, macos, windows or a uv platform (repeatable; default: all).",
)
@click.option("--all-extras", is_flag=True, help="Include every optional dependency.")
@click.option(
    "--url",
    envvar="PIPGATE_URL",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="pipgate's address (PIPGATE_URL).",
)
@click.option("--index", default="default", show_default=True, help="The named index to warm.")
@click.option(
    "--token", envvar="PIPGATE_TOKEN", help="A token, when the index needs one (PIPGATE_TOKEN)."
)
@click.option(
    "--jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Downloads at once."
)
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text")
def warm(
    requirements: tuple[Path, ...],
    projects: tuple[Path, ...],
    locks: tuple[Path, ...],
    pythons: tuple[str, ...],
    platforms: tuple[str, ...],
    all_extras: bool,
    url: str,
    index: str,
    token: str | None,
    jobs: int,
    output: str,
) -> None:
    """Resolve requirements through pipgate and fetch every file they need."""
    from pipgate.proxy.warm.resolve import find_uv
    from pipgate.proxy.warm.targets import targets_of

    if not (requirements or projects or locks):
        raise click.UsageError("give at least one of -r FILE, --project FILE, --lock FILE")
    try:
        targets = targets_of(pythons, platforms)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    uv = find_uv() if (requirements or projects) else None
    if (requirements or projects) and uv is None:
        raise click.UsageError(
            "resolving -r/--project needs uv: pip install 'pipgate[warm]' (or put uv on PATH)"
        )
    report = asyncio.run(
        _warm(
            url=url,
            index=index,
            token=token,
            uv=uv,
            inputs=[*requirements, *projects],
            locks=list(locks),
            targets=targets,
            all_extras=all_extras,
            jobs=jobs,
        )
    )
    if output == "json":
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        _print_report(report)
    sys.exit(1 if report.failed else 0)


async def _warm(
    *,
    url: str,
    index: str,
    token: str | None,
    uv: str | None,
    inputs: Sequence[Path],
    locks: Sequence[Path],
    targets: Sequence[Any],
    all_extras: bool,
    jobs: int,
) -> Report:
    from rich.console import Console

    from pipgate.proxy.warm.fetch import Pipgate, PipgateUnavailable, Wanted
    from pipgate.proxy.warm.resolve import ResolveError, locked_files

    console = Console(stderr=True)
    report = Report()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = httpx.Timeout(60.0, connect=10.0)
    limits = httpx.Limits(max_connections=jobs + 4)
    async with httpx.AsyncClient(
        headers=headers, timeout=timeout, limits=limits, trust_env=False
    ) as client:
        gate = Pipgate(client, url, index)
        wanted: dict[tuple[str, str], Wanted] = {}
        try:
            for lock in locks:
                for f in locked_files(lock):
                    wanted.setdefault(
                        (f.project, f.filename),
                        Wanted(f.project, f.version, f.filename, f.sha256, f.size),
                    )
            if inputs:
                assert uv is not None
                with console.status(
                    f"Resolving {', '.join(map(str, inputs))} through {gate.index_url}"
                ):
                    found = await _resolved(gate, uv, inputs, targets, all_extras, report)
                for f in found:
                    wanted.setdefault((f.project, f.filename), f)
        except (ResolveError, PipgateUnavailable, httpx.HTTPError) as exc:
            report.problems.append(str(exc))
        await _fetch_all(gate, list(wanted.values()), jobs, console, report)
    return report


async def _resolved(
    gate: Any,
    uv: str,
    inputs: Sequence[Path],
    targets: Sequence[Any],
    all_extras: bool,
    report: Report,
) -> list[Any]:
    """The files of every pinned release, filtered by ``targets``; holds go to ``report``."""
    from pipgate.proxy.warm.fetch import Hold, PipgateUnavailable, held_newer
    from pipgate.proxy.warm.resolve import ResolveError, direct_names, resolve
    from pipgate.proxy.warm.targets import wanted

    index_url = _with_token(gate.index_url, gate.client.headers.get("authorization"))
    try:
        pins = await asyncio.to_thread(
            resolve, uv, index_url, inputs, targets, all_extras=all_extras
        )
    except ResolveError as exc:
        report.problems.append(str(exc))
        # Say which of the names asked for pipgate holds: usually why uv found nothing.
        for name in direct_names(inputs, all_extras=all_extras):
            try:
                verdict, held = await gate.holds(name)
            except PipgateUnavailable as exc:
                report.problems.append(str(exc))
                continue
            if verdict.get("action", "allow") != "allow":
                report.holds.append(_project_hold(name, verdict))
            # Every held release may be why: the requirement may pin one of them.
            report.holds += [replace(h, needed=True) for h in held_newer(name, "0", held)]
        return []
    files: list[Any] = []

    async def one(pin: Any) -> None:
        listed = await gate.release_files(pin.name, pin.version)
        if isinstance(listed, Hold):
            report.holds.append(listed)
            return
        files.extend(f for f in listed if wanted(f.filename, targets))
        _, held = await gate.holds(pin.name)
        report.holds.extend(held_newer(pin.name, pin.version, held))

    await asyncio.gather(*(one(pin) for pin in pins))
    return files


def _project_hold(name: NormalizedName, verdict: dict[str, Any]) -> Any:
    from pipgate.proxy.warm.fetch import Hold

    return Hold(
        name,
        None,
        None,
        verdict["action"],
        verdict["policy"],
        verdict["reason"],
        verdict.get("available_at"),
        needed=True,
    )


def _with_token(index_url: str, authorization: str | None) -> str:
    """``index_url`` carrying the bearer token as basic-auth password, for uv."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return index_url
    token = authorization.split(" ", 1)[1]
    scheme, _, rest = index_url.partition("://")
    return f"{scheme}://__token__:{token}@{rest}"


async def _fetch_all(gate: Any, files: list[Any], jobs: int, console: Any, report: Report) -> None:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )

    if not files:
        return
    total = sum(f.size or 0 for f in files)
    slots = asyncio.Semaphore(jobs)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[done]}/{task.fields[files]} files"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("Warming", total=total or None, done=0, files=len(files))

        async def one(file: Any) -> None:
            async with slots:
                outcome = await gate.fetch(file, lambda n: progress.advance(task, n))
            report.outcomes.append(outcome)
            if outcome.hold is not None:
                report.holds.append(outcome.hold)
            progress.update(task, done=len(report.outcomes))

        await asyncio.gather(*(one(f) for f in files))
        fetched = sum(o.size for o in report.outcomes)
        progress.update(
            task, description="Warmed", total=max(total, fetched), completed=max(total, fetched)
        )


def _print_report(report: Report) -> None:
    from rich.console import Console
    from rich.table import Table

    from pipgate.proxy.config.settings import format_size

    console = Console(soft_wrap=True)
    for problem in report.problems:
        console.print(f"[red]error:[/red] {problem}", highlight=False)
    failed = [o for o in report.outcomes if o.status == "failed"]
    for outcome in failed:
        console.print(
            f"[red]failed:[/red] {outcome.file.filename}: {outcome.message}", highlight=False
        )
    if report.holds:
        table = Table(title=f"Held by pipgate ({len(report.holds)})", title_justify="left")
        for column in ("project", "what", "action", "policy", "reason", "available"):
            table.add_column(column, overflow="fold")
        for hold in sorted(
            report.holds, key=lambda h: (h.project, h.version or "", h.filename or "")
        ):
            what = hold.filename or (f"{hold.version}" if hold.version else "every version")
            if not hold.needed and hold.version:
                what = f"{hold.version} (newer; not used)"
            table.add_row(
                hold.project,
                what,
                hold.action,
                hold.policy,
                hold.reason,
                (hold.available_at or "after review")[:16].replace("T", " "),
            )
        console.print(table)
    counts = {
        s: [o for o in report.outcomes if o.status == s] for s in ("fetched", "cached", "unstored")
    }
    warmed = counts["fetched"] + counts["cached"] + counts["unstored"]
    size = sum(o.size for o in warmed)
    console.print(
        f"Warm: {len(warmed)} files, {format_size(size)} "
        f"({len(counts['fetched'])} fetched now, {len(counts['cached'])} already cached"
        + (f", {len(counts['unstored'])} not stored: disk full" if counts["unstored"] else "")
        + f"); {len(report.holds)} held, {len(failed)} failed",
        highlight=False,
    )
