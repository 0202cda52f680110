"""Project pages as served: judged, rendered and cached as bytes.

A rendered page is reused while nothing it depends on has changed: the cached
upstream page (its revision), the gate (policies and reviewer overrides),
metadata the proxy extracted from cached wheels, and time (a held release
that comes of age at ``recheck_at``). Policies therefore run again exactly
when their answer could differ, and a warm page costs a dictionary lookup.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime

from anyio import to_thread
from packaging.utils import NormalizedName

from pipgate.policies.decision import Decision
from pipgate.policies.engine import Verdict
from pipgate.policies.subjects import ProjectFacts
from pipgate.proxy.files.store import FileStore
from pipgate.proxy.gate import Gate, ProjectView
from pipgate.proxy.index.render import SUPPORTED, Page, render, shown_files
from pipgate.proxy.models import Project, parse_version
from pipgate.proxy.reason_phrase import Status

GZIP_MIN = 1024


@dataclass(frozen=True)
class RenderedPage:
    """A page body ready to send, with what it was built from."""

    status: int
    media_type: str
    body: bytes
    gzipped: bytes | None
    etag: str
    view: ProjectView
    built_from: tuple[object, ...]
    expires: datetime | None


def refusal_status(decision: Decision) -> Status:
    """403 with the decision as its reason phrase:
    ``Quarantine by release-age: uploaded 2 h ago; ...``."""
    return Status(
        403, f"{str(decision.action).capitalize()} by {decision.policy}: {decision.reason}"
    )


def status_reason(decision: Decision) -> str:
    """The PEP 792 ``project-status`` reason of a refused project."""
    return f"{decision.action} by {decision.policy}: {decision.reason}"


def _finish(
    status: int, media_type: str, body: bytes, view: ProjectView, built_from: tuple[object, ...]
) -> RenderedPage:
    gzipped = gzip.compress(body, compresslevel=5, mtime=0) if len(body) >= GZIP_MIN else None
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    return RenderedPage(status, media_type, body, gzipped, etag, view, built_from, view.recheck_at)


class PageRenderer:
    """Renders and caches pages for every index (bounded LRU of rendered bodies)."""

    def __init__(self, store: FileStore, *, capacity: int = 512) -> None:
        self._store = store
        self._cache: OrderedDict[tuple[str, str, str], RenderedPage] = OrderedDict()
        self._capacity = capacity
        #: The facts of the pages rendered last, by project: ``project_verdict`` judges from them.
        self._facts: OrderedDict[str, ProjectFacts] = OrderedDict()
        self.metadata_epoch: dict[str, int] = {}

    def project_verdict(self, gate: Gate, name: NormalizedName) -> Verdict | None:
        """``name``'s project verdict on ``gate``'s index now, from a page rendered earlier
        for any index (no upstream, no disk); ``None`` when no page of it was rendered
        lately. A page rendered for this index gives its verdict while nothing changed;
        otherwise the project is judged again from the facts of the page last rendered."""
        for media_type in SUPPORTED:
            cached = self._cache.get((gate.index, name, media_type))
            if cached is not None:
                fresh = cached.expires is None or gate.clock() < cached.expires
                if fresh and cached.built_from[1] == gate.generation:
                    return cached.view.verdict
                break
        facts = self._facts.get(name)
        return gate.judge_facts(name, facts) if facts is not None else None

    def metadata_changed(self, project: str) -> None:
        self.metadata_epoch[project] = self.metadata_epoch.get(project, 0) + 1

    async def page(
        self, gate: Gate, project: Project, revision: int, media_type: str
    ) -> RenderedPage:
        key = (gate.index, project.name, media_type)
        built_from = (revision, gate.generation, self.metadata_epoch.get(project.name, 0))
        cached = self._cache.get(key)
        now = gate.clock()
        if (
            cached is not None
            and cached.built_from == built_from
            and (cached.expires is None or now < cached.expires)
        ):
            self._cache.move_to_end(key)
            return cached
        rendered = await to_thread.run_sync(self._build, gate, project, media_type, built_from)
        self._cache[key] = rendered
        self._cache.move_to_end(key)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        if rendered.view.facts is not None:
            self._facts[project.name] = rendered.view.facts
            self._facts.move_to_end(project.name)
            while len(self._facts) > self._capacity:
                self._facts.popitem(last=False)
        return rendered

    def _build(
        self, gate: Gate, project: Project, media_type: str, built_from: tuple[object, ...]
    ) -> RenderedPage:
        view = gate.view(project)
        decision = view.verdict.decision
        if not view.verdict.allowed:
            page = Page(project, (), status="quarantined", status_reason=status_reason(decision))
            status: int = refusal_status(decision)
            return _finish(status, media_type, render(page, media_type), view, built_from)
        extracted = {}
        for f in view.shown:
            if not f.core_metadata and f.filename.endswith(".whl") and f.sha256:
                digest = self._store.metadata_hash(f.sha256)
                if digest:
                    extracted[f.filename] = {"sha256": digest}
        page = Page(
            _without_held_versions(project, view),
            shown_files(project, view.shown, metadata_hashes=extracted),
        )
        return _finish(200, media_type, render(page, media_type), view, built_from)


def _without_held_versions(project: Project, view: ProjectView) -> Project:
    """``project`` whose PEP 700 ``versions`` omit releases whose every file is held,
    so a page never tells of a release it withholds."""
    shown = {f.version for f in view.shown}
    held = {f.version for f, _ in view.held} - shown
    if not held:
        return project
    return replace(
        project, versions=tuple(v for v in project.versions if parse_version(v) not in held)
    )
