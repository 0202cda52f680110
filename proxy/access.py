"""``ProjectAccess``: the one way a project or a file is judged for a request.

Every caller that hands out or reports on a project goes through here: the
page and file views, the root ``/simple/`` listing, the console's project page
and ``pipgate policy check`` (in-process beside a data directory, or asked of a
running server). The steps are always the same, in this order:

1. the name, already normalized (``policies.names.project_name``);
2. the index's gate judges the name before upstream is asked (allowlist,
   denylist, internal names, known malware, reviewer rules by name);
3. the page of the first of the index's sources that has the project (``routing``:
   a hosted index, a private upstream, the public one; internal names are looked
   up only in hosted and private sources), or the cached or upstream page;
4. the gate judges the project with the page's facts, then each file;
5. the decision is recorded (decision log, metrics, the review queue) and a
   client refused too often is slowed down (``TooManyRefusals``).

A new policy therefore reaches every caller, and a new caller cannot skip a
step. Judging a whole page (every file) is cached per index while nothing it
depends on changed: the page's revision, the gate's generation (policies and
reviewer rules) and time (a hold that lapses at ``recheck_at``).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from packaging.utils import NormalizedName
from packaging.version import Version

from pipgate.policies.decision import ALLOW, Decision
from pipgate.policies.engine import ALLOWED, Verdict
from pipgate.policies.subjects import Origin, ProjectFacts
from pipgate.proxy.errors import (
    FileNotListed,
    PipgateError,
    TooManyRefusals,
    UnknownIndex,
    UpstreamNotFound,
)
from pipgate.proxy.files.scan import FileScan
from pipgate.proxy.gate import Gate, ProjectView, facts_of
from pipgate.proxy.index.cache import CachedPage, PageResult
from pipgate.proxy.models import DistFile, Project
from pipgate.proxy.observe.recorder import Recorder
from pipgate.proxy.rate_limit import ClientBuckets
from pipgate.proxy.routing import Found, Router, Source

#: Fetches a project page: the index cache in the server, upstream itself in the CLI.
Fetch = Callable[[NormalizedName], Awaitable[PageResult]]


@dataclass(frozen=True)
class ProjectDecision:
    """A project as one index decides it now. ``page`` is ``None`` when the name was
    refused before upstream was asked (``by_name``)."""

    gate: Gate
    name: NormalizedName
    verdict: Verdict
    page: PageResult | None
    #: The source that has the project (``None``: the one upstream, without a router).
    source: Source | None = None

    @property
    def origin(self) -> Origin:
        return self.source.origin if self.source is not None else "public"

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed

    @property
    def by_name(self) -> bool:
        return self.page is None

    @property
    def project(self) -> Project:
        assert self.page is not None, "refused by name: no page was fetched"
        return self.page.page.project


@dataclass(frozen=True)
class PageDecision:
    """A project page as one index shows it: the project decision and every file's."""

    project: ProjectDecision
    view: ProjectView | None

    @property
    def built_from(self) -> tuple[object, ...]:
        assert self.project.page is not None
        project = self.project
        return (project.page.page.revision, project.gate.generation, project.origin)  # type: ignore[union-attr]


@dataclass(frozen=True)
class FileDecision:
    """One file of a project as one index decides it now (``file`` is ``None`` when the
    project itself was refused)."""

    project: ProjectDecision
    file: DistFile | None
    verdict: Verdict

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed


@dataclass(frozen=True)
class CheckResult:
    """What ``pipgate policy check`` reports for one ``NAME[==VERSION]``."""

    name: str
    version: str | None
    decision: Decision
    files_held: int = 0
    files_total: int = 0
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "action": str(self.decision.action),
            "policy": self.decision.policy,
            "reason": self.decision.reason,
        }
        if self.decision.available_at is not None:
            data["available_at"] = self.decision.available_at.isoformat()
        if self.files_total:
            data["files_held"] = self.files_held
            data["files_total"] = self.files_total
        if self.note:
            data["note"] = self.note
        return data


