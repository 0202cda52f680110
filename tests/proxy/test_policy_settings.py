import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import NormalizedName
from packaging.version import Version
from pydantic import ValidationError

from pipgate.policies.allowlist import AllowlistPolicy
from pipgate.policies.decision import Action, Mode
from pipgate.policies.dependency_confusion import DependencyConfusionPolicy
from pipgate.policies.release_age import ReleaseAgePolicy
from pipgate.policies.subjects import FileSubject, ProjectSubject
from pipgate.policies.typosquat import TyposquatPolicy
from pipgate.proxy.config.policies import PolicySettings, TyposquatData, build_policy_set
from pipgate.proxy.config.settings import deep_merge as merge

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).parents[2] / "deploy" / "pipgate.example.toml"
CORPUS = ["requests", "numpy", "django", "colorama"]


@pytest.fixture(scope="module")
def typosquat_data() -> TyposquatData:
    """This module's own typosquat indexes (nothing shared with other tests)."""
    return TyposquatData()


def build(raw: dict[str, Any], data: TyposquatData) -> Any:
    return build_policy_set(
        PolicySettings.model_validate(raw), typosquat_names=CORPUS, typosquat_data=data
    )


# -- defaults and valid values ---------------------------------------------------------------


def test_secure_defaults(typosquat_data: TyposquatData) -> None:
    settings = PolicySettings()
    policies = build({}, typosquat_data)
    assert policies.names == ("typosquat", "release-age")
    typosquat, age = policies.policies
    assert isinstance(typosquat, TyposquatPolicy)
    assert (typosquat.action, typosquat.mode, typosquat.exempt) == (
        Action.QUARANTINE,
        Mode.ENFORCE,
        frozenset(),
    )
    assert typosquat.index.names == CORPUS
    assert typosquat.snapshot is not None
    assert isinstance(age, ReleaseAgePolicy)
    assert (age.min_age, age.cutoff, age.mode) == (timedelta(days=7), None, Mode.ENFORCE)
    assert age.unknown_upload_time is Action.QUARANTINE
    assert settings == PolicySettings.model_validate({})


# (raw [policies] table, dotted attribute of the settings, expected value)
VALID = [
    ({"release_age": {"min_age": "14d"}}, "release_age.min_age", timedelta(days=14)),
    ({"release_age": {"min_age": "2d12h"}}, "release_age.min_age", timedelta(days=2, hours=12)),
    ({"release_age": {"min_age": "0"}}, "release_age.min_age", timedelta(0)),
    ({"release_age": {"min_age": 0}}, "release_age.min_age", timedelta(0)),
    (
        {"release_age": {"cutoff": "2026-01-01T00:00:00Z"}},
        "release_age.cutoff",
        datetime(2026, 1, 1, tzinfo=UTC),
    ),
    (
        {"release_age": {"cutoff": datetime(2026, 1, 1, tzinfo=UTC)}},
        "release_age.cutoff",
        datetime(2026, 1, 1, tzinfo=UTC),
    ),
    (
        {"release_age": {"cutoff": "2026-01-01"}},
        "release_age.cutoff",
        datetime(2026, 1, 1, tzinfo=UTC),
    ),
    (
        {"release_age": {"exempt": ["urllib3==2.2.2", " internal-* "]}},
        "release_age.exempt",
        ("urllib3==2.2.2", "internal-*"),
    ),
    ({"release_age": {"unknown_upload_time": "allow"}}, "release_age.unknown_upload_time", "allow"),
    ({"typosquat": {"action": "block"}}, "typosquat.action", "block"),
    ({"typosquat": {"protect": ["Our_SDK"]}}, "typosquat.protect", ("our-sdk",)),
    ({"typosquat": {"corpus_refresh": "6h"}}, "typosquat.corpus_refresh", timedelta(hours=6)),
    ({"typosquat": {"corpus": "/srv/top.json"}}, "typosquat.corpus", "/srv/top.json"),
    ({}, "typosquat.threshold", 3.75),
    ({}, "typosquat.block_threshold", None),
    ({}, "typosquat.snapshot", True),
    ({"typosquat": {"threshold": 5}}, "typosquat.threshold", 5.0),
    ({"typosquat": {"block_threshold": 7.5}}, "typosquat.block_threshold", 7.5),
    (
        {"allowlist": {"overrides": ["release_age", "typosquat"]}},
        "allowlist.overrides",
        ("release-age", "typosquat"),
    ),
    ({"allowlist": {"projects": ["django>=4.2,<6"]}}, "allowlist.projects", ("django>=4.2,<6",)),
    (
        {"dependency_confusion": {"internal": ["Acme_*"]}},
        "dependency_confusion.internal",
        ("Acme_*",),
    ),
    ({"scan": {"mode": "dry-run"}}, "scan.mode", "dry-run"),
    ({"scan": {"quarantine_at": 7.5, "block_at": 20}}, "scan.block_at", 20),
    ({"scan": {"max_unpacked": "512MiB"}}, "scan.max_unpacked", 512 * 1024**2),
    ({"scan": {"timeout": "5s"}}, "scan.timeout", timedelta(seconds=5)),
    ({"scan": {"workers": 0}}, "scan.workers", 0),
]


