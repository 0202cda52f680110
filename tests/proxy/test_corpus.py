import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipgate.policies.decision import Action
from pipgate.policies.subjects import ProjectSubject
from pipgate.policies.typosquat import TyposquatIndex, TyposquatPolicy
from pipgate.policies.typosquat_snapshot import Presence
from pipgate.proxy.config.corpus import (
    CorpusError,
    load_bundled_index,
    load_bundled_names,
    load_bundled_snapshot,
    load_bundled_words,
    load_corpus,
    parse_corpus,
    read_corpus_file,
)
from pipgate.proxy.urls import redact

NOW = datetime(2026, 11, 27, tzinfo=UTC)
TOP_PYPI = json.dumps(
    {
        "last_update": "2026-11-01 00:00:00",
        "rows": [
            {"project": "boto3", "download_count": 300},
            {"project": "Typing_Extensions", "download_count": 200},
            {"project": "boto3", "download_count": 100},
        ],
    }
)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (TOP_PYPI, ["boto3", "typing-extensions"]),
        ("rank\tname\n2\tsix\n1\tboto3\n\n3\tZope.Interface\n", ["boto3", "six", "zope-interface"]),
        ("\ufeff# mine\nrequests\n\n  Flask_Login \n", ["requests", "flask-login"]),
        ("rank\tname\tdownloads\n1\tpip\t5\n", ["pip"]),
    ],
)
def test_parse_corpus(text: str, names: list[str]) -> None:
    assert parse_corpus(text, "test corpus") == names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "test corpus is empty"),
        ("# nothing\n", "test corpus lists no project names"),
        ("{not json", "test corpus is not valid JSON"),
        ('{"projects": []}', 'expected a JSON object with a "rows" list'),
        ('{"rows": [{"download_count": 1}]}', 'row 1 has no "project" string'),
        ("rank\tname\nfirst\tpip\n", "line 2 is not 'rank<TAB>name'"),
        ("position\tproject\n1\tpip\n", "must name the columns 'rank' and 'name'"),
        ("requests\nnot a name\n", "'not a name' is not a project name"),
    ],
)
def test_parse_corpus_invalid(text: str, message: str) -> None:
    with pytest.raises(CorpusError, match="test corpus") as info:
        parse_corpus(text, "test corpus")
    assert message in str(info.value)


def test_bundled_corpus_loads_in_rank_order() -> None:
    names = load_bundled_names()
    assert len(names) > 10_000
    assert names[0] == "boto3"
    assert len(set(names)) == len(names)
    assert {"requests", "colorama", "numpy"} <= set(names)


def test_bundled_corpus_catches_classic_typosquats() -> None:
    # By spelling alone: the bundled corpus, no word list, no snapshot.
    policy = TyposquatPolicy(TyposquatIndex.build(load_bundled_names()))

    def action(name: str) -> Action:
        return policy.check_project(ProjectSubject(name), NOW).action  # type: ignore[arg-type]

    # None of these names is itself a popular project.
    assert {"coloarma", "reqeusts", "python-requests", "djang0"}.isdisjoint(load_bundled_names())
    assert action("coloarma") is Action.QUARANTINE
    assert action("reqeusts") is Action.QUARANTINE
    assert action("python-requests") is Action.QUARANTINE
    assert action("djang0") is Action.QUARANTINE
    assert action("requests") is Action.ALLOW
    assert action("colorama") is Action.ALLOW


def test_bundled_words_load() -> None:
    words = list(load_bundled_words())
    assert len(words) > 50_000
    assert {"unicorn", "calendar", "work", "days"} <= set(words)
    assert not any(word.startswith("#") or not word.islower() for word in words)


def test_the_prebuilt_index_is_the_bundled_corpus_and_words() -> None:
    # Stale shipped data fails here: rebuild with benchmarks/build_typosquat_data.py.
    names = load_bundled_names()
    prebuilt = load_bundled_index()
    assert prebuilt.names == names
    built = TyposquatIndex.build(names, words=load_bundled_words())
    for name in ("coloarma", "calendar", "requests2", "numpy-utils", "beautifullsooup4", "pndas"):
        assert prebuilt.matches(name) == built.matches(name), name


