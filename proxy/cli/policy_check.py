"""``pipgate policy check``: decide names without serving anything.

Offline (the default) a name is judged from the name alone: allowlist,
denylist, internal names, typosquatting and known malware (every version).
``==VERSION`` adds the version rules of the allowlist, malware listed for
that version and known vulnerabilities (from the advisory feeds' last good
copies); release age needs upload times, so it is judged only ``--online``,
where the upstream page supplies the facts and every file of the version (or
of the newest version) is judged as the proxy would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from packaging.version import InvalidVersion, Version

from pipgate.policies.decision import ALLOW, Decision
from pipgate.policies.engine import PolicySet, Verdict
from pipgate.policies.names import BadProjectName, project_name
from pipgate.policies.subjects import FileSubject, ProjectSubject
from pipgate.proxy.errors import PipgateError
from pipgate.proxy.gate import Gate
from pipgate.proxy.models import Project
from pipgate.proxy.upstream.client import UpstreamClient

OFFLINE_SKIPS = frozenset({"release-age"})


class InvalidRequirement(ValueError):
    """A ``NAME[==VERSION]`` argument that cannot be read."""


@dataclass(frozen=True)
class CheckResult:
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


def parse_requirement(text: str) -> tuple[str, Version | None]:
    name, sep, version = text.strip().partition("==")
    if not name.strip():
        raise InvalidRequirement(f"{text!r}: expected NAME or NAME==VERSION")
    try:
        return project_name(name.strip()), Version(version) if sep else None
    except (InvalidVersion, BadProjectName) as exc:
        raise InvalidRequirement(f"{text!r}: {exc}") from exc


def check_offline(policies: PolicySet, index: str, text: str, now: datetime) -> CheckResult:
    name, version = parse_requirement(text)
    offline = PolicySet(tuple(p for p in policies.policies if p.name not in OFFLINE_SKIPS))
    verdict = offline.judge_project(ProjectSubject(name, index), now)
    notes = ["release age is judged only with --online"] if "release-age" in policies.names else []
    if verdict.allowed and version is not None:
        subject = FileSubject(name, f"{name}-{version}", version, None, index=index)
        verdict = offline.judge_file(subject, now)
    elif verdict.allowed:
        # Advisories that list some versions only answer NAME==VERSION.
        for policy in offline.policies:
            note = getattr(policy, "versions_note", lambda name, now: "")(name, now)
            if note:
                notes.append(f"{policy.name}: {note}")
    version_text = str(version) if version else None
    return CheckResult(name, version_text, _shown(verdict), note="; ".join(notes))


async def check_online(gate: Gate, upstream: UpstreamClient, text: str) -> CheckResult:
    name, version = parse_requirement(text)
    early = gate.before_fetch(name)
    if not early.allowed:
        return CheckResult(name, str(version) if version else None, early.decision)
    try:
        project = (await upstream.get_project(name)).project
    except PipgateError as exc:
        return CheckResult(
            name, str(version) if version else None, ALLOW, note=f"not checked: {exc}"
        )
    wanted = version or _newest(project)
    view = gate.view(project)
    if not view.verdict.allowed:
        return CheckResult(name, str(wanted) if wanted else None, view.verdict.decision)
    held = [(f, v) for f, v in view.held if f.version == wanted]
    shown = [f for f in view.shown if f.version == wanted]
    total = len(held) + len(shown)
    if total == 0:
        return CheckResult(
            name, str(wanted) if wanted else None, ALLOW, note="no such version upstream"
        )
    decision = held[0][1].decision if held and not shown else ALLOW
    return CheckResult(name, str(wanted), decision, files_held=len(held), files_total=total)


def _newest(project: Project) -> Version | None:
    versions = [f.version for f in project.files if f.version is not None and not f.yanked]
    return max(versions, default=None)


def _shown(verdict: Verdict) -> Decision:
    return verdict.decision if not verdict.allowed or not verdict.observed else verdict.observed[0]
