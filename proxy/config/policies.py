"""The ``[policies]`` table: validated settings per policy, and the builder of a ``PolicySet``.

Secure by default: with no configuration at all, typosquat (quarantine) and
release-age (7 days) are enforced; the allowlist and dependency-confusion
policies are off (the first has mode ``off``, the second no internal names),
and so are the two policies that need an advisory feed: malicious (enforced
once a feed is set) and vulnerabilities (mode ``off`` by default).
Unknown keys are errors, so a misspelt key never silently does nothing.

A named index overrides part of the table (``[indexes.strict.policies]``);
``PolicySettings.merged`` deep-merges such an override (``settings.deep_merge``)
into validated settings.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from packaging.utils import canonicalize_name
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from pipgate.policies.advisories import MALICIOUS, VULNERABILITIES, AdvisoryIndex
from pipgate.policies.allowlist import AllowlistPolicy
from pipgate.policies.decision import Action, Mode
from pipgate.policies.dependency_confusion import DependencyConfusionPolicy
from pipgate.policies.engine import Policy, PolicySet
from pipgate.policies.exemptions import Exemption
from pipgate.policies.malicious import MaliciousPolicy
from pipgate.policies.release_age import ReleaseAgePolicy
from pipgate.policies.rules import RuleSet, parse_rule
from pipgate.policies.scan import ScanPolicy
from pipgate.policies.severity import Severity
from pipgate.policies.typosquat import TyposquatIndex, TyposquatPolicy
from pipgate.policies.typosquat_score import Thresholds
from pipgate.policies.typosquat_snapshot import Snapshot
from pipgate.policies.vulnerabilities import VulnerabilitiesPolicy
from pipgate.proxy.config.corpus import (
    CorpusError,
    ReadBundled,
    load_bundled_index,
    load_bundled_snapshot,
    load_bundled_words,
    read_bundled_bytes,
)
from pipgate.proxy.config.settings import Duration, deep_merge

log = logging.getLogger("pipgate")

# -- field types -------------------------------------------------------------------------------


def _to_rule(value: str) -> str:
    return parse_rule(value).text


def _to_pattern(value: str) -> str:
    return parse_rule(value, versions=False).text


def _to_name(value: str) -> str:
    rule = parse_rule(value, versions=False)
    if rule.name is None:
        raise ValueError(f"invalid project name {value!r}: wildcards are not allowed here")
    return rule.name


def _to_cutoff(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = (
                date.fromisoformat(value.strip())
                if len(value.strip()) == 10
                else datetime.fromisoformat(value.strip())
            )
        except ValueError:
            raise ValueError(
                f"invalid cutoff {value!r}: write e.g. '2026-01-01T00:00:00Z' or 2026-01-01"
            ) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(), UTC)
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise ValueError(
            f"cutoff {value.isoformat()} has no timezone; write e.g. '2026-01-01T00:00:00Z'"
        )
    return value


#: A project rule: name or glob, optionally with version specifiers (``django>=4.2,<6``).
RuleText = Annotated[str, AfterValidator(_to_rule)]
#: A project name or glob pattern, no versions (``acme-*``).
PatternText = Annotated[str, AfterValidator(_to_pattern)]
#: A plain project name, stored normalized.
ProjectName = Annotated[str, AfterValidator(_to_name)]
#: ``enforce`` applies decisions; ``dry-run`` only logs and counts them; ``off`` omits the policy.
PolicyMode = Literal["enforce", "dry-run", "off"]

_MODES = {"enforce": Mode.ENFORCE, "dry-run": Mode.DRY_RUN}
_ACTIONS = {"allow": Action.ALLOW, "quarantine": Action.QUARANTINE, "block": Action.BLOCK}
#: Policies an allowlist entry may override. Dependency confusion is deliberately not one.
OVERRIDABLE = ("release-age", "typosquat")


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- tables ------------------------------------------------------------------------------------


class ReleaseAgeSettings(_Table):
    """``[policies.release_age]``: hold files until they have been public for ``min_age``."""

    mode: PolicyMode = Field("enforce", description="enforce | dry-run | off.")
    min_age: Duration = Field(
        timedelta(days=7), description="Files younger than this are quarantined until they age."
    )
    cutoff: Annotated[AwareDatetime | None, BeforeValidator(_to_cutoff)] = Field(
        None,
        description="Files uploaded after this instant are quarantined indefinitely "
        "(a freeze date). A TOML date means midnight UTC; a datetime needs a timezone.",
    )
    exempt: tuple[RuleText, ...] = Field(
        (),
        description="Rules exempt from this policy: names, globs or exact versions "
        "('urllib3==2.2.2' for an urgent security fix).",
    )
    unknown_upload_time: Literal["quarantine", "allow", "block"] = Field(
        "quarantine", description="What happens to a file whose upload time is unknown."
    )
    exempt_hosted: bool = Field(
        False, description="Files uploaded to a hosted index of this pipgate are never held."
    )


class TyposquatSettings(_Table):
    """``[policies.typosquat]``: hold projects whose names imitate popular ones."""

    mode: PolicyMode = Field("enforce", description="enforce | dry-run | off.")
    action: Literal["quarantine", "block"] = Field(
        "quarantine", description="What happens to a suspected typosquat."
    )
    protect: tuple[ProjectName, ...] = Field(
        (), description="Extra names to protect, ranked above the corpus (your own projects)."
    )
    exempt: tuple[ProjectName, ...] = Field(
        (), description="Names never flagged (legitimate look-alikes)."
    )
    corpus: str | None = Field(
        None,
        description="File path or URL of the ranked corpus of protected names "
        "(top-pypi-packages JSON); the bundled corpus when unset.",
    )
    corpus_refresh: Duration = Field(
        timedelta(hours=24), description="How often a corpus URL is fetched again."
    )
    snapshot: bool = Field(
        True,
        description="Weigh names with the bundled snapshot of PyPI: a neighbour of a popular "
        "name that was a long-standing project then is legitimate; one missing from it "
        "is suspicious.",
    )
    threshold: float = Field(
        3.75,
        description="Score at which a resemblance is flagged with 'action' "
        "(lower flags more; the reason shows the score and its parts).",
    )
    block_threshold: float | None = Field(
        None,
        description="Score at which a resemblance is blocked whatever 'action' says; unset: never.",
    )

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> TyposquatSettings:
        if self.block_threshold is not None and self.block_threshold < self.threshold:
            raise ValueError(
                f"block_threshold {self.block_threshold} is below threshold {self.threshold}"
            )
        return self


class AllowlistSettings(_Table):
    """``[policies.allowlist]``: listed projects are allowed explicitly; denied ones blocked."""

    mode: Literal["off", "block", "quarantine"] = Field(
        "off",
        description="What happens to projects (and versions) not listed: 'off' serves them "
        "(entries then only grant overrides), 'block' refuses them, 'quarantine' holds "
        "them until an administrator approves them.",
    )
    enforcement: Literal["enforce", "dry-run"] = Field(
        "enforce", description="dry-run logs what the allowlist would do without doing it."
    )
    projects: tuple[RuleText, ...] = Field(
        (), description="Allowed projects: names, globs, optional version specifiers."
    )
    deny: tuple[RuleText, ...] = Field(
        (),
        description="Always blocked, whatever the mode; with a specifier only those versions.",
    )
    overrides: tuple[str, ...] = Field(
        (),
        description="Policies whose objections an allowlist entry cancels: "
        + ", ".join(OVERRIDABLE)
        + ".",
    )

    @field_validator("overrides", mode="after")
    @classmethod
    def _known_policies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(name.strip().replace("_", "-") for name in value))
        for name in names:
            if name == "dependency-confusion":
                raise ValueError(
                    "the allowlist cannot override 'dependency-confusion'; "
                    "remove the name from dependency_confusion.internal instead"
                )
            if name not in OVERRIDABLE:
                raise ValueError(
                    f"unknown policy {name!r} in overrides; choose from {', '.join(OVERRIDABLE)}"
                )
        return names


class DependencyConfusionSettings(_Table):
    """``[policies.dependency_confusion]``: internal names are never served from upstream."""

    mode: PolicyMode = Field(
        "enforce", description="enforce | dry-run | off. Inactive while 'internal' is empty."
    )
    internal: tuple[PatternText, ...] = Field(
        (), description="Internal project names and glob patterns ('acme-*')."
    )


#: A severity level, lowest first.
SeverityText = Literal["low", "medium", "high", "critical"]


class ExemptionSettings(_Table):
    """One accepted advisory: ``{id = "GHSA-...", until = 2027-01-01, reason = "..."}``."""

    id: str = Field(
        min_length=1, description="Advisory id or alias (GHSA-..., PYSEC-..., CVE-..., MAL-...)."
    )
    until: Annotated[AwareDatetime, BeforeValidator(_to_cutoff)] = Field(
        description="When the exemption ends (a TOML date means midnight UTC)."
    )
    reason: str = Field(min_length=1, description="Why it is accepted (shown in logs).")

    @field_validator("id", "reason")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    def exemption(self) -> Exemption:
        return Exemption(self.id, self.until, self.reason)


class _FeedSettings(_Table):
    feed: str | None = Field(
        None,
        description="OSV records: a directory (searched recursively for *.json), a zip file, "
        "or an http(s) URL of a zip. Unset: the policy is inactive.",
    )
    refresh: Duration = Field(
        timedelta(hours=6), description="How often the feed is read again ('0': never)."
    )
    exempt: tuple[ExemptionSettings, ...] = Field(
        (), description="Accepted advisories, each with an expiry."
    )

    @field_validator("feed")
    @classmethod
    def _feed(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("feed must be a directory, a zip file or an http(s) URL")
        return value.strip() if value else None


class MaliciousSettings(_FeedSettings):
    """``[policies.malicious]``: block known malware (OpenSSF malicious-packages, ``MAL-``)."""

    mode: PolicyMode = Field(
        "enforce", description="enforce | dry-run | off. Inactive while 'feed' is unset."
    )


class VulnerabilitiesSettings(_FeedSettings):
    """``[policies.vulnerabilities]``: refuse versions with known vulnerabilities (OSV)."""

    mode: PolicyMode = Field("off", description="enforce | dry-run | off.")
    action: Literal["block", "quarantine", "warn"] = Field(
        "block",
        description="What happens to an affected file: block, quarantine (held for review), "
        "or warn (served, logged and counted like dry-run, with an X-Pipgate-Warning header).",
    )
    min_severity: SeverityText = Field(
        "low", description="Advisories below this severity are ignored."
    )
    unknown_severity: SeverityText = Field(
        "critical",
        description="The severity assumed for an advisory that states none: unknown is not safe.",
    )

    @model_validator(mode="after")
    def _needs_a_feed(self) -> VulnerabilitiesSettings:
        if self.mode != "off" and self.feed is None:
            raise ValueError(f"mode is {self.mode!r} but no feed is set")
        return self


def _to_size(value: Any) -> int:
    from .settings import parse_size

    return parse_size(value)


#: A size: ``"64MiB"``, ``"2GB"`` or an integer of bytes.
Size = Annotated[int, BeforeValidator(_to_size), Field(gt=0)]


class ScanSettings(_Table):
    """``[policies.scan]``: a static content scan of every distribution file."""

    mode: Literal["quarantine", "block", "dry-run", "off"] = Field(
        "quarantine",
        description="quarantine: files scoring quarantine_at or more are held for review; "
        "block: they are refused; dry-run: only logged; off: no scan.",
    )
    quarantine_at: float = Field(10.0, gt=0, description="Score at which a file is held.")
    block_at: float | None = Field(
        None,
        gt=0,
        description="Score at which a file is blocked outright (unset: never, a reviewer decides).",
    )
    unscannable: Literal["quarantine", "block", "allow"] = Field(
        "quarantine",
        description="What happens to a file that cannot be scanned within the caps.",
    )
    max_archive: Size = Field(4 * 1024**3, description="Largest archive scanned.")
    max_members: int = Field(200_000, gt=0, description="Most entries in one archive.")
    max_unpacked: Size = Field(2 * 1024**3, description="Most bytes decompressed per archive.")
    max_ratio: float = Field(200.0, gt=1, description="Largest decompression ratio.")
    max_source: Size = Field(2 * 1024**2, description="Largest Python file parsed.")
    timeout: Duration = Field(timedelta(seconds=30), description="Wall time per archive.")
    max_memory: Size = Field(
        1024**3,
        description="Memory one scan worker process may hold; a scan needing more holds "
        "its file (workers only: not applied with workers = 0).",
    )
    workers: int = Field(
        1,
        ge=0,
        description="Worker processes that scan, started on the first scan (0: scan in a "
        "thread of the server, where a scan holds up its other requests). The default "
        "index's value applies.",
    )

    @field_validator("block_at", mode="after")
    @classmethod
    def _not_below_quarantine(cls, value: float | None, info: Any) -> float | None:
        floor = info.data.get("quarantine_at")
        if value is not None and floor is not None and value < floor:
            raise ValueError(f"block_at ({value:g}) must not be below quarantine_at ({floor:g})")
        return value

    def limits(self) -> Any:
        """The engine's ``ScanLimits`` for these settings."""
        from pipgate.proxy.scan.limits import ScanLimits

        return ScanLimits(
            max_archive=self.max_archive,
            max_members=self.max_members,
            max_unpacked=self.max_unpacked,
            max_ratio=self.max_ratio,
            max_source=self.max_source,
            timeout=self.timeout.total_seconds(),
            max_memory=self.max_memory,
        )


