import re
from datetime import UTC, datetime, timedelta

import pytest
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipgate.policies.decision import Action, Mode
from pipgate.policies.engine import Policy
from pipgate.policies.subjects import FileSubject, ProjectFacts, ProjectSubject
from pipgate.policies.typosquat import (
    IndexFormatError,
    Technique,
    TyposquatIndex,
    TyposquatPolicy,
    _slips,
    near_keys,
)
from pipgate.policies.typosquat_score import Thresholds, name_score, score
from pipgate.policies.typosquat_snapshot import Density, Snapshot

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

# A small corpus in rank order. Besides the popular targets it holds ordinary
# words used in other names ("parser", "dict"), which the separator rule reads.
CORPUS = [
    "requests",
    "numpy",
    "colorama",
    "beautifulsoup4",
    "django",
    "matplotlib",
    "wheel",
    "requests-toolbelt",
    "discord-webhook",
    "scikit-learn",
    "configparser",
    "tqdm",
    "attrs",
    "fastapi",
    "websockets",
    "pylint",
    "rsa",
    "rq",
    "ccxt",
    "lxml-parser",
    "expiring-dict",
    "path",
    "gunicorn",
    "discord-py",
    "progressbar2",
    "psutil",
]
INDEX = TyposquatIndex.build(CORPUS)
POLICY = TyposquatPolicy(INDEX)


def project(name: str, facts: ProjectFacts | None = None) -> ProjectSubject:
    return ProjectSubject(canonicalize_name(name), facts=facts)


def facts(age: timedelta, releases: int, files: int | None = None) -> ProjectFacts:
    return ProjectFacts(
        first_upload=NOW - age,
        release_count=releases,
        file_count=releases if files is None else files,
    )


FRESH = facts(timedelta(days=2), 1)


def test_is_a_policy_that_needs_facts() -> None:
    assert isinstance(POLICY, Policy)
    assert (POLICY.name, POLICY.needs_facts, POLICY.overrides) == ("typosquat", True, frozenset())
    assert POLICY.mode is Mode.ENFORCE


# -- what the index finds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "target", "technique", "kind"),
    [
        ("coloarma", "colorama", Technique.TRANSPOSITION, "swapped"),
        ("reqeusts", "requests", Technique.TRANSPOSITION, "swapped"),
        ("requestss", "requests", Technique.EDIT1, "doubled"),
        ("rrequests", "requests", Technique.EDIT1, "doubled"),
        ("reqests", "requests", Technique.EDIT1, "deleted"),
        ("matplotib", "matplotlib", Technique.EDIT1, "deleted"),
        ("beautifulsup4", "beautifulsoup4", Technique.EDIT1, "deleted"),
        ("discord-webhok", "discord-webhook", Technique.EDIT1, "deleted"),
        ("scikit-lean", "scikit-learn", Technique.EDIT1, "deleted"),
        ("cccxt", "ccxt", Technique.EDIT1, "doubled"),
        ("colo_rama", "colorama", Technique.SEPARATOR, "split"),
        ("Colo-Rama", "colorama", Technique.SEPARATOR, "split"),
        ("co1orama", "colorama", Technique.HOMOGLYPH, "homoglyph"),
        ("c0l0rama", "colorama", Technique.HOMOGLYPH, "homoglyph"),
        ("djang0", "django", Technique.HOMOGLYPH, "homoglyph"),
        ("rnatplotlib", "matplotlib", Technique.HOMOGLYPH, "homoglyph"),
        ("vvheel", "wheel", Technique.HOMOGLYPH, "homoglyph"),
        ("python-requests", "requests", Technique.AFFIX, "affix-packaging"),
        ("py-colorama", "colorama", Technique.AFFIX, "affix-packaging"),
        ("colorama-python", "colorama", Technique.AFFIX, "affix-packaging"),
        ("toolbelt-requests", "requests-toolbelt", Technique.REORDER, "reorder"),
        ("learn-scikit", "scikit-learn", Technique.REORDER, "reorder"),
    ],
)
def test_strong_resemblances(name: str, target: str, technique: Technique, kind: str) -> None:
    match = INDEX.match(name)
    assert match is not None
    assert (match.target, match.technique, match.kind, match.strong) == (
        target,
        technique,
        kind,
        True,
    )


