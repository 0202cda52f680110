from datetime import UTC, datetime, timedelta

import pytest
from packaging.utils import NormalizedName, canonicalize_name

from pipgate.policies.decision import Action, Mode
from pipgate.policies.engine import Policy
from pipgate.policies.subjects import FileSubject, ProjectFacts, ProjectSubject
from pipgate.policies.typosquat import Technique, TyposquatIndex, TyposquatPolicy

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


def facts(age: timedelta, releases: int) -> ProjectFacts:
    return ProjectFacts(first_upload=NOW - age, release_count=releases, file_count=releases)


def test_is_a_policy_that_needs_facts() -> None:
    assert isinstance(POLICY, Policy)
    assert (POLICY.name, POLICY.needs_facts, POLICY.overrides) == ("typosquat", True, frozenset())
    assert POLICY.mode is Mode.ENFORCE


@pytest.mark.parametrize(
    ("name", "target", "technique"),
    [
        ("coloarma", "colorama", Technique.TRANSPOSITION),
        ("reqeusts", "requests", Technique.TRANSPOSITION),
        ("rqeuests", "requests", Technique.TRANSPOSITION),
        ("requestss", "requests", Technique.EDIT1),
        ("rrequests", "requests", Technique.EDIT1),
        ("reqests", "requests", Technique.EDIT1),
        ("matplotib", "matplotlib", Technique.EDIT1),
        ("beautifulsup4", "beautifulsoup4", Technique.EDIT1),
        ("discord-webhok", "discord-webhook", Technique.EDIT1),
        ("scikit-lean", "scikit-learn", Technique.EDIT1),
        ("cccxt", "ccxt", Technique.EDIT1),
        ("colo_rama", "colorama", Technique.SEPARATOR),
        ("Colo-Rama", "colorama", Technique.SEPARATOR),
        ("co1orama", "colorama", Technique.HOMOGLYPH),
        ("coIorama", "colorama", Technique.HOMOGLYPH),
        ("c0l0rama", "colorama", Technique.HOMOGLYPH),
        ("djang0", "django", Technique.HOMOGLYPH),
        ("rnatplotlib", "matplotlib", Technique.HOMOGLYPH),
        ("vvheel", "wheel", Technique.HOMOGLYPH),
        ("python-requests", "requests", Technique.AFFIX),
        ("python3-requests", "requests", Technique.AFFIX),
        ("py-colorama", "colorama", Technique.AFFIX),
        ("colorama-py", "colorama", Technique.AFFIX),
        ("colorama-python", "colorama", Technique.AFFIX),
        ("pylint-py", "pylint", Technique.AFFIX),
        ("toolbelt-requests", "requests-toolbelt", Technique.REORDER),
        ("learn-scikit", "scikit-learn", Technique.REORDER),
        # A letter dropped anywhere from a short name at the very top.
        ("equests", "requests", Technique.EDIT1),
        ("nump", "numpy", Technique.EDIT1),
        ("pstil", "psutil", Technique.EDIT1),
        ("psuti", "psutil", Technique.EDIT1),
        ("djang", "django", Technique.EDIT1),
        # A name's own version digit stuttered.
        ("beautifulsoup44", "beautifulsoup4", Technique.EDIT1),
        ("progressbar22", "progressbar2", Technique.EDIT1),
        # The packaging word of a longer name mangled.
        ("discord-y", "discord-py", Technique.EDIT1),
        ("discord-yp", "discord-py", Technique.TRANSPOSITION),
    ],
)
def test_imitations_are_quarantined_by_name_alone(
    name: str, target: str, technique: Technique
) -> None:
    match = INDEX.match(name)
    assert match is not None
    assert (match.target, match.technique, match.strong) == (target, technique, True)
    decision = POLICY.check_project(project(name), NOW)
    assert decision.action is Action.QUARANTINE
    assert decision.policy == "typosquat"
    rank = CORPUS.index(target) + 1
    assert f"imitates popular project {target!r} (rank {rank};" in decision.reason


def test_reason_reads_well() -> None:
    decision = POLICY.check_project(project("coloarma"), NOW)
    assert decision.reason == (
        "name 'coloarma' imitates popular project 'colorama' (rank 3; adjacent letters swapped)"
    )


