"""OSV records read into an advisory index, and which versions they affect."""

from __future__ import annotations

from typing import Any

import pytest
from packaging.version import Version

from pipgate.policies.advisories import MALICIOUS, VULNERABILITIES, AdvisoryIndex
from pipgate.policies.osv import BadRecord, FeedReader, read_record
from pipgate.policies.severity import Severity
from tests.support.osv_records import index_of, record


def ids(index: AdvisoryIndex, name: str, version: str) -> list[str]:
    return [m.advisory.id for m in index.affecting(name, Version(version))]  # type: ignore[arg-type]


# -- ranges ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ranges", "version", "affected"),
    [
        ([("0", "2.0")], "1.9", True),
        ([("0", "2.0")], "2.0", False),
        ([("0", "2.0")], "2.0rc1", True),
        ([("1.5", "2.0")], "1.4", False),
        ([("1.5", "2.0")], "1.5", True),
        ([("1.5", None)], "99", True),
        ([("0", None, "1.2")], "1.2", True),  # last_affected is inclusive
        ([("0", None, "1.2")], "1.2.1", False),
        ([("0", "1.0"), ("2.0", "2.1")], "1.5", False),
        ([("0", "1.0"), ("2.0", "2.1")], "2.0.5", True),
        ([("1.0", "not a version")], "5.0", True),  # an unreadable end leaves the range open
        ([("bad", "2.0")], "0.1", True),  # an unreadable start reads as 0
    ],
)
def test_ranges(ranges, version: str, affected: bool) -> None:
    index = index_of(record("GHSA-aaaa", "demo-pkg", ranges=ranges))
    assert (ids(index, "demo-pkg", version) == ["GHSA-aaaa"]) is affected


def test_events_are_evaluated_in_version_order_not_file_order() -> None:
    data = record("GHSA-aaaa", "demo-pkg")
    data["affected"][0]["ranges"] = [
        {"type": "ECOSYSTEM", "events": [{"fixed": "2.0"}, {"introduced": "1.0"}]}
    ]
    index = index_of(data)
    assert ids(index, "demo-pkg", "1.5") == ["GHSA-aaaa"]
    assert ids(index, "demo-pkg", "0.5") == ids(index, "demo-pkg", "2.0") == []


def test_fixed_version_is_the_next_fix_above_the_version() -> None:
    index = index_of(record("GHSA-aaaa", "demo-pkg", ranges=[("0", "1.0.3"), ("1.1", "1.1.7")]))
    (match,) = index.affecting("demo-pkg", Version("1.1.2"))  # type: ignore[arg-type]
    assert match.fixed == Version("1.1.7")
    (match,) = index.affecting("demo-pkg", Version("1.0"))  # type: ignore[arg-type]
    assert match.fixed == Version("1.0.3")


def test_git_ranges_are_not_versions() -> None:
    data = record("GHSA-aaaa", "demo-pkg")
    data["affected"][0]["ranges"] = [
        {"type": "GIT", "repo": "https://x", "events": [{"introduced": "abc123"}]}
    ]
    index = index_of(data)
    assert ids(index, "demo-pkg", "1.0") == []
    assert index.every_version("demo-pkg") == ()  # type: ignore[arg-type]


# -- versions and "every version" ----------------------------------------------------------------


def test_explicit_versions_match_normalized() -> None:
    index = index_of(
        record("MAL-2025-1", "Evil_Pkg", versions=["1.0", "2.0.0-beta1"]), kind=MALICIOUS
    )
    assert ids(index, "evil-pkg", "1.0.0") == ["MAL-2025-1"]
    assert ids(index, "evil-pkg", "2.0.0b1") == ["MAL-2025-1"]
    assert ids(index, "evil-pkg", "1.1") == []
    assert index.every_version("evil-pkg") == ()  # type: ignore[arg-type]


def test_unparseable_versions_match_by_exact_string() -> None:
    index = index_of(record("MAL-2025-1", "evil-pkg", versions=["1.0-weird-build"]), kind=MALICIOUS)
    assert [m.advisory.id for m in index.affecting("evil-pkg", "1.0-weird-build")] == ["MAL-2025-1"]  # type: ignore[arg-type]
    assert index.affecting("evil-pkg", "1.0-other") == ()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "ranges", [None, [("0", None)]], ids=["no versions or ranges", "introduced 0"]
)
def test_a_record_without_bounds_affects_every_version(ranges) -> None:
    index = index_of(record("MAL-2025-1", "evil-pkg", ranges=ranges), kind=MALICIOUS)
    assert ids(index, "evil-pkg", "0.0.1") == ids(index, "evil-pkg", "999") == ["MAL-2025-1"]
    if ranges is None:
        assert [a.id for a in index.every_version("evil-pkg")] == ["MAL-2025-1"]  # type: ignore[arg-type]


def test_versions_beside_ranges_are_not_kept() -> None:
    # OSV enumerates `versions` from the ranges for PyPI; keeping both would double the memory.
    index = index_of(
        record("GHSA-aaaa", "demo-pkg", ranges=[("0", "2.0")], versions=["1.0", "1.5"])
    )
    (affected,) = index.claims("demo-pkg")  # type: ignore[arg-type]
    assert affected.versions == ()


# -- aliases, severity, kinds ---------------------------------------------------------------------