@pytest.mark.parametrize(("raw", "attribute", "expected"), VALID)
def test_valid(raw: dict[str, Any], attribute: str, expected: Any) -> None:
    value: Any = PolicySettings.model_validate(raw)
    for part in attribute.split("."):
        value = getattr(value, part)
    assert value == expected


# (raw [policies] table, error location, message fragment)
INVALID = [
    ({"release_age": {"min_age": "7"}}, "release_age.min_age", "invalid duration '7'"),
    ({"release_age": {"min_age": "1.5d"}}, "release_age.min_age", "'1.5d'"),
    ({"release_age": {"min_age": 7}}, "release_age.min_age", "write it with a unit"),
    ({"release_age": {"mode": "on"}}, "release_age.mode", "'enforce', 'dry-run' or 'off'"),
    ({"release_age": {"cutoff": "2026-01-01T00:00:00"}}, "release_age.cutoff", "has no timezone"),
    ({"release_age": {"cutoff": "soon"}}, "release_age.cutoff", "invalid cutoff 'soon'"),
    ({"release_age": {"exempt": ["urllib3=2.2.2"]}}, "release_age.exempt.0", "'urllib3=2.2.2'"),
    ({"release_age": {"exempt": "urllib3"}}, "release_age.exempt", "tuple"),
    (
        {"release_age": {"unknown_upload_time": "ignore"}},
        "release_age.unknown_upload_time",
        "'quarantine', 'allow' or 'block'",
    ),
    ({"release_age": {"min_ag": "1d"}}, "release_age.min_ag", "Extra inputs are not permitted"),
    ({"release-age": {}}, "release-age", "Extra inputs are not permitted"),
    ({"typosquat": {"action": "allow"}}, "typosquat.action", "'quarantine' or 'block'"),
    ({"typosquat": {"protect": ["our-*"]}}, "typosquat.protect.0", "wildcards are not allowed"),
    ({"typosquat": {"exempt": ["bad name"]}}, "typosquat.exempt.0", "'bad name'"),
    ({"typosquat": {"corpus_refresh": "daily"}}, "typosquat.corpus_refresh", "'daily'"),
    ({"typosquat": {"threshold": "high"}}, "typosquat.threshold", "valid number"),
    ({"typosquat": {"snapshot": "maybe"}}, "typosquat.snapshot", "valid boolean"),
    (
        {"typosquat": {"threshold": 5, "block_threshold": 4}},
        "typosquat",
        "block_threshold 4.0 is below threshold 5.0",
    ),
    ({"allowlist": {"mode": "enforce"}}, "allowlist.mode", "'off', 'block' or 'quarantine'"),
    ({"allowlist": {"enforcement": "off"}}, "allowlist.enforcement", "'enforce' or 'dry-run'"),
    ({"allowlist": {"projects": ["django>=x"]}}, "allowlist.projects.0", "bad version specifier"),
    ({"allowlist": {"projects": ["ok", "requests[socks]"]}}, "allowlist.projects.1", "extras"),
    ({"allowlist": {"deny": ["evil @ https://x"]}}, "allowlist.deny.0", "URLs"),
    (
        {"allowlist": {"overrides": ["typo-squat"]}},
        "allowlist.overrides",
        "unknown policy 'typo-squat'",
    ),
    (
        {"allowlist": {"overrides": ["dependency_confusion"]}},
        "allowlist.overrides",
        "cannot override 'dependency-confusion'",
    ),
    (
        {"dependency_confusion": {"internal": ["acme>=1"]}},
        "dependency_confusion.internal.0",
        "not allowed here",
    ),
    ({"dependency_confusion": {"mode": "block"}}, "dependency_confusion.mode", "'enforce'"),
    ({"scan": {"mode": "enforce"}}, "scan.mode", "'quarantine', 'block', 'dry-run' or 'off'"),
    ({"scan": {"quarantine_at": 0}}, "scan.quarantine_at", "greater than 0"),
    ({"scan": {"quarantine_at": 10, "block_at": 5}}, "scan.block_at", "must not be below"),
    ({"scan": {"max_unpacked": "lots"}}, "scan.max_unpacked", "expected a size"),
    ({"scan": {"unscannable": "ignore"}}, "scan.unscannable", "'quarantine', 'block' or 'allow'"),
    ({"scan": {"workers": -1}}, "scan.workers", "greater than or equal to 0"),
]