@pytest.mark.parametrize(
    "name",
    [
        "requests",  # in the corpus
        "Requests",
        "scikit_learn",
        "Django",
        "flask",  # nothing near it
        "numpy-financial",  # a real extension, not an affix game
        "tdqm",  # a four-letter swap: short names collide by chance
        "rq",  # short names are not protected against one edit
        "q",
        "rsa2",
        "tqm",  # a letter left out of a name too short to protect
        "psutl-x",
        "beautifulsoup",  # a digit left out
        "websocket",  # a trailing "s" dropped
        "numpy33",  # appended digits, not the name's own digit stuttered
        "requests2",  # a digit appended
        "numpy3",
        "reqursts",  # one substituted letter
        "config-parser",  # split into real words
        "expiringdict",  # joined, not split
        "requests-lib",  # generic suffixes
        "pyrequests",  # glued "py" is how half of PyPI is named
        "requestspy",
        "path-lib",
        "tqdm-extras",
        "lxml",
    ],
)
def test_names_that_are_not_flagged(name: str) -> None:
    decision = POLICY.check_project(project(name), NOW)
    assert decision.action is Action.ALLOW, decision.reason
    assert decision.policy == "typosquat"


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("reqursts", "requests"),  # substitution
        ("requests2", "requests"),  # digit appended
        ("websocket", "websockets"),  # trailing letter dropped
        ("pyrequests", "requests"),  # glued prefix
        ("requests-sdk", "requests"),
    ],
)
def test_weak_resemblances_are_flagged_for_a_fresh_project(name: str, target: str) -> None:
    assert POLICY.check_project(project(name), NOW).allowed
    fresh = POLICY.check_project(project(name, facts(timedelta(days=2), 1)), NOW)
    assert fresh.action is Action.QUARANTINE
    assert repr(target) in fresh.reason and "new project (first upload 2 d ago)" in fresh.reason


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
        assert "established" in decision.reason and "'colorama'" in decision.reason


def test_weak_resemblance_with_unknown_age_is_not_flagged() -> None:
    upstream = ProjectFacts(first_upload=None, release_count=1)
    assert POLICY.check_project(project("reqursts", upstream), NOW).allowed


def test_exempt_names_and_configured_action() -> None:
    policy = TyposquatPolicy(
        INDEX, action=Action.BLOCK, mode=Mode.DRY_RUN, exempt=["Coloarma", "colo_rama"]
    )
    assert policy.mode is Mode.DRY_RUN
    assert policy.check_project(project("coloarma"), NOW).allowed
    assert policy.check_project(project("colo-rama"), NOW).allowed
    assert policy.check_project(project("reqeusts"), NOW).action is Action.BLOCK


def test_files_are_never_judged() -> None:
    subject = FileSubject(NormalizedName("coloarma"), "coloarma-1.0.tar.gz", None, None)
    assert POLICY.check_file(subject, NOW).allowed


def test_index_contains_normalized_names_and_ranks() -> None:
    index = TyposquatIndex.build(["Foo_Bar", "foo-bar", "baz"])
    assert "foo.bar" in index and "FOO-BAR" in index and "qux" not in index
    assert len(index) == 2
    assert index.rank("baz") == 2


@pytest.mark.parametrize(
    "name", ["colorama", "requests-toolbelt", "expiring-dict", "gunicorn", "websockets"]
)
def test_match_treats_a_protected_name_as_if_it_were_absent(name: str) -> None:
    without = TyposquatIndex.build(n for n in CORPUS if n != name)
    assert INDEX.match(name) == without.match(name)


def test_separator_rule_reads_the_other_names_words() -> None:
    # "expiring-dict" splits into words that only its own corpus entry uses:
    # checked as if absent, that entry must not vouch for them.
    index = TyposquatIndex.build(["expiringdict", "expiring-dict"])
    match = index.match("expiring-dict")
    assert match is not None and match.technique is Technique.SEPARATOR and match.strong
    # A word that other projects use is a real word.
    index = TyposquatIndex.build(["expiringdict", "expiring-dict", "frozen-dict", "expiring"])
    match = index.match("expiring-dict")
    assert match is not None and not match.strong


def test_two_edits_on_long_popular_names_are_weak() -> None:
    match = INDEX.match("beautifullsooup4")
    assert match is not None
    assert (match.target, match.technique) == ("beautifulsoup4", Technique.EDIT2)
    assert not match.strong
    assert INDEX.match("beautifullsooup4", weak=False) is None
    fresh = POLICY.check_project(project("beautifullsooup4", facts(timedelta(days=1), 1)), NOW)
    assert fresh.action is Action.QUARANTINE


@pytest.mark.parametrize(("rank", "flagged"), [(1, True), (500, True), (501, False)])
def test_a_dropped_letter_in_a_short_name_counts_only_at_the_top(rank: int, flagged: bool) -> None:
    filler = [f"filler-project-{i}" for i in range(rank - 1)]
    policy = TyposquatPolicy(TyposquatIndex.build([*filler, "gunicorn"]))
    assert policy.check_project(project("unicorn"), NOW).allowed is not flagged
    assert policy.check_project(project("gunicorn"), NOW).allowed


def test_stricter_technique_and_more_popular_target_win() -> None:
    index = TyposquatIndex.build(["requests", "requestss"])
    match = index.match("reqeusts")
    assert match is not None and match.target == "requests"