def test_aliases_group_records_and_share_the_highest_severity() -> None:
    index = index_of(
        record("PYSEC-2023-74", "requests", ranges=[("0", "2.31.0")], aliases=["CVE-2023-32681"]),
        record(
            "GHSA-j8r2-6x86-q33q",
            "requests",
            ranges=[("2.3.0", "2.31.0")],
            aliases=["CVE-2023-32681"],
            cvss="CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N",
            summary="Unintended leak of Proxy-Authorization header in requests",
        ),
    )
    (match,) = index.affecting("requests", Version("2.30.0"))  # type: ignore[arg-type]
    assert match.advisory.id == "GHSA-j8r2-6x86-q33q"
    assert match.advisory.aliases == ("CVE-2023-32681", "PYSEC-2023-74")
    assert match.advisory.severity is Severity.MEDIUM
    assert match.fixed == Version("2.31.0")
    (old,) = index.affecting("requests", Version("2.0"))  # type: ignore[arg-type]
    assert old.advisory.id == "PYSEC-2023-74"  # only the PYSEC record covers 2.0
    assert old.advisory.severity is Severity.MEDIUM  # ... with its group's severity
    assert old.advisory.summary == "Advisory PYSEC-2023-74 for requests"


def test_severity_from_database_specific_when_no_cvss_v3() -> None:
    index = index_of(record("GHSA-aaaa", "demo-pkg", ranges=[("0", "2")], severity="MODERATE"))
    (match,) = index.affecting("demo-pkg", Version("1"))  # type: ignore[arg-type]
    assert match.advisory.severity is Severity.MEDIUM


def test_unknown_severity_stays_unknown() -> None:
    index = index_of(record("PYSEC-1", "demo-pkg", ranges=[("0", "2")], cvss="CVSS:4.0/AV:N"))
    (match,) = index.affecting("demo-pkg", Version("1"))  # type: ignore[arg-type]
    assert match.advisory.severity is None


def test_kinds_are_split_by_id() -> None:
    reader = FeedReader()
    reader.add(record("MAL-2025-1", "evil-pkg"), where="a")
    reader.add(record("GHSA-aaaa", "demo-pkg", ranges=[("0", "2")]), where="b")
    indexes = reader.indexes()
    assert list(indexes[MALICIOUS].names()) == ["evil-pkg"]
    assert list(indexes[VULNERABILITIES].names()) == ["demo-pkg"]
    only = FeedReader([MALICIOUS])
    only.add(record("GHSA-aaaa", "demo-pkg", ranges=[("0", "2")]), where="b")
    assert only.ignored == 1 and only.loaded == 0


def test_digest_follows_the_content_not_the_order() -> None:
    a, b = record("MAL-1", "x"), record("MAL-2", "y")
    assert index_of(a, b, kind=MALICIOUS).digest == index_of(b, a, kind=MALICIOUS).digest
    changed = record("MAL-2", "y", versions=["1.0"])
    assert index_of(a, changed, kind=MALICIOUS).digest != index_of(a, b, kind=MALICIOUS).digest


# -- leniency -------------------------------------------------------------------------------------


def test_withdrawn_and_foreign_records_are_ignored() -> None:
    reader = FeedReader()
    reader.add(record("MAL-1", "x", withdrawn="2025-02-01T00:00:00Z"), where="a")
    reader.add(record("MAL-2", "x", ecosystem="npm"), where="b")
    assert (reader.loaded, reader.ignored, reader.bad) == (0, 2, 0)


def _broken(field: str, value: Any) -> dict[str, Any]:
    data = record("GHSA-bad", "demo-pkg", ranges=[("0", "2")])
    target = data["affected"][0] if field.startswith("affected.") else data
    target[field.removeprefix("affected.")] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "not a JSON object"),
        ({"affected": []}, "no 'id'"),
        (_broken("affected", {"x": 1}), "'affected' is not a list"),
        (_broken("affected.package", "demo-pkg"), "no 'package'"),
        (_broken("affected.package", {"ecosystem": "PyPI", "name": "bad name!"}), "not a valid"),
        (_broken("affected.versions", [1, 2]), "not a list of strings"),
        (_broken("affected.ranges", [{"type": "ECOSYSTEM", "events": []}]), "events"),
        (
            _broken("affected.ranges", [{"type": "ECOSYSTEM", "events": [{"fixed": "1"}]}]),
            "introduced",
        ),
        (
            _broken("affected.ranges", [{"type": "ECOSYSTEM", "events": [{"introduced": 1}]}]),
            "no version",
        ),
    ],
)
def test_bad_records(data: Any, message: str) -> None:
    with pytest.raises(BadRecord, match=message):
        read_record(data, where="x.json")
    reader = FeedReader()
    reader.add(data, where="x.json")
    reader.add(record("GHSA-good", "demo-pkg", ranges=[("0", "2")]), where="y.json")
    assert (reader.bad, reader.loaded) == (1, 1)
    assert message in reader.problems[0]


def test_a_bad_severity_is_only_unknown() -> None:
    data = record("GHSA-aaaa", "demo-pkg", ranges=[("0", "2")], cvss="garbage", severity="extreme")
    parsed = read_record(data)
    assert parsed is not None and parsed.severity is None


def test_long_summary_is_cut_and_details_stand_in_for_none() -> None:
    long = read_record(record("GHSA-a", "demo-pkg", summary="word " * 100))
    assert long is not None and len(long.summary) == 160 and long.summary.endswith("…")
    data = record("PYSEC-1", "demo-pkg", summary="")
    data["details"] = "First line of details.\nMore."
    none = read_record(data)
    assert none is not None and none.summary == "First line of details."
