"""How advisory feeds plug into the proxy: a few calls from ``app.py``.

``open_feeds`` (in the lifespan, before the gates are built) loads every feed;
``start`` runs their schedule. A feed that changes becomes new policies on
every gate (``apply``: the gate's generation changes, so no cached page
outlives it) and, retroactively, its known malware leaves the file store
(``purge``): the files of every cached project page that an enforced malicious
policy now blocks are deleted and logged as blocks (decision log, metrics and
the review console), with ``PURGE_CLIENT`` as the client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipgate.policies.decision import Decision, Mode
from pipgate.policies.engine import PolicySet, Verdict
from pipgate.policies.malicious import MaliciousPolicy
from pipgate.policies.subjects import FileSubject, ProjectSubject
from pipgate.proxy.config.policies import build_intel_policies, in_order
from pipgate.proxy.config.settings import Settings, validate_policies
from pipgate.proxy.intel.feeds import Feed, IntelFeeds
from pipgate.proxy.observe.metrics import Metrics

if TYPE_CHECKING:
    from pipgate.proxy.gate import Gate
    from pipgate.proxy.state import AppState

log = logging.getLogger("pipgate.intel")

#: The policies a feed refresh replaces.
INTEL_POLICIES = frozenset({"malicious", "vulnerabilities"})
#: The client named in the decision log for files purged after a feed refresh.
PURGE_CLIENT = "pipgate-feed-refresh"


async def open_feeds(
    settings: Settings, *, clock: Callable[[], datetime], metrics: Metrics | None = None
) -> IntelFeeds:
    """The configured feeds, each loaded (or its failure logged)."""
    feeds = IntelFeeds.from_settings(settings, clock=clock, metrics=metrics)
    await feeds.load()
    return feeds


async def start(state: AppState) -> asyncio.Task[None]:
    """Purge what the loaded feeds condemn (files cached before a feed was set, or
    while it was down), then run the feeds' schedule and the exemption timer in a
    task; cancel it to stop."""
    feeds = state.intel
    assert feeds is not None

    async def changed(feed: Feed) -> None:
        apply(state)
        await _purge_logged(state)

    feeds.start(changed)
    if feeds:
        await _purge_logged(state)

    async def run() -> None:
        if not feeds:
            return
        async with asyncio.TaskGroup() as group:
            group.create_task(_logged(feeds.run(), "the advisory feeds' schedule"))
            group.create_task(_logged(_exemption_timer(state), "the exemption timer"))

    return asyncio.create_task(run())


async def _logged(work: Coroutine[Any, Any, None], what: str) -> None:
    """Run ``work``; a failure is logged, and never stops the other task."""
    try:
        await work
    except Exception:
        log.exception("%s stopped", what)


async def _purge_logged(state: AppState) -> None:
    try:
        await purge(state)
    except Exception:  # the store's trouble must not stop the feeds' schedule
        log.exception(
            "purging files listed by an advisory feed failed; the policy still refuses them"
        )


def apply(state: AppState) -> list[str]:
    """Give every gate the intel policies of the current snapshot; the indexes whose
    policies changed (their gates' generation changes, so pages are rendered again)."""
    intel = state.intel.snapshot() if state.intel is not None else {}
    changed = []
    for index, gate in state.gates.items():
        fresh = build_intel_policies(validate_policies(state.settings, index), intel)
        live = [p for p in gate.policies.policies if p.name in INTEL_POLICIES]
        if _indexes(fresh) == _indexes(live):
            continue
        others = [p for p in gate.policies.policies if p.name not in INTEL_POLICIES]
        gate.policies = PolicySet(in_order([*others, *fresh]))
        changed.append(index)
    return changed


def keep_intel(fresh: PolicySet, live: PolicySet) -> PolicySet:
    """``fresh`` (rebuilt without feeds, e.g. for a new corpus) with ``live`` 's intel policies."""
    others = [p for p in fresh.policies if p.name not in INTEL_POLICIES]
    intel = [p for p in live.policies if p.name in INTEL_POLICIES]
    return PolicySet(in_order([*others, *intel]))


def _indexes(policies: list) -> list[tuple[str, int]]:  # type: ignore[type-arg]
    return [(p.name, id(p.index)) for p in policies]


@dataclass(frozen=True)
class Purged:
    gate: Gate
    project: str
    filename: str
    sha256: str
    decision: Decision


async def purge(state: AppState) -> list[Purged]:
    """Delete from the store every cached file an enforced malicious policy blocks,
    and record each as a block (see the module docstring)."""
    targets = [
        (gate, policy)
        for gate in state.gates.values()
        for policy in gate.policies.policies
        if isinstance(policy, MaliciousPolicy) and policy.mode is Mode.ENFORCE
    ]
    if not targets:
        return []
    now = next(iter(state.gates.values())).clock()
    purged = await asyncio.to_thread(_purge, state, targets, now)
    for item in purged:
        log.warning(
            "purged %s of %r (sha256 %s) from the file store: %s",
            item.filename,
            item.project,
            item.sha256,
            item.decision.reason,
        )
        state.recorder.file(
            item.gate,
            item.project,
            item.filename,
            Verdict(item.decision, (item.decision,)),
            PURGE_CLIENT,
        )
    return purged


def _purge(
    state: AppState, targets: list[tuple[Gate, MaliciousPolicy]], now: datetime
) -> list[Purged]:
    listed = set().union(*(set(policy.index.names()) for _, policy in targets))
    purged: list[Purged] = []
    for name in sorted(listed.intersection(state.index_cache.known_projects())):
        page = state.index_cache.cached(name)
        if page is None:
            continue
        for file in page.project.files:
            sha256 = file.sha256 or state.store.sha256_for_url(file.url)
            if sha256 is None or sha256 not in state.store:
                continue
            for gate, policy in targets:
                decision = policy.check_project(ProjectSubject(page.project.name, gate.index), now)
                if decision.allowed:
                    subject = FileSubject(
                        page.project.name,
                        file.filename,
                        file.version,
                        file.upload_time,
                        sha256,
                        gate.index,
                    )
                    decision = policy.check_file(subject, now)
                if not decision.allowed:
                    if state.store.delete(sha256):
                        purged.append(Purged(gate, name, file.filename, sha256, decision))
                    break
    return purged


async def _exemption_timer(state: AppState) -> None:
    """Exemptions expire: when one does, the gates' generation changes, so no cached
    page keeps serving what it no longer covers."""
    untils = set()
    for index in state.settings.index_names:
        policies = validate_policies(state.settings, index)
        for table in (policies.malicious, policies.vulnerabilities):
            untils |= {exemption.until for exemption in table.exempt}
    gates = state.gates
    for until in sorted(untils):
        now = next(iter(gates.values())).clock()
        if until <= now:
            continue
        await asyncio.sleep((until - now).total_seconds() + 0.001)
        for gate in gates.values():
            gate.policies = gate.policies
