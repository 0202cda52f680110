"""Project pages as served: rendered from a judged view and cached as bytes.

Judging is ``ProjectAccess``'s; this module only renders what it decided. A
rendered page is reused while nothing it depends on has changed: what the
view was judged from (the upstream page's revision, the gate's generation),
metadata the proxy extracted from cached wheels, and time (a held release
that comes of age at ``recheck_at``). A warm page costs a dictionary lookup.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace

import msgspec
from anyio import to_thread
from isal import igzip

from pipgate.policies.decision import Decision
from pipgate.policies.engine import Verdict
from pipgate.proxy.files.store import FileStore
from pipgate.proxy.gate import ProjectView
from pipgate.proxy.index.render import Fragments, Page, ShownFiles, render
from pipgate.proxy.models import DistFile, Project, parse_version
from pipgate.proxy.reason_phrase import Status

GZIP_MIN = 1024
#: ISA-L's level 1 of 0-3: its quickest that still matches strings (level 0 only codes them).
GZIP_LEVEL = 1
#: Seconds a wheel found without extracted metadata is believed so (``Pieces``).
NO_METADATA_FOR = 30.0


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
    return RenderedPage(status, media_type, body, gzipped(body), _etag(body), view, built_from)


def gzipped(body: bytes) -> bytes | None:
    """``body`` as one gzip member (``None`` when too small to be worth it), by ISA-L:
    a 10,000-file page (4 MB) takes 2-3 ms at its level 1, against 12 ms for zlib's
    level 1, and comes out smaller; the GIL is let go meanwhile."""
    if len(body) < GZIP_MIN:
        return None
    return igzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def _etag(body: bytes) -> str:
    # sha256 has the CPU's own instructions here: quicker than blake2b on a large page
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class Pieces:
    """What renderings of one revision of a project page share: each file's HTML piece
    (``Fragments``) and which wheels the store holds extracted metadata of."""

    def __init__(self, revision: object) -> None:
        self.revision = revision
        self.fragments = Fragments()
        #: sha256 of a wheel -> sha256 of its extracted METADATA, or the time.monotonic()
        #: it was found to have none (asked again after ``NO_METADATA_FOR``: another
        #: replica may extract it).
        self.metadata: dict[str, str | float] = {}
        #: Bumped when a wheel's metadata is extracted: a lookup that began before is
        #: not remembered (it may predate the new metadata).
        self.generation = 0
        self.lock = threading.Lock()

    def forget_metadata(self, sha256: str | None) -> bool:
        """Forget what the store said of ``sha256`` (of every wheel when ``None``); true
        if the pages rendered from these pieces list that wheel without upstream's
        metadata (so the extracted metadata changes them)."""
        with self.lock:
            self.generation += 1
            if sha256 is None:
                self.metadata.clear()
                return True
            return self.metadata.pop(sha256, False) is not False


class PageRenderer:
    """Renders and caches pages for every index (bounded LRU of rendered bodies).

    A page rendered again from the same revision of a project page (another index, a
    new view, a wheel's metadata extracted) reuses each file's HTML piece and what the
    store said of extracted metadata (``Pieces``; JSON is encoded again, which costs less
    than looking pieces up). A small page is rendered on the event loop when rendering
    asks the store nothing; concurrent requests for a page being built in a worker
    thread wait for that one build."""

    def __init__(self, store: FileStore, *, capacity: int = 512, projects: int = 64) -> None:
        self._store = store
        self._cache: OrderedDict[tuple[str, str, str], RenderedPage] = OrderedDict()
        self._capacity = capacity
        self.metadata_epoch: dict[str, int] = {}
        self._pieces: OrderedDict[str, Pieces] = OrderedDict()
        self._projects = projects
        self._building: dict[
            tuple[str, str, str],
            tuple[tuple[object, ...], ProjectView, asyncio.Future[RenderedPage]],
        ] = {}

    def metadata_changed(self, project: str, sha256: str | None = None) -> None:
        """The store now holds metadata extracted from a wheel of ``project`` (``sha256``,
        if known): its pages are rendered again to advertise it, unless they list that
        wheel with upstream's own metadata already (the usual case: a page is not built
        again for every wheel downloaded)."""
        pieces = self._pieces.get(project)
        if pieces is not None:
            listed_without = pieces.forget_metadata(sha256)
            building = any(key[1] == project for key in self._building)
            if sha256 is not None and not listed_without and not building:
                return
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
        what the view was judged from (equal values: the same view; its first item is
        the upstream page's revision)."""
        cached = self.rendered(index, project.name, view, judged_from, media_type)
        if cached is not None:
            return cached
        key = (index, project.name, media_type)
        built_from = (*judged_from, self.metadata_epoch.get(project.name, 0))
        building = self._building.get(key)
        if building is not None and building[0] == built_from and building[1] is view:
            return await asyncio.shield(building[2])
        pieces = self._pieces_of(project.name, judged_from[0] if judged_from else None)
        if project.small and not self._asks_the_store(view, pieces):
            # cheaper here than a thread hop, and no I/O
            return self._keep(key, self._build(project, view, media_type, built_from, pieces))
        build = asyncio.ensure_future(
            to_thread.run_sync(self._build, project, view, media_type, built_from, pieces)
        )
        self._building[key] = (built_from, view, build)
        try:
            rendered = await asyncio.shield(build)
        finally:
            if key in self._building and self._building[key][2] is build:
                del self._building[key]
        return self._keep(key, rendered)

    def _keep(self, key: tuple[str, str, str], rendered: RenderedPage) -> RenderedPage:
        self._cache[key] = rendered
        self._cache.move_to_end(key)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return rendered

    def _asks_the_store(self, view: ProjectView, pieces: Pieces) -> bool:
        """Whether rendering ``view`` would ask the store something (I/O): whether a file
        held by release age may be listed (``_listed``), or a listed wheel without
        upstream metadata is not known yet to have extracted metadata or not
        (``_extracted``)."""
        if any(_listable_hold(f, v) for f, v in view.held):
            return True
        with pieces.lock:
            known = _known_metadata(pieces, time.monotonic())
        return any(sha256 not in known for sha256, _ in _without_metadata(view.shown))

    def rendered(
        self,
        index: str,
        name: str,
        view: ProjectView,
        judged_from: tuple[object, ...],
        media_type: str,
    ) -> RenderedPage | None:
        """``page``'s answer when the page is rendered already and still current, else
        ``None`` (no thread, no waiting: the fast path asks this)."""
        key = (index, name, media_type)
        cached = self._cache.get(key)
        if (
            cached is None
            or cached.view is not view
            or cached.built_from != (*judged_from, self.metadata_epoch.get(name, 0))
        ):
            return None
        self._cache.move_to_end(key)
        return cached

    def _pieces_of(self, name: str, revision: object) -> Pieces:
        pieces = self._pieces.get(name)
        if pieces is None or pieces.revision != revision:
            pieces = self._pieces[name] = Pieces(revision)
        self._pieces.move_to_end(name)
        while len(self._pieces) > self._projects:
            self._pieces.popitem(last=False)
        return pieces

    def _build(
        self,
        project: Project,
        view: ProjectView,
        media_type: str,
        built_from: tuple[object, ...],
        pieces: Pieces,
    ) -> RenderedPage:
        decision = view.verdict.decision
        if not view.verdict.allowed:
            page = Page(project, (), status="quarantined", status_reason=status_reason(decision))
            status: int = refusal_status(decision, PROJECT_REFUSED)
            return _finish(status, media_type, render(page, media_type), view, built_from)
        listed = self._listed(project, view)
        page = Page(
            _without_held_versions(project, view, listed),
            ShownFiles(project, listed, metadata_hashes=self._extracted(listed, pieces)),
        )
        body = render(page, media_type, pieces.fragments)
        return _finish(200, media_type, body, view, built_from)

    def _extracted(
        self, listed: list[DistFile], pieces: Pieces
    ) -> dict[str, dict[str, str] | None]:
        """Listed wheels without upstream metadata whose METADATA the store extracted:
        filename -> its hashes. Asked of the store once per wheel and revision (in
        batches), then remembered until ``metadata_changed``."""
        wanted = _without_metadata(listed)
        now = time.monotonic()
        with pieces.lock:
            generation = pieces.generation
            known = _known_metadata(pieces, now)
        unknown = list({sha256 for sha256, _ in wanted if sha256 not in known})
        if unknown:
            found = self._store.metadata_hashes(unknown)
            fresh: dict[str, str | float] = dict.fromkeys(unknown, now)
            fresh.update(found)
            with pieces.lock:
                if pieces.generation == generation:
                    pieces.metadata.update(fresh)
            if not found and not any(isinstance(value, str) for value in known.values()):
                return {}  # a page's first rendering, and the store has none of them
            known.update(fresh)
        return {
            filename: {"sha256": digest}
            for sha256, filename in wanted
            if isinstance(digest := known.get(sha256), str)
        }

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
            if _listable_hold(f, v) and not (f.sha256 and f.sha256 in self._store)
        }
        if not yanked:
            return list(view.shown)
        shown = {f.filename for f in view.shown}
        return [
            f if f.filename in shown else msgspec.structs.replace(f, yanked=yanked[f.filename])
            for f in project.files
            if f.filename in shown or f.filename in yanked
        ]