@pytest.mark.parametrize(
    ("name", "target", "kind", "slip"),
    [
        ("requezts", "requests", "substituted", True),  # s/z: neighbouring keys
        ("reqoests", "requests", "substituted", False),
        ("nunpy", "numpy", "substituted", True),  # m/n: look-alike and neighbours
        ("requestx", "requests", "substituted", True),
        ("kequests", "requests", "substituted-first", False),
        ("numpyx", "numpy", "inserted", False),
        ("reqwuests", "requests", "inserted", True),  # w beside q
        ("equests", "requests", "edge-deleted", True),
        ("websocket", "websockets", "edge-deleted", True),
        ("beautifulsoup44", "beautifulsoup4", "digit-doubled", True),
        ("progressbar3", "progressbar2", "digit-changed", False),
        ("tdqm", "tqdm", "swapped", True),
        ("requests2", "requests", "inserted", False),
        ("beautifullsooup4", "beautifulsoup4", "edit2", False),
    ],
)
def test_weak_resemblances(name: str, target: str, kind: str, slip: bool) -> None:
    match = INDEX.match(name)
    assert match is not None
    assert (match.target, match.kind, match.strong) == (target, kind, False)
    assert match.typo is slip


@pytest.mark.parametrize(
    ("name", "target", "kind", "detail"),
    [
        ("requests-sdk", "requests", "affix-generic", "suffix '-sdk' added"),
        ("pyrequests", "requests", "affix-py-glued", "prefix 'py' added"),
        ("requests-utils", "requests", "affix-word", "'utils' appended"),
        ("helper-colorama", "colorama", "affix-word", "'helper' prepended"),
        ("colorama2024", "colorama", "affix-digits", "digits appended"),
        ("coloramax", "colorama", "affix-glued", "'x' glued on"),
        ("xrequests", "requests", "affix-glued", "'x' glued in front"),
    ],
)
def test_affixes_are_found(name: str, target: str, kind: str, detail: str) -> None:
    matches = [m for m in INDEX.matches(name) if m.kind == kind]
    assert matches, [m.kind for m in INDEX.matches(name)]
    assert (matches[0].target, matches[0].detail) == (target, detail)


def test_glued_pieces_must_be_words() -> None:
    words = TyposquatIndex.build(["requests", "socket-io", "socket-tools"], words=["socket"])
    # "requestsocket" is request + socket, not requests + "ocket"
    assert not [m for m in words.matches("requestsocket") if m.kind == "affix-glued"]
    assert [m for m in words.matches("requestssocket") if m.kind == "affix-glued"]


def test_an_affix_that_is_another_project_joins_two() -> None:
    index = TyposquatIndex.build(
        ["tornado", "uvloop", "requests", *(f"a-utils-{i}" for i in range(5))]
    )
    joined = next(m for m in index.matches("tornado-uvloop") if m.target == "tornado")
    assert joined.joins
    # a word many protected names use is a generic word, not a project
    generic = next(m for m in index.matches("requests-utils") if m.target == "requests")
    assert not generic.joins


@pytest.mark.parametrize(
    ("name", "sibling"),
    [
        ("boto3-ssm", True),  # "ssm" is a word of other protected names
        ("boto3-ssx", False),
        ("bpto3-sso", False),  # the edit is not a whole other word
    ],
)
def test_a_word_swapped_in_a_family_of_names(name: str, sibling: bool) -> None:
    corpus = ["boto3-sso", "ssm-agent", "ssm-cli"]
    match = TyposquatIndex.build(corpus).match(name)
    assert match is not None and match.target == "boto3-sso"
    assert match.sibling is sibling
    found = TyposquatPolicy(TyposquatIndex.build(corpus)).best(name, None, NOW)
    assert found is not None
    assert ("another word of a family of names -1.5" in found.explain(10)) is sibling


