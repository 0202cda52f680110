"""Project pages as served: rendered from a judged view and cached as bytes.

Judging is ``ProjectAccess``'s; this module only renders what it decided. A
rendered page is reused while nothing it depends on has changed: what the
view was judged from (the upstream page's revision, the gate's generation),
metadata the proxy extracted from cached wheels, and time (a held release
that comes of age at ``recheck_at``). A warm page costs a dictionary lookup.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace

from anyio import to_thread

from pipgate.policies.decision import Decision
from pipgate.proxy.files.store import FileStore
from pipgate.proxy.gate import ProjectView
from pipgate.proxy.index.render import Page, render, shown_files
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
    return RenderedPage(status, media_type, body, gzipped, etag, view, built_from)


class PageRenderer:
    """Renders and caches pages for every index (bounded LRU of rendered bodies)."""

    def __init__(self, store: FileStore, *, capacity: int = 512) -> None:
        self._store = store
        self._cache: OrderedDict[tuple[str, str, str], RenderedPage] = OrderedDict()
        self._capacity = capacity
        self.metadata_epoch: dict[str, int] = {}

    def metadata_changed(self, project: str) -> None:
        self.metadata_epoch[project] = self.metadata_epoch.get(project, 0) + 1

    async def page(
        self,
        index: str,
        project: Project,
        view: ProjectView,
        judged_from: tuple[object, ...],
        media_type: str,
    ) -> RenderedPage:
        """``project`` on ``index`` as ``view`` shows it; ``judged_from`` identifies
        what the view was judged from (equal values: the same view)."""
        key = (index, project.name, media_type)
        built_from = (*judged_from, self.metadata_epoch.get(project.name, 0))
        cached = self._cache.get(key)
        if cached is not None and cached.built_from == built_from and cached.view is view:
            self._cache.move_to_end(key)
            return cached
        rendered = await to_thread.run_sync(self._build, project, view, media_type, built_from)
        self._cache[key] = rendered
        self._cache.move_to_end(key)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return rendered

    def _build(
        self, project: Project, view: ProjectView, media_type: str, built_from: tuple[object, ...]
    ) -> RenderedPage:
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