@pytest.mark.parametrize(
    ("hidden", "name"),
    [
        ("colorama", "coloarma"),
        ("expiring-dict", "expiring-dict"),
        ("lxml-parser", "config-parser"),
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


def test_a_view_shares_the_two_edit_table_built_on_first_use() -> None:
    index = TyposquatIndex.build(CORPUS)
    view = index.without("requests")
    match = view.match("beautifullsooup4")
    assert match is not None and match.technique is Technique.EDIT2
    assert index.match("beautifullsooup4") == match


# -- the word signal: names made of real words are other names, not typos ----

# A small stand-in for the bundled English word list.
WORDS = ["unicorn", "distribute", "work", "days", "event", "kit", "blend", "modes", "pants"]
# Popular targets past the top 500 (where a dropped letter alone is not enough).
FILLER = [f"filler-project-{i}" for i in range(600)]
WORD_CORPUS = [
    "gunicorn",
    *FILLER,
    "distributed",
    "workadays",
    "aeventkit",
    "blendmodes",
    "solana",
    "pygame",
    "getmac",
    "plants",
    "requests",
    "colorama",
    "matplotlib",
]
WORD_INDEX = TyposquatIndex.build(WORD_CORPUS, words=WORDS)
WORD_POLICY = TyposquatPolicy(WORD_INDEX)


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("unicorn", "gunicorn"),  # a dictionary word (was flagged: top-500 name)
        ("distribute", "distributed"),
        ("workdays", "workadays"),  # a compound of dictionary words, the target is not
        ("eventkit", "aeventkit"),
        ("pants", "plants"),
    ],
)
def test_names_that_read_as_words_are_weak_resemblances(name: str, target: str) -> None:
    match = WORD_INDEX.match(name)
    assert match is not None and match.target == target and not match.strong
    assert WORD_POLICY.check_project(project(name), NOW).allowed
    # Still held when upstream says the project is brand new.
    fresh = WORD_POLICY.check_project(project(name, facts(timedelta(days=2), 1)), NOW)
    assert fresh.action is Action.QUARANTINE


def test_without_a_dictionary_the_same_names_are_judged_by_spelling() -> None:
    match = TyposquatIndex.build(WORD_CORPUS).match("unicorn")
    assert match is not None and match.strong


@pytest.mark.parametrize(
    ("name", "target", "technique"),
    [
        # A letter dropped inside a six-letter word, leaving no real word.
        ("solna", "solana", Technique.EDIT1),
        ("slana", "solana", Technique.EDIT1),
        ("pgame", "pygame", Technique.EDIT1),
        ("getmc", "getmac", Technique.EDIT1),
        ("plnts", "plants", Technique.EDIT1),
        # Typos stay strong with a dictionary loaded.
        ("reqeusts", "requests", Technique.TRANSPOSITION),
        ("coloarma", "colorama", Technique.TRANSPOSITION),
        ("matplotib", "matplotlib", Technique.EDIT1),
        ("colo-rama", "colorama", Technique.SEPARATOR),
    ],
)
def test_misspellings_are_strong_with_a_dictionary(
    name: str, target: str, technique: Technique
) -> None:
    match = WORD_INDEX.match(name)
    assert match is not None
    assert (match.target, match.technique, match.strong) == (target, technique, True)
    assert WORD_POLICY.check_project(project(name), NOW).action is Action.QUARANTINE


@pytest.mark.parametrize(
    "name",
    [
        "blend-modes",  # split into dictionary words
        "olana",  # first letter dropped from a short name
        "pygam",  # last letter dropped
    ],
)
def test_word_index_names_that_are_not_flagged(name: str) -> None:
    assert WORD_POLICY.check_project(project(name), NOW).allowed


def test_words_of_protected_names_count_only_when_others_use_them() -> None:
    # "event" and "kit" are in no dictionary here, but words of two other
    # protected names each, so "eventkit" reads as words ...
    corpus = ["aeventkit", "event-bus", "event-log", "kit-tools", "kit-cli"]
    match = TyposquatIndex.build(corpus, words=["unrelated"]).match("eventkit")
    assert match is not None and not match.strong
    # ... but not when only one other name uses a word.
    index = TyposquatIndex.build(corpus[:-1], words=["unrelated"])
    match = index.match("eventkit")
    assert match is not None and match.strong


def test_without_a_dictionary_nothing_changes() -> None:
    # The word signal needs a dictionary: without one, names are judged as before.
    corpus = ["aeventkit", "event-bus", "event-log", "kit-tools", "kit-cli"]
    match = TyposquatIndex.build(corpus).match("eventkit")
    assert match is not None and match.strong
    match = TyposquatIndex.build(WORD_CORPUS).match("solna")
    assert match is not None and not match.strong


@pytest.mark.parametrize(("hidden", "name"), [("event-log", "eventkit"), ("gunicorn", "unicorn")])
def test_without_is_a_rebuild_with_words(hidden: str, name: str) -> None:
    corpus = [*WORD_CORPUS, "aeventkit", "event-bus", "event-log", "kit-tools", "kit-cli"]
    view = TyposquatIndex.build(corpus, words=WORDS).without(hidden)
    rebuilt = TyposquatIndex.build((n for n in corpus if n != hidden), words=WORDS)
    assert view.match(name) == rebuilt.match(name)


def test_dictionary_words_are_normalized_and_filtered() -> None:
    index = TyposquatIndex.build(["gunicorn"], words=["Unicorn", "x", "two words", "a-b"])
    match = index.match("unicorn")
    assert match is not None and not match.strong