class PolicySettings(_Table):
    """The whole ``[policies]`` table of one index."""

    release_age: ReleaseAgeSettings = ReleaseAgeSettings()
    typosquat: TyposquatSettings = TyposquatSettings()
    allowlist: AllowlistSettings = AllowlistSettings()
    dependency_confusion: DependencyConfusionSettings = DependencyConfusionSettings()
    malicious: MaliciousSettings = MaliciousSettings()
    vulnerabilities: VulnerabilitiesSettings = VulnerabilitiesSettings()
    scan: ScanSettings = ScanSettings()

    def merged(self, override: Mapping[str, Any]) -> PolicySettings:
        """These settings with ``override`` (a raw ``[policies]``-shaped table) deep-merged in."""
        return PolicySettings.model_validate(deep_merge(self.model_dump(), override))


# -- builder -----------------------------------------------------------------------------------


#: Advisory indexes by feed (as configured) and kind (``malicious``, ``vulnerabilities``).
Intel = Mapping[str, Mapping[str, AdvisoryIndex]]
#: The order in which an index asks its policies (the first wins a tie).
POLICY_ORDER = (
    "dependency-confusion",
    "allowlist",
    "malicious",
    "typosquat",
    "release-age",
    "vulnerabilities",
)


def build_policy_set(
    settings: PolicySettings,
    *,
    typosquat_names: Sequence[str],
    intel: Intel | None = None,
    typosquat_data: TyposquatData | None = None,
) -> PolicySet:
    """The policies ``settings`` enable, in ``POLICY_ORDER``.

    ``typosquat_names`` is the ranked corpus (most popular first). The typosquat
    index protects, in rank order: ``typosquat.protect``, the internal names of
    dependency confusion, the corpus, then the allowlist's plain names; it comes
    from ``typosquat_data`` (the process's ``SHARED_TYPOSQUAT_DATA`` by default).
    ``intel`` holds the advisory indexes loaded from the feeds (see
    ``build_intel_policies``).

    A policy whose mode is ``off`` is omitted; so is dependency confusion
    without internal names, the allowlist when it can have no effect (mode
    ``off``, no denylist, and no entries or no overrides), and the malicious
    and vulnerabilities policies while their feed is unset or not loaded.
    """
    policies: list[Policy] = [*build_intel_policies(settings, intel or {})]
    confusion = settings.dependency_confusion
    internal = RuleSet(confusion.internal, versions=False)
    if confusion.mode != "off" and internal:
        policies.append(DependencyConfusionPolicy(internal, mode=_MODES[confusion.mode]))

    allowlist = settings.allowlist
    allow = RuleSet(allowlist.projects)
    if allowlist.mode != "off" or allowlist.deny or (allow and allowlist.overrides):
        policies.append(
            AllowlistPolicy(
                allow,
                deny=allowlist.deny,
                unlisted=_ACTIONS["allow" if allowlist.mode == "off" else allowlist.mode],
                mode=_MODES[allowlist.enforcement],
                overrides=allowlist.overrides,
            )
        )

    typosquat = settings.typosquat
    if typosquat.mode != "off":
        names = [
            *typosquat.protect,
            *(internal.names if confusion.mode != "off" else ()),
            *typosquat_names,
            *allow.names,
        ]
        data = SHARED_TYPOSQUAT_DATA if typosquat_data is None else typosquat_data
        policies.append(_typosquat_policy(typosquat, names, data))

    age = settings.release_age
    if age.mode != "off":
        policies.append(
            ReleaseAgePolicy(
                age.min_age,
                cutoff=age.cutoff,
                exempt=age.exempt,
                unknown_upload_time=_ACTIONS[age.unknown_upload_time],
                mode=_MODES[age.mode],
                exempt_hosted=age.exempt_hosted,
            )
        )
    return PolicySet(in_order(policies))