@pytest.mark.parametrize(("raw", "location", "message"), INVALID)
def test_invalid(raw: dict[str, Any], location: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        PolicySettings.model_validate(raw)
    errors = info.value.errors()
    assert [".".join(map(str, e["loc"])) for e in errors] == [location]
    assert message in errors[0]["msg"]


# -- merging ---------------------------------------------------------------------------------

# (base, override, merged)
MERGES = [
    ({}, {}, {}),
    ({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}}, {"a": {"x": 1, "y": 3}}),
    ({"a": {"x": 1}}, {"b": {"y": 2}}, {"a": {"x": 1}, "b": {"y": 2}}),
    ({"a": {"l": [1, 2]}}, {"a": {"l": [3]}}, {"a": {"l": [3]}}),  # lists are replaced
    (
        {"a": {"x": {"deep": 1, "keep": 2}}},
        {"a": {"x": {"deep": 9}}},
        {"a": {"x": {"deep": 9, "keep": 2}}},
    ),
    ({"a": 1}, {"a": {"x": 1}}, {"a": {"x": 1}}),
    ({"a": {"x": 1}}, {"a": 2}, {"a": 2}),
]


@pytest.mark.parametrize(("base", "override", "expected"), MERGES)
def test_merge(base: dict, override: dict, expected: dict) -> None:
    before = repr(base), repr(override)
    assert merge(base, override) == expected
    assert (repr(base), repr(override)) == before  # inputs untouched


def test_an_index_overrides_one_field() -> None:
    base = PolicySettings.model_validate(
        {"release_age": {"min_age": "7d", "exempt": ["urllib3==2.2.2"]}}
    )
    strict = base.merged({"release_age": {"min_age": "14d"}, "allowlist": {"mode": "block"}})
    assert strict.release_age.min_age == timedelta(days=14)
    assert strict.release_age.exempt == ("urllib3==2.2.2",)
    assert strict.allowlist.mode == "block"
    assert base.release_age.min_age == timedelta(days=7)
    with pytest.raises(ValidationError, match="release_age.min_age"):
        base.merged({"release_age": {"min_age": "fortnight"}})


def test_json_dump_round_trips() -> None:
    settings = PolicySettings.model_validate(
        {
            "release_age": {"min_age": "2d12h", "cutoff": "2026-01-01"},
            "allowlist": {"mode": "block"},
        }
    )
    dumped = settings.model_dump(mode="json")
    assert dumped["release_age"]["min_age"] == "2d12h"
    assert PolicySettings.model_validate(dumped) == settings


# -- the builder -----------------------------------------------------------------------------

# (raw [policies] table, expected policy names in order)
BUILDS = [
    ({}, ("typosquat", "release-age")),
    ({"typosquat": {"mode": "off"}, "release_age": {"mode": "off"}}, ()),
    (
        {"dependency_confusion": {"internal": ["acme-*"]}},
        ("dependency-confusion", "typosquat", "release-age"),
    ),
    (
        {"dependency_confusion": {"internal": ["acme-*"], "mode": "off"}},
        ("typosquat", "release-age"),
    ),
    ({"allowlist": {"mode": "block"}}, ("allowlist", "typosquat", "release-age")),
    ({"allowlist": {"projects": ["requests"]}}, ("typosquat", "release-age")),  # no effect
    (
        {"allowlist": {"projects": ["requests"], "overrides": ["typosquat"]}},
        ("allowlist", "typosquat", "release-age"),
    ),
    ({"allowlist": {"deny": ["evil"]}}, ("allowlist", "typosquat", "release-age")),
    (
        {
            "allowlist": {"mode": "quarantine"},
            "dependency_confusion": {"internal": ["x"]},
            "release_age": {"mode": "dry-run"},
            "typosquat": {"mode": "off"},
        },
        ("dependency-confusion", "allowlist", "release-age"),
    ),
]


