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
from pipgate.proxy.models import DistFile, Project, parse_version
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


#: A refused file (or its ``.metadata``): every installer prints a 403's reason phrase.
FILE_REFUSED = 403
#: A refused project page: uv and poetry print a 451's reason phrase (a 403 makes them
#: blame credentials), and poetry does not fall through to another source
#: (docs/installer-messages.md). pip shows any page error only with ``-vv``.
PROJECT_REFUSED = 451


def refusal_status(decision: Decision, code: int = FILE_REFUSED) -> Status:
    """``code`` with the decision as its reason phrase:
    ``Quarantine by release-age: uploaded 2 h ago; ...``."""
    return Status(
        code, f"{str(decision.action).capitalize()} by {decision.policy}: {decision.reason}"
    )


def hold_as_yanked(decision: Decision) -> str:
    """The PEP 592 yanked reason that carries a hold to the person at the terminal."""
    return f"pipgate: {decision.action.past} by policy {decision.policy!r}: {decision.reason}"


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
            status: int = refusal_status(decision, PROJECT_REFUSED)
            return _finish(status, media_type, render(page, media_type), view, built_from)
        listed = self._listed(project, view)
        extracted = {}
        for f in listed:
            if not f.core_metadata and f.filename.endswith(".whl") and f.sha256:
                digest = self._store.metadata_hash(f.sha256)
                if digest:
                    extracted[f.filename] = {"sha256": digest}
        page = Page(
            _without_held_versions(project, view, listed),
            shown_files(project, listed, metadata_hashes=extracted),
        )
        return _finish(200, media_type, render(page, media_type), view, built_from)

    def _listed(self, project: Project, view: ProjectView) -> list[DistFile]:
        """The files the page lists: those shown, and those held by release age that
        no client can have from pipgate yet, as yanked with the hold as the reason.

        A yanked file is chosen only by an exact pin (PEP 592), so an unpinned install
        still gets the newest allowed release, while ``pip install demo==2.0`` is sent
        to the file, which refuses with the reason (and uv prints the yanked reason even
        for a range). A file the store has (served before, perhaps cached by a client
        that would install it without asking) stays off the page, as does every other
        hold: listing it could let such a cache install it.
        """
        yanked = {
            f.filename: hold_as_yanked(v.decision)
            for f, v in view.held
            if v.decision.policy == "release-age"
            and v.decision.available_at is not None
            and not f.yanked
            and not (f.sha256 and f.sha256 in self._store)
        }
        if not yanked:
            return list(view.shown)
        shown = {f.filename for f in view.shown}
        return [
            f if f.filename in shown else replace(f, yanked=yanked[f.filename])
            for f in project.files
            if f.filename in shown or f.filename in yanked
        ]


def _without_held_versions(project: Project, view: ProjectView, listed: list[DistFile]) -> Project:
    """``project`` whose PEP 700 ``versions`` omit releases none of whose files the page
    lists, so a page never tells of a release it withholds without saying why."""
    shown = {f.version for f in listed}
    held = {f.version for f, _ in view.held} - shown
    if not held:
        return project
    return replace(
        project, versions=tuple(v for v in project.versions if parse_version(v) not in held)
    )
