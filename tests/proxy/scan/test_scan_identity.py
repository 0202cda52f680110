"""The ``copied-identity`` rule: metadata that claims a popular project the archive is not."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from benchmarks.build_summary_data import build, read_summaries
from pipgate.policies.scan import ScanPolicy
from pipgate.policies.typosquat import TyposquatIndex
from pipgate.proxy.config.corpus import read_bundled_bytes
from pipgate.proxy.scan import rules, scan_archive
from pipgate.proxy.scan.identity import (
    BUNDLED_SUMMARIES,
    Identities,
    bundled_summaries,
    normalized_summary,
    parse_summaries,
)
from pipgate.proxy.scan.metadata import read_metadata
from tests.support.archives import pkg_info, sdist

POLICY = ScanPolicy()
#: A corpus of its own, so the unit tests do not move with the bundled one; `requests` is
#: an English word here, as it is in the bundled word list.
INDEX = TyposquatIndex.build(
    ["requests", "colorama", "sampleproject", "pyfiglet"], words=["requests"]
)
SUMMARIES = {"cross platform colored terminal text": "colorama"}
COLORAMA_SUMMARY = "Cross-platform colored terminal text."


def _claimed(name: str, headers: str) -> str | None:
    metadata = read_metadata(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n{headers}")
    return Identities(SUMMARIES, INDEX).claimed(name, metadata)


def test_a_popular_projects_summary_word_for_word_is_claimed() -> None:
    reason = _claimed("colorstyle", f"Summary: {COLORAMA_SUMMARY}\n")
    assert reason is not None and "'colorama'" in reason


@pytest.mark.parametrize(
    "summary",
    ["CROSS PLATFORM — colored terminal text!", "Cross\uff0dplatform colored terminal text"],
)
def test_case_punctuation_and_compatibility_forms_do_not_hide_a_copy(summary: str) -> None:
    assert normalized_summary(summary) == "cross platform colored terminal text"
    assert _claimed("colorstyle", f"Summary: {summary}\n") is not None


def test_the_popular_project_itself_and_a_summary_of_its_own_are_not_claims() -> None:
    assert _claimed("colorama", f"Summary: {COLORAMA_SUMMARY}\n") is None
    assert _claimed("Colorama", f"Summary: {COLORAMA_SUMMARY}\n") is None
    assert _claimed("colorstyle", "Summary: Colored terminal text, my way\n") is None


@pytest.mark.parametrize(
    "headers",
    [
        "Home-page: https://github.com/tartley/colorama\n",
        "Home-page: https://www.github.com/tartley/colorama.git\n",
        "Project-URL: Source, https://github.com/tartley/colorama\n",
        "Project-URL: Homepage, https://gitlab.com/someone/Colorama/-/tree/main\n",
    ],
)
def test_a_home_page_at_a_popular_projects_repository_is_claimed(headers: str) -> None:
    reason = _claimed("colorstyle", headers)
    assert reason is not None and "repository of 'colorama'" in reason


@pytest.mark.parametrize(
    "headers",
    [
        # its own repository, under any owner
        "Home-page: https://github.com/someone/colorstyle\n",
        # a link that is not the project's home or code
        "Project-URL: Documentation, https://github.com/tartley/colorama\n",
        # a template's repository, where generated metadata points until edited
        "Home-page: https://github.com/pypa/sampleproject\n",
        # a repository named with an English word says nothing about whose it is
        "Home-page: https://github.com/someone/requests\n",
        # not a code forge
        "Home-page: https://colorama.example.com/tartley/colorama\n",
        "Home-page: https://github.com/colorama\n",
    ],
)
def test_other_links_are_not_claims(headers: str) -> None:
    assert _claimed("colorstyle", headers) is None


def _quiet_sdist(name: str, summary: str) -> bytes:
    return sdist(
        {
            "PKG-INFO": pkg_info(name, summary=summary),
            f"{name}/__init__.py": "def paint(text):\n    return text\n",
        },
        root=f"{name}-1.0",
    )


def test_a_copied_summary_alone_is_not_held_but_is_named() -> None:
    """Shipped corpus: colorama's own summary on a project of another name."""
    report = scan_archive(_quiet_sdist("termpaint", COLORAMA_SUMMARY), "termpaint-1.0.tar.gz")
    found = [f for f in report.findings if f.rule == "copied-identity"]
    assert found and "'colorama'" in found[0].detail and found[0].file == "PKG-INFO"
    assert POLICY.decide(report).allowed
    assert bundled_summaries() is bundled_summaries()  # read once per process


def test_a_lookalike_name_wearing_the_real_projects_summary_is_held() -> None:
    report = scan_archive(_quiet_sdist("coloarma", COLORAMA_SUMMARY), "coloarma-1.0.tar.gz")
    assert {"lookalike-name", "copied-identity"} <= {f.rule for f in report.findings}
    assert not POLICY.decide(report).allowed


def test_the_same_lookalike_describing_itself_is_not_held() -> None:
    report = scan_archive(_quiet_sdist("coloarma", "Paint my text"), "coloarma-1.0.tar.gz")
    assert "copied-identity" not in {f.rule for f in report.findings}
    assert POLICY.decide(report).allowed


def test_the_builder_keeps_only_summaries_that_say_something_of_their_own(
    tmp_path: Path,
) -> None:
    listing = tmp_path / "pypi.tsv"
    rows = [
        ("colorama", COLORAMA_SUMMARY),
        ("fastjson", "Python SDK"),  # too short to be anyone's
        ("blob", "Add your description here"),  # a template many projects carry
        *((f"new-project-{i}", "Add your description here") for i in range(40)),
        ("quietlib", ""),
    ]
    listing.write_text(
        "name\tversion\tsummary\n" + "".join(f"{n}\t1.0\t{s}\n" for n, s in rows),
        encoding="utf-8",
    )
    built = build(read_summaries(listing), ["colorama", "fastjson", "blob", "quietlib"])
    assert built == [("colorama", "cross platform colored terminal text")]
    text = "name\tsummary\n" + "".join(f"{n}\t{s}\n" for n, s in built)
    assert parse_summaries(text) == SUMMARIES


def test_the_rules_version_names_the_shipped_summaries() -> None:
    """A verdict is kept by the rules' version: new summaries must change it, so whoever
    rebuilds them updates ``SUMMARIES_CORPUS`` (and the version)."""
    shipped = read_bundled_bytes(BUNDLED_SUMMARIES)
    assert hashlib.sha256(shipped).hexdigest() == rules.SUMMARIES_CORPUS