@pytest.mark.parametrize(("raw", "names"), BUILDS)
def test_builder_order_and_omission(
    typosquat_data: TyposquatData, raw: dict, names: tuple[str, ...]
) -> None:
    assert build(raw, typosquat_data).names == names


def test_builder_passes_every_setting(typosquat_data: TyposquatData) -> None:
    built = build(
        {
            "dependency_confusion": {"mode": "dry-run", "internal": ["acme-*", "Secret_Lib"]},
            "allowlist": {
                "mode": "quarantine",
                "enforcement": "dry-run",
                "projects": ["django>=4.2", "Flask", "acme-*", "requests"],
                "deny": ["evil-*"],
                "overrides": ["release-age"],
            },
            "typosquat": {
                "mode": "dry-run",
                "action": "block",
                "protect": ["our-sdk"],
                "exempt": ["colourama"],
                "snapshot": False,
                "threshold": 2.5,
                "block_threshold": 6,
            },
            "release_age": {
                "min_age": "36h",
                "cutoff": "2026-01-01",
                "exempt": ["urllib3==2.2.2"],
                "unknown_upload_time": "block",
            },
        },
        typosquat_data,
    )
    confusion, allowlist, typosquat, age = built.policies
    assert isinstance(confusion, DependencyConfusionPolicy)
    assert confusion.mode is Mode.DRY_RUN
    assert [r.text for r in confusion.internal] == ["acme-*", "Secret_Lib"]
    assert isinstance(allowlist, AllowlistPolicy)
    assert (allowlist.unlisted, allowlist.mode) == (Action.QUARANTINE, Mode.DRY_RUN)
    assert allowlist.overrides == frozenset({"release-age"})
    assert [r.text for r in allowlist.deny] == ["evil-*"]
    assert isinstance(typosquat, TyposquatPolicy)
    assert (typosquat.action, typosquat.mode, typosquat.exempt) == (
        Action.BLOCK,
        Mode.DRY_RUN,
        frozenset({"colourama"}),
    )
    # protect, internal names, corpus, then the allowlist's plain names (each once,
    # at its first rank); globs never
    assert typosquat.index.names == [
        "our-sdk",
        "secret-lib",
        "requests",
        "numpy",
        "django",
        "colorama",
        "flask",
    ]
    assert typosquat.snapshot is None
    assert (typosquat.thresholds.flag, typosquat.thresholds.block) == (2.5, 6.0)
    assert isinstance(age, ReleaseAgePolicy)
    assert (age.min_age, age.cutoff) == (timedelta(hours=36), datetime(2026, 1, 1, tzinfo=UTC))
    assert age.unknown_upload_time is Action.BLOCK
    assert [r.text for r in age.exempt] == ["urllib3==2.2.2"]


@pytest.mark.parametrize(
    ("mode", "unlisted"),
    [("off", Action.ALLOW), ("block", Action.BLOCK), ("quarantine", Action.QUARANTINE)],
)
def test_allowlist_modes(typosquat_data: TyposquatData, mode: str, unlisted: Action) -> None:
    raw = {"allowlist": {"mode": mode, "deny": ["evil"]}, "typosquat": {"mode": "off"}}
    policies = build(raw, typosquat_data)
    (allowlist, _age) = policies.policies
    assert allowlist.unlisted is unlisted
    verdict = policies.judge_project(ProjectSubject(NormalizedName("flask")), NOW)
    assert verdict.action is unlisted


# -- the example configuration ---------------------------------------------------------------


def example_tables() -> dict[str, dict[str, Any]]:
    document = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    base = document.get("policies", {})
    tables = {"default": base}
    for name, index in document.get("indexes", {}).items():
        tables[name] = merge(base, index.get("policies", {}))
    return tables