def test_the_bundled_snapshot_covers_the_corpus() -> None:
    snapshot = load_bundled_snapshot()
    assert snapshot.taken.year >= 2026
    assert all(snapshot.covers(name) for name in ("requests", "numpy", "colorama", "boto3"))
    # long-standing projects near popular names
    assert snapshot.presence("requests-oauthlib", "requests") is Presence.ESTABLISHED
    assert snapshot.presence("pytest-cov", "pytest-cov") is Presence.ESTABLISHED
    # typosquats are taken down: not there
    for squat in ("coloarma", "reqeusts", "djang0"):
        assert snapshot.presence(squat, "requests") is Presence.ABSENT, squat
    crowd = snapshot.density("django")
    assert crowd is not None and crowd.affix > 1000


def test_bundled_structures_judge_names() -> None:
    policy = TyposquatPolicy(load_bundled_index(), snapshot=load_bundled_snapshot())

    def decide(name: str) -> tuple[Action, str]:
        decision = policy.check_project(ProjectSubject(name), NOW)  # type: ignore[arg-type]
        return decision.action, decision.reason

    # "calendar" is one letter from "icalendar", but a real word and a real project.
    assert decide("calendar")[0] is Action.ALLOW
    for typo in ("coloarma", "reqeusts", "python-requests", "djang0", "matplotib", "requestss"):
        action, reason = decide(typo)
        assert action is Action.QUARANTINE, reason
        assert "Did you mean" in reason and "not on PyPI in" in reason
    # one edit from popular names, but long-standing projects on PyPI
    for neighbour in ("requests-oauthlib", "numpy-financial"):
        assert decide(neighbour)[0] is Action.ALLOW, neighbour


@pytest.mark.parametrize(
    ("loader", "filename", "message"),
    [
        (load_bundled_index, "typosquat-index.bin", "bundled typosquat index typosquat-index.bin"),
        (load_bundled_snapshot, "pypi-snapshot.bin", "bundled snapshot pypi-snapshot.bin"),
    ],
)
def test_damaged_bundled_data_is_a_corpus_error(loader: Any, filename: str, message: str) -> None:
    read: list[str] = []

    def garbage(name: str) -> bytes:
        read.append(name)
        return b"garbage"

    with pytest.raises(CorpusError, match=message):
        loader(garbage)
    assert read == [filename]


def test_read_corpus_file(tmp_path: Path) -> None:
    path = tmp_path / "top.json"
    path.write_text(TOP_PYPI)
    assert read_corpus_file(path) == ["boto3", "typing-extensions"]


def test_read_corpus_file_missing_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="missing.txt"):
        read_corpus_file(tmp_path / "missing.txt")


async def test_load_corpus_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    path.write_text("pip\nsetuptools\n")
    assert await load_corpus(str(path)) == ["pip", "setuptools"]


async def test_load_corpus_from_a_url() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, text=TOP_PYPI)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        names = await load_corpus("https://example.org/top.json", client)
    assert names == ["boto3", "typing-extensions"]
    assert seen == ["https://example.org/top.json"]


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(404), "HTTP 404"),
        (httpx.Response(200, text="<html>"), "'<html>' is not a project name"),
        (httpx.Response(200, text='{"rows": 3}'), '"rows" list'),
    ],
)
async def test_load_corpus_url_errors_name_the_url_without_credentials(
    response: httpx.Response, message: str
) -> None:
    transport = httpx.MockTransport(lambda request: response)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(CorpusError) as info:
            await load_corpus("https://user:secret@example.org/top.json", client)
    assert "corpus URL https://***@example.org/top.json" in str(info.value)
    assert "secret" not in str(info.value)
    assert message in str(info.value)
    assert "secret" not in str(info.value)


async def test_load_corpus_connection_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        message = r"cannot fetch corpus URL http://x\.test/c: ConnectError"
        with pytest.raises(CorpusError, match=message):
            await load_corpus("http://x.test/c", client)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://example.org/a", "https://example.org/a"),
        ("https://u:p@example.org:8443/a?b=1", "https://***@example.org:8443/a?b=1"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown
