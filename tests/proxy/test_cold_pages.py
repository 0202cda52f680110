"""What makes a cold page cheap: the JSON decoded in pieces, plain URLs taken as they
are, the compact on-disk form, an identical upstream answer not parsed again, and
extracted-metadata lookups in batches. Each must give exactly what the plain way gives."""

from __future__ import annotations

import gzip
import pickle
import random
import zlib
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urldefrag, urljoin

import httpx
import orjson
import pytest

from pipgate.proxy.files.store import FileStore
from pipgate.proxy.index import json_pieces
from pipgate.proxy.index.cache import CachedPage
from pipgate.proxy.index.pages import GZIP_MIN, gzipped
from pipgate.proxy.index.parse import _Resolver, parse_json_page
from pipgate.proxy.models import DistFile, Project
from tests.support.mock_upstream import JSON, ScriptedUpstream, index_cache


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    return [1000.0]


# -- JSON in pieces ------------------------------------------------------------------------


@pytest.fixture
def small_pieces(monkeypatch):  # type: ignore[no-untyped-def]
    """Pieces of a few entries, so small documents take the piecewise path."""
    monkeypatch.setattr(json_pieces, "WHOLE_BELOW", 0)
    monkeypatch.setattr(json_pieces, "PIECE", 64)


def _entries(n: int) -> list[dict[str, object]]:
    rng = random.Random(n)
    tricky = ['},{"x":', "}, {", "\\", '"', "]", "}]", "\u2028", "é"]
    return [
        {
            "filename": f"demo-{i}.tar.gz",
            "url": f"https://up/demo-{i}.tar.gz",
            "hashes": {"sha256": f"{i:064x}"},
            "yanked": rng.choice([False, True, rng.choice(tricky) * 3]),
            "extra": [{"a": 1}, {"b": [{}, {}]}] if i % 3 == 0 else None,
        }
        for i in range(n)
    ]


DOCUMENTS = [
    {"meta": {"api-version": "1.1"}, "name": "demo", "files": _entries(40), "versions": ["1"]},
    {"files": _entries(25), "meta": {"files": [{"x": 1}, {"y": 2}]}},  # a nested "files" too
    {"files": []},
    {"files": _entries(1)},
    {"name": "x" * 200, "files": _entries(30)},
]


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("indent", [False, True])
def test_pieces_decode_exactly_what_orjson_does(small_pieces, document, indent):
    body = orjson.dumps(document, option=orjson.OPT_INDENT_2 if indent else 0)
    assert json_pieces.loads(body) == orjson.loads(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"files": [{"a": 1}, {"b": 2}], "files": [{"c": 3}]}',  # the last "files" wins
        b'{"files": [{"a": "},{"}, {"b": 2}], "x": "}]"}',
        b'{"files": [{"a": 1}, {"b": 2}]} trailing',
        b'{"files": [{"a": 1}, {"b": 2}',
        b'[{"files": [{"a": 1}, {"b": 2}]}]',
        b'{"x": "\\"files\\": [", "files": [{"a": 1}, {"b": 2}]}',
    ],
)
def test_pieces_fall_back_to_decoding_whole(small_pieces, body):
    try:
        expected = orjson.loads(body)
    except orjson.JSONDecodeError:
        with pytest.raises(orjson.JSONDecodeError):
            json_pieces.loads(body)
    else:
        assert json_pieces.loads(body) == expected


# -- URLs ----------------------------------------------------------------------------------

BASES = ["https://pypi.org/simple/demo/", "http://up:8080/simple/demo/", "https://u/s/d"]
URLS = [
    "https://files.pythonhosted.org/packages/ab/cd/demo-1.0.tar.gz",
    "http://files.example/demo-1.0.tar.gz",
    "https://host",
    "https://host//x",
    "https:////x",
    "https:///x",
    "HTTPS://host/x",
    "https://host/x#sha256=ab",
    "https://host/x?y=1",
    "https://host/x?",
    "https://host/x;p",
    "https://[::1]/x",
    "https://host/a/../b",
    "https://host/ x",
    "https://host/\tx",
    " https://host/x",
    "https://hóst/x",
    "../../packages/x.tar.gz",
    "/packages/x",
    "x.tar.gz",
    "//other/x",
    "ftp://host/x",
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("url", URLS)
def test_urls_resolve_as_urljoin_does(base, url):
    try:
        expected = urldefrag(urljoin(base, url))[0]
    except ValueError:
        with pytest.raises(ValueError):
            _Resolver(base)(url)
        return
    assert _Resolver(base)(url) == expected
    assert _Resolver(base).join(url) == urljoin(base, url)


# -- the on-disk form ----------------------------------------------------------------------


def _project() -> Project:
    times = [
        datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC),
        datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=2))),
        None,
    ]
    files = tuple(
        DistFile(
            f"demo-1.{i}-py3-none-any.whl",
            f"https://up/{i}",
            {"sha256": "ab" * 32} if i % 2 else {},
            requires_python=">=3.9" if i % 3 else None,
            yanked=[False, True, "why"][i % 3],
            size=i or None,
            upload_time=times[i % 3],
            core_metadata=[False, True, {"sha256": "cd" * 32}][i % 3],
            gpg_sig=[None, True, False][i % 3],
            provenance=None if i % 2 else "https://up/p",
        )
        for i in range(2500)
    )
    return Project("demo", files, ("1.0",), "archived", "moved", ("https://t",), ("https://a",))