def test_example_configuration_is_valid(typosquat_data: TyposquatData) -> None:
    tables = example_tables()
    assert set(tables) == {"default", "strict", "corp"}
    default = PolicySettings.model_validate(tables["default"])
    strict = PolicySettings.model_validate(tables["strict"])
    corp = PolicySettings.model_validate(tables["corp"])
    assert (corp.release_age.exempt_hosted, default.release_age.exempt_hosted) == (True, False)
    assert (default.allowlist.mode, default.release_age.min_age) == ("off", timedelta(days=7))
    assert (strict.allowlist.mode, strict.release_age.min_age) == ("block", timedelta(days=14))
    assert strict.dependency_confusion == default.dependency_confusion
    for settings in (default, strict):
        built = build_policy_set(settings, typosquat_names=CORPUS, typosquat_data=typosquat_data)
        assert built.names == (
            "dependency-confusion",
            "allowlist",
            "typosquat",
            "release-age",
        )


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("quarantine", (Action.QUARANTINE, None, Mode.ENFORCE)),
        ("block", (Action.BLOCK, 10.0, Mode.ENFORCE)),
        ("dry-run", (Action.QUARANTINE, None, Mode.DRY_RUN)),
    ],
)
def test_scan_policy_built_from_its_mode(mode: str, expected: tuple) -> None:
    from pipgate.policies.scan import Finding, ScanReport
    from pipgate.proxy.config.policies import build_scan_policy

    policy = build_scan_policy(PolicySettings.model_validate({"scan": {"mode": mode}}).scan)
    assert policy is not None
    flagged = ScanReport("1", 10.0, (Finding("decode-exec", 10, "setup.py", 1, "x"),))
    assert (policy.decide(flagged).action, policy.block_at, policy.mode) == expected


def test_scan_off_builds_no_policy_and_limits_follow_settings() -> None:
    from pipgate.proxy.config.policies import build_scan_policy

    settings = PolicySettings.model_validate(
        {"scan": {"mode": "off", "max_source": "1MiB", "timeout": "2s", "max_memory": "512MiB"}}
    ).scan
    assert build_scan_policy(settings) is None
    limits = settings.limits()
    assert (limits.max_source, limits.timeout, limits.max_memory) == (1024**2, 2.0, 512 * 1024**2)


def test_example_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for table, model in PolicySettings.model_fields.items():
        assert f"[policies.{table}]" in text
        for key in model.annotation.model_fields:  # type: ignore[union-attr]
            assert f"\n{key} =" in text or f"\n# {key} =" in text, f"{table}.{key}"


# -- with the real typosquat policy ----------------------------------------------------------


def test_real_typosquat_policy_is_built(typosquat_data: TyposquatData) -> None:
    built = build_policy_set(
        PolicySettings(),
        typosquat_names=["requests", "numpy", "django"],
        typosquat_data=typosquat_data,
    )
    typosquat = built.policies[0]
    assert (typosquat.name, typosquat.mode) == ("typosquat", Mode.ENFORCE)
    old = FileSubject(
        NormalizedName("requests"),
        "requests-2.32.3.tar.gz",
        Version("2.32.3"),
        NOW - timedelta(days=400),
    )
    assert built.judge_file(old, NOW).allowed
    squat = built.judge_project(ProjectSubject(NormalizedName("reqeusts")), NOW)
    assert (squat.action, squat.decision.policy) == (Action.QUARANTINE, "typosquat")


def test_the_bundled_corpus_uses_the_prebuilt_index(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipgate.policies.typosquat import TyposquatIndex
    from pipgate.proxy.config.corpus import load_bundled_names

    built: list[int] = []
    real = TyposquatIndex.build

    def counting_build(names: Any, *, words: Any = ()) -> Any:
        built.append(1)
        return real(names, words=words)

    monkeypatch.setattr(TyposquatIndex, "build", counting_build)
    data = TyposquatData()
    names = load_bundled_names()
    index = data.index([*names, "requests"])  # a duplicate changes nothing
    assert index.names == names and built == []
    assert data.index(names) is index  # the same names: the same index
    # any other list of names is indexed afresh
    assert data.index(["our-sdk", *names[:50]]).names[0] == "our-sdk"
    assert built == [1]


def test_unreadable_shipped_data_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    data = TyposquatData(read_bundled=lambda name: b"garbage")
    index = data.index(["requests", "numpy"])
    assert index.names == ["requests", "numpy"]
    assert data.snapshot() is None
    assert "bundled snapshot pypi-snapshot.bin" in caplog.text
    policy = build_policy_set(
        PolicySettings(), typosquat_names=["requests", "numpy"], typosquat_data=data
    ).policies[0]
    assert policy.snapshot is None
    verdict = policy.check_project(ProjectSubject(NormalizedName("reqeusts")), NOW)
    assert verdict.action is Action.QUARANTINE


def test_policy_sets_built_with_other_data_share_nothing() -> None:
    """Each ``TyposquatData`` owns its index: one built for a test is never another's."""
    first, second = TyposquatData(), TyposquatData()
    names = ["requests", "numpy"]
    assert first.index(names) is not second.index(names)
    assert first.index(names) is first.index(names)