@pytest.mark.parametrize("name", ["rq", "q", "rsa2", "flask", "lxml"])
def test_names_with_no_resemblance(name: str) -> None:
    assert INDEX.match(name) is None
    assert POLICY.check_project(project(name, FRESH), NOW).allowed


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [("q", "w", True), ("q", "a", True), ("g", "h", True), ("s", "z", True), ("q", "p", False)],
)
def test_neighbouring_keys(a: str, b: str, near: bool) -> None:
    assert near_keys(a, b) is near
    assert near_keys(b, a) is near


@pytest.mark.parametrize(
    ("name", "target", "slips"),
    [
        ("reqqeusts", "requests", 2),  # a doubled letter and a swap
        ("requezto", "requests", 1),  # s/z neighbours, s/o not
        ("numpbx", "numpy", 0),
    ],
)
def test_slips_of_two_edits(name: str, target: str, slips: int) -> None:
    assert _slips(name, target) == slips


# -- the policy, without a snapshot ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["coloarma", "reqeusts", "matplotib", "co1orama", "colo_rama", "python-requests", "requezts"],
)
def test_strong_or_slipped_imitations_are_quarantined_by_name_alone(name: str) -> None:
    decision = POLICY.check_project(project(name), NOW)
    assert decision.action is Action.QUARANTINE
    assert decision.policy == "typosquat"
    assert "Did you mean" in decision.reason


def test_reason_reads_well() -> None:
    decision = POLICY.check_project(project("coloarma"), NOW)
    assert decision.reason == (
        "name 'coloarma' imitates popular project 'colorama' (rank 3; adjacent letters swapped). "
        "Did you mean 'colorama'? "
        "Score 5.5 (flagged from 3.75): adjacent letters swapped +4, target rank 3 +1.5"
    )


@pytest.mark.parametrize(
    "name",
    [
        "numpy-financial",  # a real extension, not an affix game
        "tdqm",  # a four-letter swap: short names collide by chance
        "equests",
        "websocket",  # a trailing "s" dropped
        "requests2",  # a digit appended
        "requests-sdk",
        "pyrequests",  # glued "py" is how half of PyPI is named
        "config-parser",  # split into real words
        "expiringdict",  # joined, not split
    ],
)
def test_weak_resemblances_alone_are_allowed_with_their_score(name: str) -> None:
    decision = POLICY.check_project(project(name), NOW)
    assert decision.action is Action.ALLOW, decision.reason
    assert "imitates popular project" in decision.reason
    assert "but its score" in decision.reason and "is below 3.75: " in decision.reason


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("requests2", "requests"),
        ("websocket", "websockets"),
        ("pyrequests", "requests"),
        ("requests-sdk", "requests"),
        ("beautifullsooup4", "beautifulsoup4"),
        ("numpyx", "numpy"),
    ],
)
def test_weak_resemblances_are_flagged_for_a_fresh_project(name: str, target: str) -> None:
    fresh = POLICY.check_project(project(name, FRESH), NOW)
    assert fresh.action is Action.QUARANTINE, fresh.reason
    assert f"Did you mean {target!r}?" in fresh.reason
    assert "new project (first upload 2 d ago) +2.5" in fresh.reason


@pytest.mark.parametrize(
    ("age", "releases", "action"),
    [
        (None, None, Action.QUARANTINE),  # facts without dates are no evidence
        (timedelta(hours=5), 1, Action.QUARANTINE),
        (timedelta(days=400), 1, Action.QUARANTINE),  # old name, one release: dormant squat
        (timedelta(days=20), 12, Action.QUARANTINE),  # many releases fast: still new
        (timedelta(days=179), 3, Action.QUARANTINE),
        (timedelta(days=180), 3, Action.ALLOW),
        (timedelta(days=3 * 365), 40, Action.ALLOW),
    ],
)
def test_facts_clear_established_projects(
    age: timedelta | None, releases: int | None, action: Action
) -> None:
    upstream = ProjectFacts(None if age is None else NOW - age, releases)
    decision = POLICY.check_project(project("coloarma", upstream), NOW)
    assert decision.action is action, decision.reason
    if action is Action.ALLOW:
        assert "established (first upload" in decision.reason and "-6" in decision.reason


