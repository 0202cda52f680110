"""``pipgate policy check``: the server's decision for names, without installing anything.

The decision is ``ProjectAccess.check``'s, the same code the server uses: the
same configuration, the runtime allow and deny lists and every reviewer rule.
Two ways to get it:

- beside the data directory (the default): the gates are built here from the
  configuration, the reviewer rules are read from the data directory's review
  store (when it has one) and the advisory feeds from their last good copies;
- from a running server (``--url`` or ``PIPGATE_URL``, with a read token from
  ``PIPGATE_TOKEN``): it answers with its own gates, overrides and page cache.

Offline (the default) a name is judged from the name alone (and ``==VERSION``
from the version): every policy except release age, which needs upload times.
``--online`` judges the upstream page as a request would; when upstream has no
page for the name (a typosquat taken down upstream), the offline decision stands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from pipgate.policies.decision import Action, Decision
from pipgate.policies.names import BadProjectName, project_name
from pipgate.proxy.access import CheckResult, ProjectAccess, upstream_fetch
from pipgate.proxy.config.settings import Settings

Requirement = tuple[NormalizedName, Version | None]


class InvalidRequirement(ValueError):
    """A ``NAME[==VERSION]`` argument that cannot be read."""


class CheckFailed(Exception):
    """The check could not be made (a server that cannot be reached or refuses)."""


def parse_requirement(text: str) -> Requirement:
    name, sep, version = text.strip().partition("==")
    if not name.strip():
        raise InvalidRequirement(f"{text!r}: expected NAME or NAME==VERSION")
    try:
        return project_name(name.strip()), Version(version) if sep else None
    except (InvalidVersion, BadProjectName) as exc:
        raise InvalidRequirement(f"{text!r}: {exc}") from exc


def check_here(
    settings: Settings,
    index: str,
    requirements: Sequence[Requirement],
    *,
    online: bool,
    corpus: list[str],
    intel: Any,
) -> list[CheckResult]:
    """Judge ``requirements`` in this process, as the server of ``settings`` would."""
    from pipgate.proxy.app import build_gates
    from pipgate.proxy.quarantine.review import load_overrides
    from pipgate.proxy.upstream.client import UpstreamClient, UpstreamConfig

    def clock() -> datetime:
        return datetime.now(UTC)

    overrides = load_overrides(settings.cache.data_dir, clock)
    gates = build_gates(settings, corpus, clock, overrides=overrides, intel=intel)

    async def run() -> list[CheckResult]:
        upstream = UpstreamClient(UpstreamConfig.from_settings(settings.upstream))
        fetch = upstream_fetch(upstream.get_project, lambda: clock().timestamp())
        access = ProjectAccess(gates, fetch)
        try:
            return [
                await access.check(index, name, version, online=online)
                for name, version in requirements
            ]
        finally:
            await upstream.aclose()

    return asyncio.run(run())


def check_remote(
    url: str, token: str | None, index: str, requirements: Iterable[str], *, online: bool
) -> list[CheckResult]:
    """Ask the server at ``url`` (``GET /-/admin/check``, read scope)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params: list[tuple[str, str]] = [("index", index), ("online", "1" if online else "0")]
    params += [("requirement", text) for text in requirements]
    endpoint = url.rstrip("/") + "/-/admin/check"
    try:
        response = httpx.get(endpoint, params=params, headers=headers, timeout=120, trust_env=False)
    except httpx.HTTPError as exc:
        raise CheckFailed(f"cannot reach {endpoint}: {exc}") from exc
    try:
        body = response.json()
    except ValueError:
        body = {"error": response.text.strip()}
    if response.status_code != 200:
        message = body.get("error") if isinstance(body, dict) else response.text
        raise CheckFailed(f"{endpoint}: {response.status_code}: {message}")
    return [result_from_json(item) for item in body["results"]]


def result_from_json(data: dict[str, Any]) -> CheckResult:
    """The inverse of ``CheckResult.as_json``."""
    available = data.get("available_at")
    return CheckResult(
        name=data["name"],
        version=data.get("version"),
        decision=Decision(
            Action[str(data["action"]).upper()],
            data["policy"],
            data["reason"],
            datetime.fromisoformat(available) if available else None,
        ),
        files_held=data.get("files_held", 0),
        files_total=data.get("files_total", 0),
        note=data.get("note", ""),
    )


def text_line(result: CheckResult) -> str:
    label = result.name + (f"=={result.version}" if result.version else "")
    held = f" ({result.files_held}/{result.files_total} files held)" if result.files_total else ""
    note = f" [{result.note}]" if result.note else ""
    d = result.decision
    return f"{label}: {d.action} ({d.policy}) {d.reason}{held}{note}"