class ProjectAccess:
    """Judges projects and files for every index (see the module docstring).

    ``recorder`` is ``None`` where nothing is recorded (``policy check`` beside a
    data directory); ``limiter`` slows clients that are refused too often; ``scan``
    is the content scan, whose reports the gates read (``Gate.scan_check``).
    ``router`` gives each index its sources; without it every project comes from ``fetch``.
    """

    def __init__(
        self,
        gates: Mapping[str, Gate],
        fetch: Fetch,
        *,
        scan: FileScan | None = None,
        router: Router | None = None,
        recorder: Recorder | None = None,
        limiter: ClientBuckets | None = None,
        on_limited: Callable[[str], None] = lambda index: None,
        views: int = 512,
    ) -> None:
        self.gates = gates
        self._fetch = fetch
        self._scan = scan
        self.router = router
        self._recorder = recorder
        self._limiter = limiter
        self._on_limited = on_limited
        self._views: OrderedDict[tuple[str, str], tuple[tuple[object, ...], ProjectView]] = (
            OrderedDict()
        )
        self._capacity = views
        #: The facts of each project judged lately, for the ``/simple/`` listing.
        self._facts: OrderedDict[str, ProjectFacts] = OrderedDict()

    def gate(self, index: str) -> Gate:
        try:
            return self.gates[index]
        except KeyError:
            raise UnknownIndex(f"no index is configured under /{index}/") from None

    # -- judging (records nothing) ----------------------------------------------------------

    async def locate(self, gate: Gate, name: NormalizedName) -> ProjectDecision:
        """Steps 2-3: the verdict on the name, and (when it allows) the page of the
        source that has the project. An internal name refused as coming from the public
        index is looked up in the hosted and private sources; found in none, it keeps
        that refusal (the public index is never asked)."""
        public = gate.before_fetch(name)
        if self.router is None:
            if not public.allowed:
                return ProjectDecision(gate, name, public, None)
            return ProjectDecision(gate, name, public, await self._fetch(name))
        if public.allowed:
            return _found(gate, name, public, await self.router.find(gate.index, name))
        if not self.router.has_private(gate.index):
            return ProjectDecision(gate, name, public, None)
        private = gate.before_fetch(name, "private")
        if not private.allowed:
            return ProjectDecision(gate, name, private, None)
        try:
            found = await self.router.find(gate.index, name, public=False)
        except UpstreamNotFound:
            return ProjectDecision(gate, name, public, None)
        return _found(gate, name, private, found)

    async def judge(self, index: str, name: NormalizedName) -> ProjectDecision:
        """Steps 2-4 for the project: the name, then the page's facts."""
        located = await self.locate(self.gate(index), name)
        if located.page is None:
            return located
        facts = facts_of(located.project)
        self._remember_facts(name, facts)
        verdict = located.gate.judge_facts(name, facts, located.origin)
        return ProjectDecision(located.gate, name, verdict, located.page, located.source)

    async def view(self, decision: ProjectDecision) -> ProjectView:
        """Every file of an allowed project judged (cached while nothing it depends on changed)."""
        assert decision.page is not None
        gate, cached = decision.gate, decision.page.page
        view = self.judged(gate, decision.name, cached.revision, decision.origin)
        if view is not None:
            return view
        key = (gate.index, decision.name)
        built_from = (cached.revision, gate.generation, decision.origin)
        if cached.project.small:  # cheaper here than a thread hop
            view = gate.view(cached.project, decision.origin)
        else:
            view = await to_thread.run_sync(gate.view, cached.project, decision.origin)
        self._views[key] = (built_from, view)
        self._views.move_to_end(key)
        while len(self._views) > self._capacity:
            self._views.popitem(last=False)
        return view

    def judged(
        self, gate: Gate, name: NormalizedName, revision: int, origin: object
    ) -> ProjectView | None:
        """The cached view of revision ``revision`` of ``name``'s page from a source of
        ``origin`` on ``gate``'s index while it holds (same generation, no hold lapsed
        since), else ``None``."""
        key = (gate.index, name)
        found = self._views.get(key)
        if found is None or found[0] != (revision, gate.generation, origin):
            return None
        view = found[1]
        if view.recheck_at is not None and gate.clock() >= view.recheck_at:
            return None
        self._views.move_to_end(key)
        return view

    async def file_verdicts(self, decision: ProjectDecision) -> list[tuple[DistFile, Verdict]]:
        """Every file of a fetched project with its verdict (what the console shows): from
        the judged page when the project is allowed, else each file judged on its own."""
        project = decision.project
        if not decision.allowed:
            judge, origin = decision.gate.judge_file, decision.origin
            return await to_thread.run_sync(
                lambda: [(f, judge(project.name, f, origin)) for f in project.files]
            )
        view = await self.view(decision)
        verdicts = {f.filename: v for f, v in (*view.held, *view.dry_run)}
        return [(f, verdicts.get(f.filename, ALLOWED)) for f in project.files]

    def listable(self, index: str, name: NormalizedName, origin: Origin = "public") -> bool:
        """Whether ``/simple/`` may list ``name`` on ``index``, without asking upstream:
        the name-only policies allow it (as served from a source of ``origin``) and,
        when its page was judged lately, the project verdict from that page's facts does
        too. Blocking-free; any thread."""
        gate = self.gate(index)
        if not gate.before_fetch(name, origin).allowed:
            return False
        facts = self._facts.get(name)
        if facts is not None:
            return gate.judge_facts(name, facts, origin).allowed
        return gate.judge_name(name, origin).allowed

    # -- serving (records) -----------------------------------------------------------------

    async def project(self, index: str, name: NormalizedName, client: str) -> ProjectDecision:
        """The project decision for a request for one of its files, recorded."""
        decision = await self.judge(index, name)
        if not decision.allowed:
            self._slow_down(decision.gate, client)
        if self._recorder is not None:
            self._recorder.project(
                decision.gate, name, decision.verdict, client, page=False, by_name=decision.by_name
            )
        return decision

    async def page(self, index: str, name: NormalizedName, client: str) -> PageDecision:
        """A project page for a request: the project and, when it is allowed, every file."""
        gate = self.gate(index)
        decision = await self.locate(gate, name)
        if decision.page is None:
            early = decision.verdict
            self._slow_down(gate, client)
            if self._recorder is not None:
                self._recorder.project(gate, name, early, client, page=True, by_name=True)
            return PageDecision(decision, None)
        view = await self.view(decision)
        decision = ProjectDecision(gate, name, view.verdict, decision.page, decision.source)
        if not view.verdict.allowed:
            self._remember_facts(name, view.facts)
            self._slow_down(gate, client)
            if self._recorder is not None:
                self._recorder.view(gate, name, view, client)
        else:
            self.served_warm(gate, name, view, client)
        return PageDecision(decision, view)

    def served_warm(self, gate: Gate, name: NormalizedName, view: ProjectView, client: str) -> None:
        """What ``page`` records of an allowed page (the fast path answers with ``judged``'s
        view and calls this, so both paths record alike)."""
        self._remember_facts(name, view.facts)
        if self._recorder is not None:
            self._recorder.view(gate, name, view, client)

    async def file(
        self, index: str, name: NormalizedName, filename: str, client: str, *, content: bool = False
    ) -> FileDecision:
        """A file of a project for a request, recorded; ``FileNotListed`` when the
        project's page has no such file. ``content``: the file's bytes are wanted, so a
        stored file without a current content-scan report is scanned first."""
        decision = await self.project(index, name, client)
        if not decision.allowed:
            return FileDecision(decision, None, decision.verdict)
        file = decision.project.file(filename)
        if file is None:
            raise FileNotListed(f"project {name!r} has no file {filename!r}")
        verdict = decision.gate.judge_file(name, file, decision.origin)
        if verdict.allowed and content and await self._scan_stored(file):
            verdict = decision.gate.judge_file(name, file, decision.origin)
        if not verdict.allowed:
            self._slow_down(decision.gate, client)
        if self._recorder is not None:
            self._recorder.file(decision.gate, name, filename, verdict, client)
        return FileDecision(decision, file, verdict)

    async def recheck(self, decision: FileDecision, client: str) -> FileDecision:
        """``decision`` judged again once its file's content scan has a report (after its
        download, or a scan in memory); recorded when the answer changed."""
        assert decision.file is not None
        project = decision.project
        verdict = project.gate.judge_file(project.name, decision.file, project.origin)
        if verdict == decision.verdict:
            return decision
        if not verdict.allowed:
            self._slow_down(project.gate, client)
        if self._recorder is not None:
            self._recorder.file(project.gate, project.name, decision.file.filename, verdict, client)
        return FileDecision(project, decision.file, verdict)

    def forget(self, name: str) -> None:
        """Judge ``name``'s pages again on their next request (a file of it was flagged)."""
        for key in [key for key in self._views if key[1] == name]:
            del self._views[key]

    # -- policy check --------------------------------------------------------------------------

    async def check(
        self, index: str, name: NormalizedName, version: Version | None, *, online: bool
    ) -> CheckResult:
        """The decision the server makes for ``name`` (and ``version``, else the newest).

        Offline, from the name (and version) alone: every policy that needs no upload
        time, with reviewer rules. Online, from the upstream page as a request would
        be judged; when upstream has no page for it, the offline decision stands
        (a typosquat taken down upstream is still one)."""
        gate = self.gate(index)
        offline = _offline(gate, name, version)
        if not online or not self._may_be_served(gate, name):
            return offline
        try:
            decision = await self.judge(index, name)
        except PipgateError as exc:
            note = "; ".join(filter(None, [offline.note, f"upstream: {exc}"]))
            return CheckResult(offline.name, offline.version, offline.decision, note=note)
        if decision.page is None:  # an internal name no hosted or private source has
            return CheckResult(name, str(version) if version else None, decision.verdict.decision)
        wanted = version or _newest(decision.project)
        text = str(wanted) if wanted else None
        if not decision.allowed:
            return CheckResult(name, text, decision.verdict.decision)
        view = await self.view(decision)
        held = [(f, v) for f, v in view.held if f.version == wanted]
        shown = [f for f in view.shown if f.version == wanted]
        total = len(held) + len(shown)
        if total == 0:
            return CheckResult(name, text, ALLOW, note="no such version upstream")
        chosen = held[0][1].decision if held and not shown else ALLOW
        return CheckResult(name, text, chosen, files_held=len(held), files_total=total)

    # -- internals ---------------------------------------------------------------------------

    def _may_be_served(self, gate: Gate, name: NormalizedName) -> bool:
        """Whether a request could get past the name: its verdict allows it, or it is
        refused only as coming from the public index and the index has private sources."""
        if gate.before_fetch(name).allowed:
            return True
        return bool(
            self.router is not None
            and self.router.has_private(gate.index)
            and gate.before_fetch(name, "private").allowed
        )

    def _slow_down(self, gate: Gate, client: str) -> None:
        """Raise ``TooManyRefusals`` when ``client`` has been refused too often lately
        (``[admin] hold_limit``): each refusal may become a queue entry and a message."""
        if self._limiter is None:
            return
        wait = self._limiter.take(client)
        if wait <= 0:
            return
        self._on_limited(gate.index)
        seconds = max(1, math.ceil(wait))
        raise TooManyRefusals(
            f"too many refused requests from {client}; try again in {seconds} s",
            retry_after=seconds,
        )

    async def _scan_stored(self, file: DistFile) -> bool:
        """Give a stored file a report by the current rules (scanning it now if it has
        none); false when the scan is off or the file is not stored (its download scans it)."""
        if self._scan is None:
            return False
        store = self._scan.store
        sha256 = file.sha256 or await store.threads.run(store.sha256_for_url, file.url)
        if sha256 is None:
            return False
        return await self._scan.report(sha256, file.filename) is not None

    def _remember_facts(self, name: NormalizedName, facts: ProjectFacts | None) -> None:
        if facts is None:
            return
        self._facts[name] = facts
        self._facts.move_to_end(name)
        while len(self._facts) > self._capacity:
            self._facts.popitem(last=False)


def _found(gate: Gate, name: NormalizedName, early: Verdict, found: Found) -> ProjectDecision:
    return ProjectDecision(gate, name, early, found.page_result(gate.clock()), found.source)


def _offline(gate: Gate, name: NormalizedName, version: Version | None) -> CheckResult:
    verdict, notes = gate.judge_offline(name, version)
    shown = verdict.decision if not verdict.allowed or not verdict.observed else verdict.observed[0]
    return CheckResult(name, str(version) if version else None, shown, note="; ".join(notes))


def _newest(project: Project) -> Version | None:
    versions = [f.version for f in project.files if f.version is not None and not f.yanked]
    return max(versions, default=None)


def upstream_fetch(get_project: Callable[..., Awaitable[Any]], clock: Callable[[], float]) -> Fetch:
    """A ``Fetch`` that asks upstream every time (``policy check`` outside a server)."""

    async def fetch(name: NormalizedName) -> PageResult:
        fetched = await get_project(name)
        return PageResult(
            CachedPage(fetched.project, clock(), fetched.etag, fetched.last_modified, 0)
        )

    return fetch