def test_a_single_file_and_release_add_to_the_score() -> None:
    one = POLICY.best("numpyx", facts(timedelta(days=2), 1, files=1), NOW)
    many = POLICY.best("numpyx", facts(timedelta(days=2), 2, files=4), NOW)
    assert one is not None and many is not None
    assert one.total - many.total == 0.75
    assert "a single release +0.5" in one.explain(10) and "a single file +0.25" in one.explain(10)


def test_thresholds_per_action() -> None:
    lenient = TyposquatPolicy(INDEX, thresholds=Thresholds(flag=7.0))
    assert lenient.check_project(project("coloarma"), NOW).allowed
    blocking = TyposquatPolicy(INDEX, thresholds=Thresholds(flag=3.75, block=5.5))
    assert blocking.check_project(project("coloarma"), NOW).action is Action.BLOCK  # 5.5
    assert blocking.check_project(project("requezts"), NOW).action is Action.QUARANTINE  # 4.5


def test_exempt_names_and_configured_action() -> None:
    policy = TyposquatPolicy(
        INDEX, action=Action.BLOCK, mode=Mode.DRY_RUN, exempt=["Coloarma", "colo_rama"]
    )
    assert policy.mode is Mode.DRY_RUN
    assert policy.check_project(project("coloarma"), NOW).allowed
    assert policy.check_project(project("colo-rama"), NOW).allowed
    assert policy.check_project(project("reqeusts"), NOW).action is Action.BLOCK


def test_protected_names_are_allowed() -> None:
    decision = POLICY.check_project(project("Requests"), NOW)
    assert decision.allowed and "protected popular project" in decision.reason


def test_files_are_never_judged() -> None:
    subject = FileSubject(NormalizedName("coloarma"), "coloarma-1.0.tar.gz", None, None)
    assert POLICY.check_file(subject, NOW).allowed


def test_the_best_score_wins_over_the_most_popular_target() -> None:
    index = TyposquatIndex.build(["requests", "requestz"])
    # one edit from both; the swap of "requestz" scores above the slip on "requests"
    found = TyposquatPolicy(index).best("reqeustz", None, NOW)
    assert found is not None and found.match.target == "requestz"


# -- the snapshot of PyPI ---------------------------------------------------------------------

SNAPSHOT = Snapshot.build(
    datetime(2026, 11, 1, tzinfo=UTC),
    established=["requestx", "numpy-financial"],
    recent=["requezts"],
    targets={
        "requests": Density(edit1=2, edit2=0, affix=300),
        "numpy": Density(edit1=30, edit2=200, affix=50),
        "colorama": Density(edit1=0, edit2=0, affix=1),
    },
)
SNAP_POLICY = TyposquatPolicy(INDEX, snapshot=SNAPSHOT)


def test_a_long_standing_project_in_the_snapshot_is_legitimate() -> None:
    decision = SNAP_POLICY.check_project(project("requestx", FRESH), NOW)
    assert decision.allowed
    assert "long-standing project on PyPI in 2026-11 -6" in decision.reason


def test_a_name_missing_from_the_snapshot_is_suspicious_by_name_alone() -> None:
    # "requests2" alone is weak (allowed without the snapshot) ...
    assert POLICY.check_project(project("requests2"), NOW).allowed
    # ... but absent from PyPI's neighbourhood of "requests", it is flagged.
    decision = SNAP_POLICY.check_project(project("requests2"), NOW)
    assert decision.action is Action.QUARANTINE, decision.reason
    assert "not on PyPI in 2026-11 +2.25" in decision.reason