def _listable_hold(f: DistFile, verdict: Verdict) -> bool:
    """A held file the page may list as yanked, unless the store has it (``_listed``)."""
    decision = verdict.decision
    return decision.policy == "release-age" and decision.available_at is not None and not f.yanked


def _without_metadata(files: Iterable[DistFile]) -> list[tuple[str, str]]:
    """(sha256, filename) of the wheels in ``files`` whose page gives no metadata."""
    return [
        (sha256, f.filename)
        for f in files
        if not f.core_metadata
        and f.filename.endswith(".whl")
        and (sha256 := f.hashes.get("sha256"))
    ]


def _known_metadata(pieces: Pieces, now: float) -> dict[str, str | float]:
    """What ``pieces`` remember of wheels' extracted metadata and still believe (call
    with ``pieces.lock`` held)."""
    return {
        sha256: value
        for sha256, value in pieces.metadata.items()
        if isinstance(value, str) or now - value < NO_METADATA_FOR
    }


def _without_held_versions(project: Project, view: ProjectView, listed: list[DistFile]) -> Project:
    """``project`` whose PEP 700 ``versions`` omit releases none of whose files the page
    lists, so a page never tells of a release it withholds without saying why."""
    if not view.held:
        return project
    shown = {f.version for f in listed}
    held = {f.version for f, _ in view.held} - shown
    if not held:
        return project
    return replace(
        project, versions=tuple(v for v in project.versions if parse_version(v) not in held)
    )
