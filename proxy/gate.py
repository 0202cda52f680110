"""The gate: one index's policies applied to projects and files.

Every route that can hand out a project or file asks the gate first, with the
normalized name, so no spelling, format or cached copy gets around a decision.
Policies are pure; the gate supplies the clock, the facts from the upstream
page and any reviewer overrides (quarantine releases and rejections).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from packaging.utils import NormalizedName
from packaging.version import Version

from pipgate.policies.decision import Action, Decision
from pipgate.policies.engine import PolicySet, Verdict, recheck_at
from pipgate.policies.subjects import FileSubject, Origin, ProjectFacts, ProjectSubject
from pipgate.proxy.models import DistFile, Project


class Overrides(Protocol):
    """Reviewer decisions that take precedence over policies (see ``quarantine``)."""

    generation: int

    def project(self, index: str, name: str, verdict: Verdict, now: datetime) -> Verdict: ...

    def file(
        self, index: str, subject: FileSubject, verdict: Verdict, now: datetime
    ) -> Verdict: ...

    def judges_files(self, index: str, name: str) -> bool:
        """Whether ``file`` can change a verdict on a file of project ``name`` (false:
        it returns every verdict as it is, and a page need not ask it file by file)."""
        ...


class NoOverrides:
    generation = 0

    def project(self, index: str, name: str, verdict: Verdict, now: datetime) -> Verdict:
        return verdict

    def file(self, index: str, subject: FileSubject, verdict: Verdict, now: datetime) -> Verdict:
        return verdict

    def judges_files(self, index: str, name: str) -> bool:
        return False


@dataclass(frozen=True)
class ProjectView:
    """What one index shows of a project at one moment.

    ``held`` are the files a policy withholds (quarantine or block);
    ``recheck_at`` is when a held file may come of age, so the view must be
    recomputed then.
    """

    verdict: Verdict
    shown: tuple[DistFile, ...]
    held: tuple[tuple[DistFile, Verdict], ...]
    dry_run: tuple[tuple[DistFile, Verdict], ...]
    recheck_at: datetime | None
    #: What the project verdict was judged from, to judge the project again without its page.
    facts: ProjectFacts | None = None
    #: Where the project was served from.
    origin: Origin = "public"


def facts_of(project: Project) -> ProjectFacts:
    """What the project's page says of it (worked out once per page: a file request
    of a 10,000-file project asks for it every time)."""
    memo = project.__dict__.get("_facts")
    if memo is None:
        memo = project.__dict__["_facts"] = _facts_of(project)
    return memo  # type: ignore[no-any-return]


def _facts_of(project: Project) -> ProjectFacts:
    uploads = [f.upload_time for f in project.files if f.upload_time is not None]
    releases = len(project.versions) or len(set(project.file_versions) - {None})
    return ProjectFacts(
        first_upload=min(uploads, default=None),
        release_count=releases,
        file_count=len(project.files),
    )


#: Policies that judge upload times, which only an upstream page gives.
NEEDS_UPLOAD = frozenset({"release-age"})


class Gate:
    def __init__(
        self,
        index: str,
        policies: PolicySet,
        *,
        clock: Callable[[], datetime],
        overrides: Overrides | None = None,
    ) -> None:
        self.index = index
        self._policies = policies
        self._policies_version = 0
        self.clock = clock
        self.overrides: Overrides = overrides or NoOverrides()
        #: The content scan's objection to a file, from reports already made (no I/O);
        #: set by the app when the scan is on.
        self.scan_check: Callable[[str, DistFile], Decision | None] | None = None

    @property
    def policies(self) -> PolicySet:
        return self._policies

    @policies.setter
    def policies(self, policies: PolicySet) -> None:
        # A counter, not id(): a new PolicySet may be allocated where a freed one lived.
        self._policies = policies
        self._policies_version += 1

    @property
    def generation(self) -> tuple[int, int]:
        """Changes whenever a decision could change for reasons other than time."""
        return (self._policies_version, self.overrides.generation)

    def before_fetch(self, name: NormalizedName, origin: Origin = "public") -> Verdict:
        """Judge a name before a source is asked (allowlist, denylist, internal names),
        as it would be served from a source of ``origin``."""
        now = self.clock()
        verdict = self.policies.judge_project(
            ProjectSubject(name, self.index, origin=origin), now, before_fetch=True
        )
        return self.overrides.project(self.index, name, verdict, now)

    def judge_project(self, project: Project, origin: Origin = "public") -> Verdict:
        return self.judge_facts(project.name, facts_of(project), origin)

    def judge_name(self, name: NormalizedName, origin: Origin = "public") -> Verdict:
        """Judge a project by its name alone, every policy speaking (a typosquat check
        without upstream facts is the strict one): what is known before any page."""
        return self.judge_facts(name, None, origin)

    def judge_offline(
        self, name: NormalizedName, version: Version | None
    ) -> tuple[Verdict, list[str]]:
        """Judge ``name`` (and ``version``) without upstream, as ``policy check`` does
        offline: the name, then a file of that version whose upload time is unknown,
        which every policy but release age can judge. Returns notes on what could not
        be judged this way."""
        now = self.clock()
        offline = PolicySet(tuple(p for p in self.policies.policies if p.name not in NEEDS_UPLOAD))
        notes = []
        if any(p.name in NEEDS_UPLOAD for p in self.policies.policies):
            notes.append("release age is judged only with --online")
        verdict = offline.judge_project(ProjectSubject(name, self.index), now)
        verdict = self.overrides.project(self.index, name, verdict, now)
        if verdict.allowed and version is not None:
            subject = FileSubject(name, f"{name}-{version}", version, None, index=self.index)
            verdict = self.overrides.file(
                self.index, subject, offline.judge_file(subject, now), now
            )
        elif verdict.allowed:
            # Advisories that list some versions only answer NAME==VERSION.
            for policy in offline.policies:
                note = getattr(policy, "versions_note", lambda name, now: "")(name, now)
                if note:
                    notes.append(f"{policy.name}: {note}")
        return verdict, notes

    def judge_facts(
        self, name: NormalizedName, facts: ProjectFacts | None, origin: Origin = "public"
    ) -> Verdict:
        """Judge a project from what its page says (``facts_of``), as served from a
        source of ``origin``."""
        now = self.clock()
        verdict = self.policies.judge_project(ProjectSubject(name, self.index, facts, origin), now)
        return self.overrides.project(self.index, name, verdict, now)

    def judge_file(
        self, project: NormalizedName, file: DistFile, origin: Origin = "public"
    ) -> Verdict:
        now = self.clock()
        subject = self._subject(project, file, origin)
        verdict = self.policies.judge_file(subject, now)
        verdict = self._with_scan(file, verdict)
        return self.overrides.file(self.index, subject, verdict, now)

    def _with_scan(self, file: DistFile, verdict: Verdict) -> Verdict:
        """``verdict`` with the content scan's objection to ``file``, if a report has one
        (before reviewer overrides, so a reviewer can release a flagged file)."""
        if self.scan_check is None:
            return verdict
        objection = self.scan_check(self.index, file)
        if objection is None:
            return verdict
        if objection.dry_run or not verdict.allowed:
            return Verdict(verdict.decision, (*verdict.observed, objection))
        return Verdict(objection, (*verdict.observed, objection))

    def view(self, project: Project, origin: Origin = "public") -> ProjectView:
        """Judge the project and each of its files, as served from a source of ``origin``."""
        facts = facts_of(project)
        verdict = self.judge_facts(project.name, facts, origin)
        if not verdict.allowed:
            return ProjectView(verdict, (), (), (), recheck_at([verdict]), facts, origin)
        now = self.clock()
        shown: list[DistFile] = []
        held: list[tuple[DistFile, Verdict]] = []
        dry_run: list[tuple[DistFile, Verdict]] = []
        # The hot loop of a cold page (10,000 files are common): what does not change
        # from file to file is looked up once.
        judge, index, name = self.policies.judge_file, self.index, project.name
        override = self.overrides.file if self.overrides.judges_files(index, name) else None
        with_scan = self._with_scan if self.scan_check is not None else None
        allow = Action.ALLOW
        for file, version in zip(project.files, project.file_versions, strict=True):
            subject = FileSubject(
                name,
                file.filename,
                version,
                file.upload_time,
                file.hashes.get("sha256"),
                index,
                origin,
            )
            file_verdict = judge(subject, now)
            if with_scan is not None:
                file_verdict = with_scan(file, file_verdict)
            if override is not None:
                file_verdict = override(index, subject, file_verdict, now)
            if file_verdict.action is allow:
                shown.append(file)
                if file_verdict.observed:
                    dry_run.append((file, file_verdict))
            else:
                held.append((file, file_verdict))
        return ProjectView(
            verdict,
            tuple(shown),
            tuple(held),
            tuple(dry_run),
            recheck_at([verdict, *(v for _, v in held), *(v for _, v in dry_run)]),
            facts,
            origin,
        )

    def _subject(
        self, project: NormalizedName, file: DistFile, origin: Origin = "public"
    ) -> FileSubject:
        return FileSubject(
            project=project,
            filename=file.filename,
            version=file.version,
            upload_time=file.upload_time,
            sha256=file.sha256,
            index=self.index,
            origin=origin,
        )
