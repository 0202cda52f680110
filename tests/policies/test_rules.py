import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from pipgate.policies.rules import RuleSet, parse_rule


@pytest.mark.parametrize(
    ("text", "pattern", "specifier", "is_glob"),
    [
        ("requests", "requests", None, False),
        ("Requests", "requests", None, False),
        ("django>=4.2,<6", "django", ">=4.2,<6", False),
        (" django >= 4.2 ", "django", ">=4.2", False),
        ("numpy==2.1.*", "numpy", "==2.1.*", False),
        ("requests==2.32.3", "requests", "==2.32.3", False),
        ("zope.interface", "zope-interface", None, False),
        ("acme-*", "acme-*", None, True),
        ("Django_*", "django-*", None, True),
        ("acme.*", "acme-*", None, True),
        ("py?", "py?", None, True),
        ("*", "*", None, True),
        ("acme-*>=1", "acme-*", ">=1", True),
    ],
)
def test_parse_rule(text: str, pattern: str, specifier: str | None, is_glob: bool) -> None:
    rule = parse_rule(text)
    assert rule.pattern == pattern
    assert rule.specifier == (None if specifier is None else SpecifierSet(specifier))
    assert rule.is_glob is is_glob
    assert rule.text == text.strip()
    assert rule.name == (None if is_glob else pattern)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a project name or pattern"),
        ("   ", "expected a project name or pattern"),
        ("requests[socks]", "extras are not supported"),
        ('foo; python_version < "3.12"', "markers and URLs are not supported"),
        ("foo @ https://example.org/foo.whl", "markers and URLs are not supported"),
        ("django>=x", "bad version specifier '>=x'"),
        ("foo==", "bad version specifier '=='"),
        ("a b", "unexpected 'b' after the project name"),
        ("x/y", "unexpected '/y' after the project name"),
        ("-foo", "'-foo' is not a valid project name"),
        ("foo-", "'foo-' is not a valid project name"),
        ("é", "expected a project name or pattern"),
        (None, "expected a string"),
    ],
)
def test_parse_rule_invalid(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_rule(text)  # type: ignore[arg-type]
    assert repr(text) in str(info.value)


def test_names_only_rejects_specifiers() -> None:
    with pytest.raises(ValueError, match="'acme>=1'.*not allowed here"):
        parse_rule("acme>=1", versions=False)
    assert parse_rule("acme-*", versions=False).pattern == "acme-*"


@pytest.mark.parametrize(
    ("rule", "name", "version", "expected"),
    [
        ("requests", "requests", "2.32.3", True),
        ("requests", "requests", None, True),
        ("requests", "requests-toolbelt", "1.0", False),
        ("Django_*", "django-foo", "1.0", True),
        ("django-*", "django", "1.0", False),
        ("django*", "django", "1.0", True),
        ("django*", "djangorestframework", "1.0", True),
        ("acme-*", "acme-utils", None, True),
        ("py?", "pyc", "1", True),
        ("py?", "pycc", "1", False),
        ("django>=4.2,<6", "django", "4.2", True),
        ("django>=4.2,<6", "django", "5.1.3", True),
        ("django>=4.2,<6", "django", "5.0rc1", True),  # a pre-release in range
        ("django>=4.2,<6", "django", "6.0rc1", False),  # PEP 440: <6 excludes 6's pre-releases
        ("django>=4.2,<6", "django", "4.1", False),
        ("django>=4.2,<6", "django", "6.0", False),
        ("django>=4.2,<6", "django", None, False),  # unknown is not in range
        ("numpy==2.1.*", "numpy", "2.1.3", True),
        ("numpy==2.1.*", "numpy", "2.2.0", False),
        ("urllib3==2.2.2", "urllib3", "2.2.2", True),
        ("urllib3==2.2.2", "urllib3", "2.2.3", False),
    ],
)
def test_matches(rule: str, name: str, version: str | None, expected: bool) -> None:
    parsed = parse_rule(rule)
    assert parsed.matches(NormalizedName(name), None if version is None else Version(version)) is (
        expected
    )


RULES = RuleSet(["django-*", "django>=4.2,<6", "acme-*", "django==3.2.25", "acme-utils==1.0"])


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        ("django", "5.0", "django>=4.2,<6"),
        ("django", "3.2.25", "django==3.2.25"),
        ("django", "4.1", None),
        ("django", None, None),
        ("django-foo", None, "django-*"),
        ("acme-utils", "2.0", "acme-*"),  # configuration order: the glob comes first
        ("flask", "3.0", None),
    ],
)
def test_rule_set_first_match(name: str, version: str | None, expected: str | None) -> None:
    found = RULES.first_match(NormalizedName(name), None if version is None else Version(version))
    assert (found.text if found else None) == expected


def test_rule_set_for_name_keeps_configuration_order() -> None:
    rules = RULES.for_name(NormalizedName("acme-utils"))
    assert [r.text for r in rules] == ["acme-*", "acme-utils==1.0"]
    assert [r.text for r in RULES.for_name(NormalizedName("django"))] == [
        "django>=4.2,<6",
        "django==3.2.25",
    ]


def test_rule_set_names_are_plain_and_unique() -> None:
    assert RULES.names == ("django", "acme-utils")
    assert bool(RuleSet()) is False
    assert len(RULES) == 5


def test_rule_set_rejects_an_invalid_rule_by_name() -> None:
    with pytest.raises(ValueError, match="'django>=x'"):
        RuleSet(["requests", "django>=x"])