def test_the_on_disk_form_reads_back_what_was_written():
    page = CachedPage(_project(), 12.5, '"e"', "Mon", 7, b"\x01" * 16)
    again = CachedPage.decode(page.encode())
    assert again == page
    assert [f.upload_time for f in again.project.files] == [
        f.upload_time for f in page.project.files
    ]
    # the same moments, read back in UTC (``DistFile.upload_time``'s zone)
    assert {f.upload_time.tzinfo for f in again.project.files if f.upload_time} == {UTC}


@pytest.mark.parametrize("cut", [0, 5, 20, -1, -100])
def test_a_damaged_on_disk_page_is_refused(cut):
    data = CachedPage(_project(), 1.0, None, None, 1).encode()
    with pytest.raises(ValueError):
        CachedPage.decode(data[:cut] if cut else b"pickle")


async def test_a_page_written_by_an_older_pipgate_or_damaged_is_fetched_again(tmp_path, clock):
    upstream = ScriptedUpstream()
    pages = index_cache(tmp_path, upstream, clock)
    await pages.get("demo")
    await pages.wait_idle()
    legacy = pickle.dumps(CachedPage(Project("demo", ()), clock[0], '"1"', None, 3))
    pages._disk.set("demo", pickle.loads(legacy))  # as an older pipgate pickled it
    pages._disk.set("other", b"pipgate-page/1\n\x00\x00")  # cut short
    pages.close()
    reopened = index_cache(tmp_path, upstream, clock)
    assert (await reopened.get("demo")).page.revision == 3
    assert len(upstream.calls) == 1
    upstream.page = lambda request: httpx.Response(200, content=PAGE_OTHER, headers=JSON)
    assert (await reopened.get("other")).page.project.name == "other"
    assert len(upstream.calls) == 2


PAGE_OTHER = b'{"name": "other", "files": []}'


# -- an identical answer -------------------------------------------------------------------


async def test_an_identical_upstream_answer_is_not_parsed_again(tmp_path, clock, monkeypatch):
    upstream = ScriptedUpstream()
    upstream.page = lambda request: httpx.Response(200, content=BODY, headers=JSON)
    pages = index_cache(tmp_path, upstream, clock)
    first = (await pages.get("demo")).page
    parsed = []
    monkeypatch.setattr(
        "pipgate.proxy.upstream.client.parse_json_page",
        lambda *a: parsed.append(a) or parse_json_page(*a),
    )
    clock[0] += 61
    again = (await pages.get("demo")).page
    assert again.revision == first.revision and again.project is first.project
    assert parsed == []
    upstream.page = lambda request: httpx.Response(200, content=BODY + b" ", headers=JSON)
    clock[0] += 61
    changed = (await pages.get("demo")).page  # other bytes, the same page: parsed, same revision
    assert len(parsed) == 1 and changed.revision == first.revision
    upstream.page = lambda request: httpx.Response(200, content=PAGE_ONE_FILE, headers=JSON)
    clock[0] += 61
    assert (await pages.get("demo")).page.revision == first.revision + 1


BODY = b'{"name": "demo", "files": [{"filename": "demo-1.0.tar.gz", "url": "https://up/x"}]}'
PAGE_ONE_FILE = (
    b'{"name": "demo", "files": [{"filename": "demo-2.0.tar.gz", "url": "https://up/y"}]}'
)


# -- extracted metadata --------------------------------------------------------------------


def test_metadata_hashes_in_batches_match_one_by_one(tmp_path, monkeypatch):
    monkeypatch.setattr("pipgate.proxy.files.store._BATCH", 3)
    store = FileStore(tmp_path, size_limit=1 << 30)
    digests = [f"{i:064x}" for i in range(10)]
    for digest in digests[::2]:
        store.put_metadata(digest, f"Metadata-Version: 2.1\nName: d{digest}\n".encode())
    found = store.metadata_hashes(digests)
    assert found == {d: store.metadata_hash(d) for d in digests if store.metadata_hash(d)}
    assert len(found) == 5


# -- a wheel downloaded ----------------------------------------------------------------------


async def test_a_page_is_rendered_again_only_when_extracted_metadata_changes_it(tmp_path):
    from datetime import UTC, datetime

    from pipgate.policies.engine import PolicySet
    from pipgate.proxy.gate import Gate
    from pipgate.proxy.index.pages import PageRenderer

    with_metadata = DistFile(
        "demo-1.0-py3-none-any.whl", "https://up/a", {"sha256": "a" * 64}, core_metadata=True
    )
    without = DistFile("demo-2.0-py3-none-any.whl", "https://up/b", {"sha256": "b" * 64})
    project = Project("demo", (with_metadata, without), ("1.0", "2.0"))
    gate = Gate("default", PolicySet(), clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    store = FileStore(tmp_path, size_limit=1 << 30)
    pages = PageRenderer(store)
    view = gate.view(project)
    json = "application/vnd.pypi.simple.v1+json"
    first = await pages.page("default", project, view, (1, gate.generation), json)
    store.put_metadata("a" * 64, b"Metadata-Version: 2.1\nName: demo\n")
    pages.metadata_changed("demo", "a" * 64)  # upstream advertised it: the page stands
    assert pages.rendered("default", "demo", view, (1, gate.generation), json) is first
    store.put_metadata("b" * 64, b"Metadata-Version: 2.1\nName: demo\n")
    pages.metadata_changed("demo", "b" * 64)  # now the page can advertise it
    assert pages.rendered("default", "demo", view, (1, gate.generation), json) is None
    again = await pages.page("default", project, view, (1, gate.generation), json)
    entry = orjson.loads(again.body)["files"][1]
    assert entry["core-metadata"] == {"sha256": store.metadata_hash("b" * 64)}


@pytest.mark.parametrize("size", [GZIP_MIN, 600_000, 3 * 1024 * 1024 + 7])
def test_a_page_is_one_gzip_member(size):
    """Whatever its size, a page is one gzip member: a client that reads a single
    member (httpx, uv) gets all of it."""
    rng = random.Random(size)
    body = bytes(rng.choice(b'{}":,abcdef0123456789') for _ in range(size))
    packed = gzipped(body)
    reader = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert reader.decompress(packed) == body
    assert reader.eof and not reader.unused_data
    assert gzip.decompress(packed) == body
    assert gzipped(body[: GZIP_MIN - 1]) is None


async def test_a_small_page_is_rendered_without_a_worker_thread_unless_it_asks_the_store(
    tmp_path, monkeypatch
):
    """A thread hop costs more than rendering a small page: it is rendered on the event
    loop, the same bytes as in a thread, unless rendering asks the store (I/O: a wheel
    whose metadata the store may have extracted), which stays in a thread."""
    from anyio import to_thread

    from pipgate.policies.engine import PolicySet
    from pipgate.proxy import models
    from pipgate.proxy.gate import Gate
    from pipgate.proxy.index.pages import PageRenderer

    hops: list[object] = []
    real = to_thread.run_sync

    async def counted(func, *args, **kwargs):
        hops.append(func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(to_thread, "run_sync", counted)
    wheel = DistFile(
        "demo-1.0-py3-none-any.whl", "https://up/a", {"sha256": "a" * 64}, core_metadata=True
    )
    sdist = DistFile("demo-1.0.tar.gz", "https://up/b", {"sha256": "b" * 64})
    project = Project("demo", (wheel, sdist), ("1.0",))
    gate = Gate("default", PolicySet(), clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    view = gate.view(project)
    json = "application/vnd.pypi.simple.v1+json"
    inline = await PageRenderer(FileStore(tmp_path / "a", size_limit=1 << 30)).page(
        "default", project, view, (1, gate.generation), json
    )
    assert hops == []
    monkeypatch.setattr(models, "SMALL_PAGE_FILES", 0)  # as if it were large
    threaded = await PageRenderer(FileStore(tmp_path / "b", size_limit=1 << 30)).page(
        "default", project, view, (1, gate.generation), json
    )
    assert len(hops) == 1 and threaded.body == inline.body and threaded.etag == inline.etag
    monkeypatch.setattr(models, "SMALL_PAGE_FILES", 200)
    without = DistFile("demo-2.0-py3-none-any.whl", "https://up/c", {"sha256": "c" * 64})
    asks = Project("demo", (wheel, sdist, without), ("1.0", "2.0"))
    await PageRenderer(FileStore(tmp_path / "c", size_limit=1 << 30)).page(
        "default", asks, gate.view(asks), (2, gate.generation), json
    )
    assert len(hops) == 2  # the wheel without upstream metadata: the store is asked


async def test_a_small_page_is_parsed_without_a_worker_thread(tmp_path, clock, monkeypatch):
    """Digesting and parsing a small page cost less than a thread hop; a large one's
    are done in a worker thread."""
    from anyio import to_thread

    from pipgate.proxy.upstream.client import SMALL_JSON

    hops: list[str] = []
    real = to_thread.run_sync

    async def counted(func, *args, **kwargs):
        hops.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(to_thread, "run_sync", counted)
    entries = [{"filename": f"demo-{i}.tar.gz", "url": f"https://up/{i}"} for i in range(2000)]
    large = orjson.dumps({"name": "large", "files": entries})
    assert len(large) > SMALL_JSON > len(PAGE_OTHER)
    upstream = ScriptedUpstream()
    pages = index_cache(tmp_path, upstream, clock)
    upstream.page = lambda request: httpx.Response(200, content=PAGE_OTHER, headers=JSON)
    assert (await pages.get("other")).page.project.name == "other"
    assert hops == []
    upstream.page = lambda request: httpx.Response(200, content=large, headers=JSON)
    assert len((await pages.get("large")).page.project.files) == 2000
    assert hops == ["source_digest", "parse"]
    await pages.wait_idle()
    pages.close()