def test_a_recent_name_in_the_snapshot_is_no_evidence_either_way() -> None:
    found = SNAP_POLICY.best("requezts", None, NOW)
    assert found is not None
    assert "on PyPI in 2026-11, released recently -0.5" in found.explain(10)


def test_the_snapshot_says_nothing_of_names_it_does_not_cover() -> None:
    # "matplotlib" is not covered: no absence signal, no neighbourhood
    with_snapshot = SNAP_POLICY.best("matplotlibx", None, NOW)
    without = POLICY.best("matplotlibx", None, NOW)
    assert with_snapshot is not None and without is not None
    assert with_snapshot.total == without.total


def test_a_crowded_neighbourhood_counts_against_a_resemblance() -> None:
    crowded = SNAP_POLICY.best("requests-utils", FRESH, NOW)  # 300 affixed names
    quiet = SNAP_POLICY.best("colorama-utils", FRESH, NOW)  # 1 affixed name
    assert crowded is not None and quiet is not None
    assert "300 established projects affixed -1.5" in crowded.explain(10)
    assert "1 established projects affixed +0" not in quiet.explain(10)
    assert quiet.total > crowded.total


def test_a_project_younger_than_the_snapshot_is_not_suspicious_for_being_absent() -> None:
    found = SNAP_POLICY.best("requests2", FRESH, NOW)
    assert found is not None and "not on PyPI" not in found.explain(10)
    # older than the snapshot yet absent from it: removed, or never listed
    old = SNAP_POLICY.best("requests2", facts(timedelta(days=90), 1), NOW)
    assert old is not None and "not on PyPI in 2026-11 +2.25" in old.explain(10)


@pytest.mark.parametrize(
    ("now", "points"),
    [
        (datetime(2026, 11, 27, tzinfo=UTC), 2.25),
        (datetime(2027, 5, 1, tzinfo=UTC), 2.25),  # six months: full weight
        (datetime(2028, 2, 1, tzinfo=UTC), 1.12),  # fading
        (datetime(2028, 11, 1, tzinfo=UTC), None),  # two years: nothing
    ],
)
def test_an_ageing_snapshot_means_less(now: datetime, points: float | None) -> None:
    found = SNAP_POLICY.best("requests2", None, now)
    assert found is not None
    absent = [p.points for p in found.parts if p.note.startswith("not on PyPI")]
    assert absent == ([] if points is None else [points])


# -- prebuilt indexes ----------------------------------------------------------------------------


@pytest.mark.parametrize("words", [(), ("unicorn", "work", "days")])
def test_a_prebuilt_index_answers_like_a_fresh_one(words: tuple[str, ...]) -> None:
    built = TyposquatIndex.build(CORPUS, words=words)
    loaded = TyposquatIndex.from_bytes(built.to_bytes())
    assert loaded.names == built.names
    for name in ["coloarma", "requests2", "beautifullsooup4", "toolbelt-requests", "workdays"]:
        assert loaded.matches(name) == built.matches(name)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda b: b"NOTANINDEX" + b[10:], "bad magic"),
        (lambda b: b[:-3], "truncated"),
        (lambda b: b + b"\0", "trailing bytes"),
        (lambda b: re.sub(rb'"layout":\[\d+,', b'"layout":[0,', b, count=1), "other parameters"),
    ],
)
def test_a_damaged_or_foreign_prebuilt_index_is_refused(mangle, message: str) -> None:  # type: ignore[no-untyped-def]
    data = TyposquatIndex.build(CORPUS).to_bytes()
    with pytest.raises(IndexFormatError, match=message):
        TyposquatIndex.from_bytes(mangle(data))


# -- the word signal: names made of real words are other names, not typos ----