def build_intel_policies(settings: PolicySettings, intel: Intel) -> list[Policy]:
    """The malicious and vulnerabilities policies ``settings`` enable, judging from the
    indexes in ``intel`` loaded from their feeds (none for a feed not loaded)."""
    policies: list[Policy] = []
    malicious = settings.malicious
    index = intel.get(malicious.feed or "", {}).get(MALICIOUS)
    if malicious.mode != "off" and index is not None:
        policies.append(
            MaliciousPolicy(
                index,
                mode=_MODES[malicious.mode],
                exempt=[e.exemption() for e in malicious.exempt],
            )
        )
    vulns = settings.vulnerabilities
    index = intel.get(vulns.feed or "", {}).get(VULNERABILITIES)
    if vulns.mode != "off" and index is not None:
        policies.append(
            VulnerabilitiesPolicy(
                index,
                action=Action.BLOCK if vulns.action == "warn" else _ACTIONS[vulns.action],
                # "warn" serves the file and reports the finding, as dry-run does.
                mode=Mode.DRY_RUN if vulns.action == "warn" else _MODES[vulns.mode],
                min_severity=Severity.parse(vulns.min_severity),
                unknown_severity=Severity.parse(vulns.unknown_severity),
                exempt=[e.exemption() for e in vulns.exempt],
            )
        )
    return policies


def in_order(policies: Sequence[Policy]) -> tuple[Policy, ...]:
    """``policies`` sorted by ``POLICY_ORDER`` (unknown names last, in their order)."""
    rank = {name: i for i, name in enumerate(POLICY_ORDER)}
    return tuple(sorted(policies, key=lambda p: rank.get(p.name, len(rank))))


def build_scan_policy(settings: ScanSettings) -> ScanPolicy | None:
    """The scan policy ``settings`` configure; ``None`` when its mode is ``off``.

    In ``block`` mode a file that reaches ``quarantine_at`` is blocked (as is one that
    reaches ``block_at`` in any mode).
    """
    if settings.mode == "off":
        return None
    threshold = settings.quarantine_at
    return ScanPolicy(
        quarantine_at=threshold,
        block_at=threshold if settings.mode == "block" else settings.block_at,
        unscannable=_ACTIONS[settings.unscannable],
        mode=Mode.DRY_RUN if settings.mode == "dry-run" else Mode.ENFORCE,
    )


class TyposquatData:
    """The typosquat index of a list of protected names and the bundled snapshot of PyPI,
    each built or read once and shared by every policy set built with this object.

    An index is a few MiB: policy sets that protect the same names (named indexes, a
    corpus refresh that changed nothing) share one, and only the latest list of names
    is kept. The bundled corpus has a prebuilt index (loaded in milliseconds); any
    other list of names is indexed here (most of a second), and its two-edit table on
    the first check that needs it. ``read_bundled`` reads a file shipped with pipgate
    by name (``corpus.read_bundled_bytes``).
    """

    def __init__(self, read_bundled: ReadBundled = read_bundled_bytes) -> None:
        self._read = read_bundled
        self._lock = threading.Lock()
        self._names: tuple[str, ...] | None = None
        self._index: TyposquatIndex | None = None
        self._snapshot: list[Snapshot | None] = []

    def index(self, names: Sequence[str]) -> TyposquatIndex:
        """The index protecting ``names``, most popular first (duplicates count once)."""
        key = tuple(dict.fromkeys(canonicalize_name(name) for name in names))
        with self._lock:
            if self._index is None or self._names != key:
                self._index = self._build(key)
                self._names = key
            return self._index

    def _build(self, names: tuple[str, ...]) -> TyposquatIndex:
        try:
            prebuilt: TyposquatIndex | None = load_bundled_index(self._read)
        except CorpusError as exc:
            log.warning("%s; building the typosquat index instead", exc)
            prebuilt = None
        if prebuilt is not None and tuple(prebuilt.names) == names:
            return prebuilt
        return TyposquatIndex.build(names, words=load_bundled_words())

    def snapshot(self) -> Snapshot | None:
        """The bundled snapshot of PyPI; ``None`` (logged once) if it cannot be read."""
        with self._lock:
            if not self._snapshot:
                try:
                    self._snapshot.append(load_bundled_snapshot(self._read))
                except CorpusError as exc:
                    log.error("%s; judging typosquats without it", exc)
                    self._snapshot.append(None)
            return self._snapshot[0]


#: The process's typosquat data: every app and corpus refresh in it shares one index.
SHARED_TYPOSQUAT_DATA = TyposquatData()


def _typosquat_policy(
    settings: TyposquatSettings, names: Sequence[str], data: TyposquatData
) -> Policy:
    return TyposquatPolicy(
        data.index(names),
        action=_ACTIONS[settings.action],
        mode=_MODES[settings.mode],
        exempt=list(settings.exempt),
        snapshot=data.snapshot() if settings.snapshot else None,
        thresholds=Thresholds(settings.threshold, settings.block_threshold),
    )