WORDS = ["unicorn", "distribute", "work", "days", "event", "kit", "blend", "modes", "pants"]
WORD_CORPUS = ["gunicorn", "distributed", "workadays", "aeventkit", "plants", "requests"]
WORD_INDEX = TyposquatIndex.build(WORD_CORPUS, words=WORDS)


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("unicorn", "gunicorn"),  # a dictionary word
        ("distribute", "distributed"),
        ("workdays", "workadays"),  # a compound of dictionary words, the target is not
        ("pants", "plants"),
    ],
)
def test_names_that_read_as_words_count_less(name: str, target: str) -> None:
    match = WORD_INDEX.match(name)
    assert match is not None and match.target == target
    assert match.words and not match.strong
    spelling = TyposquatIndex.build(WORD_CORPUS).match(name)
    assert spelling is not None and not spelling.words
    found = TyposquatPolicy(WORD_INDEX).best(name, None, NOW)
    assert found is not None and "reads as words -1" in found.explain(10)


def test_words_of_protected_names_count_only_when_others_use_them() -> None:
    # "event" and "kit" are in no dictionary here, but words of two other
    # protected names each, so "eventkit" reads as words ...
    corpus = ["aeventkit", "event-bus", "event-log", "kit-tools", "kit-cli"]
    match = TyposquatIndex.build(corpus, words=["unrelated"]).match("eventkit")
    assert match is not None and match.words
    # ... but not when only one other name uses a word.
    match = TyposquatIndex.build(corpus[:-1], words=["unrelated"]).match("eventkit")
    assert match is not None and not match.words


# -- views without a name ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hidden", "name"),
    [
        ("colorama", "coloarma"),
        ("expiring-dict", "expiring-dict"),
        ("lxml-parser", "config-parser"),
        ("requests", "requests-utils"),
    ],
)
def test_without_is_a_rebuild_without_the_name(hidden: str, name: str) -> None:
    view = INDEX.without(hidden)
    rebuilt = TyposquatIndex.build(n for n in CORPUS if n != hidden)
    assert hidden not in view and hidden in INDEX
    assert view.match(name) == rebuilt.match(name)
    assert (
        TyposquatPolicy(view).check_project(project(hidden), NOW).reason
        == TyposquatPolicy(rebuilt).check_project(project(hidden), NOW).reason
    )


@pytest.mark.parametrize("name", ["colorama", "requests-toolbelt", "gunicorn", "websockets"])
def test_match_treats_a_protected_name_as_if_it_were_absent(name: str) -> None:
    without = TyposquatIndex.build(n for n in CORPUS if n != name)
    assert INDEX.match(name) == without.match(name)


def test_index_contains_normalized_names_and_ranks() -> None:
    index = TyposquatIndex.build(["Foo_Bar", "foo-bar", "baz"])
    assert "foo.bar" in index and "FOO-BAR" in index and "qux" not in index
    assert len(index) == 2
    assert index.rank("baz") == 2
    assert index.names == ["foo-bar", "baz"]


@pytest.mark.parametrize("name", ["reqeusts", "requests", "coloarma", "my-own-thing"])
def test_files_are_never_judged_by_name_so_the_engine_may_skip_asking(name):
    """``judges_files = False`` holds: whatever the name, a file gets a plain allow
    (the project was judged already), so ``PolicySet`` need not ask per file."""
    assert POLICY.judges_files is False
    subject = FileSubject(NormalizedName(name), f"{name}-1.0.tar.gz", Version("1.0"), NOW)
    decision = POLICY.check_file(subject, NOW)
    assert decision.action is Action.ALLOW and not decision.explicit


@pytest.mark.parametrize("name", ["reqeusts", "nunpy", "djnago", "python-requests", "flask-numpy"])
def test_the_name_score_is_the_score_without_snapshot_facts_or_clock(name: str) -> None:
    """``name_score`` is what ``score`` says from the names alone, whatever the day."""
    assert INDEX.matches(name)
    for match in INDEX.matches(name):
        by_names = name_score(match)
        assert by_names.parts == score(match, now=NOW).parts
        assert by_names.parts == score(match, now=NOW + timedelta(days=4000)).parts
        assert {part.signal for part in by_names.parts} <= {
            "edit",
            "slip",
            "words",
            "popularity",
            "length",
        }
