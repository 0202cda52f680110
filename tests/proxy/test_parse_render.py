"""parse.py and render.py: upstream pages in, PEP 691 / PEP 503 out."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import msgspec
import orjson
import pytest

from pipgate.proxy.index import codec
from pipgate.proxy.index.parse import PageParseError, parse_html_page, parse_json_page
from pipgate.proxy.index.render import (
    HTML_V1,
    JSON_V1,
    TEXT_HTML,
    NotAcceptable,
    Page,
    negotiate,
    render_html,
    render_json,
    shown_files,
)
from pipgate.proxy.models import LARGEST_SIZE, DistFile, Project, version_of
from tests.support.mock_upstream import JSON, app_on_mock_upstream, json_entry, json_page

PAGE = "https://files.example/simple/demo/"
SHA = "a" * 64


def test_json_page_keeps_every_field_and_resolves_relative_urls():
    body = orjson.dumps(
        {
            "meta": {"api-version": "1.4"},
            "name": "demo",
            "versions": ["1.0"],
            "project-status": {"status": "archived", "reason": "moved"},
            "files": [
                {
                    "filename": "demo-1.0-py3-none-any.whl",
                    "url": "../../packages/demo-1.0-py3-none-any.whl",
                    "hashes": {"sha256": SHA.upper()},
                    "requires-python": ">=3.9",
                    "yanked": "bad build",
                    "size": 10,
                    "upload-time": "2024-01-01T00:00:00.123456Z",
                    "dist-info-metadata": {"sha256": SHA},
                    "provenance": "https://files.example/provenance/demo",
                }
            ],
        }
    )
    project = parse_json_page(body, PAGE, "demo")
    (f,) = project.files
    assert f.url == "https://files.example/packages/demo-1.0-py3-none-any.whl"
    assert f.hashes == {"sha256": SHA}
    assert f.yanked == "bad build"
    assert f.core_metadata == {"sha256": SHA}
    assert f.upload_time == datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
    assert (project.status, project.status_reason) == ("archived", "moved")


@pytest.mark.parametrize(
    "entry",
    [
        {"filename": "../evil-1.0.tar.gz", "url": "x"},
        {"filename": "a/b-1.0.tar.gz", "url": "x"},
        {"url": "x"},
        {"filename": "demo-1.0.tar.gz"},
        "not a dict",
    ],
)
def test_json_entries_without_a_safe_filename_or_url_are_skipped(entry):
    body = orjson.dumps(
        {"files": [entry, {"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz"}]}
    )
    assert [f.filename for f in parse_json_page(body, PAGE, "demo").files] == ["demo-1.0.tar.gz"]


@pytest.mark.parametrize(
    ("field", "value", "attribute", "expected"),
    [
        ("size", -1, "size", None),
        ("size", "10", "size", None),
        ("upload-time", "yesterday", "upload_time", None),
        ("hashes", {"sha256": "not-hex!"}, "hashes", {}),
        ("yanked", 1, "yanked", False),
    ],
)
def test_one_bad_attribute_drops_only_that_attribute(field, value, attribute, expected):
    entry = {"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", field: value}
    (f,) = parse_json_page(orjson.dumps({"files": [entry]}), PAGE, "demo").files
    assert getattr(f, attribute) == expected


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"files": 3}'])
def test_unusable_json_pages_raise(body):
    with pytest.raises(PageParseError, match="demo"):
        parse_json_page(body, PAGE, "demo")


def test_html_page_with_legacy_attributes():
    html = (
        '<html><head><meta name="pypi:project-status" content="quarantined"></head><body>'
        f'<a href="../../packages/demo-1.0.tar.gz#sha256={SHA}" data-requires-python="&gt;=3.9"'
        ' data-yanked="" data-dist-info-metadata="sha256=' + SHA + '">demo-1.0.tar.gz</a>'
        '<a href="/packages/demo-2.0-py3-none-any.whl" data-core-metadata="true">w</a>'
        "</body></html>"
    ).encode()
    project = parse_html_page(html, PAGE, "demo")
    first, second = project.files
    assert first.url == "https://files.example/packages/demo-1.0.tar.gz"
    assert first.requires_python == ">=3.9"
    assert first.yanked is True
    assert first.core_metadata == {"sha256": SHA}
    assert second.core_metadata is True
    assert project.versions == ("1.0", "2.0")
    assert project.status == "quarantined"


def test_a_filename_listed_twice_keeps_its_first_entry_in_both_formats():
    other = "b" * 64
    entries = [
        {"filename": "demo-1.0.tar.gz", "url": "first/demo-1.0.tar.gz", "hashes": {"sha256": SHA}},
        {"filename": "demo-2.0.tar.gz", "url": "demo-2.0.tar.gz"},
        {"filename": "demo-1.0.tar.gz", "url": "last/demo-1.0.tar.gz", "hashes": {"sha256": other}},
    ]
    from_json = parse_json_page(orjson.dumps({"files": entries}), PAGE, "demo")
    html = "".join(
        f'<a href="{e["url"]}#sha256={e.get("hashes", {}).get("sha256", "")}">x</a>'
        for e in entries
    )
    from_html = parse_html_page(html.encode(), PAGE, "demo")
    for project in (from_json, from_html):
        assert [f.filename for f in project.files] == ["demo-1.0.tar.gz", "demo-2.0.tar.gz"]
        first = project.file("demo-1.0.tar.gz")
        assert first is project.files[0]
        assert (first.url, first.sha256) == (PAGE + "first/demo-1.0.tar.gz", SHA)


def test_text_that_is_not_html_raises():
    with pytest.raises(PageParseError):
        parse_html_page(b"just some text", PAGE, "demo")


@pytest.mark.parametrize(
    ("filename", "version"),
    [
        ("demo-1.0.tar.gz", "1.0"),
        ("demo_pkg-2.0rc1-py3-none-any.whl", "2.0rc1"),
        ("demo-0.1-py2.7.egg", "0.1"),
        ("demo-1.0.tar.bz2", "1.0"),
        ("garbage.whl", None),
    ],
)
def test_version_of(filename, version):
    assert (str(v) if (v := version_of(filename)) else None) == version


@pytest.mark.parametrize(
    ("accept", "override", "expected"),
    [
        (None, None, TEXT_HTML),
        ("*/*", None, TEXT_HTML),
        (JSON_V1, None, JSON_V1),
        ("application/vnd.pypi.simple.latest+json", None, JSON_V1),
        (f"{JSON_V1};q=0.5, {HTML_V1}", None, HTML_V1),
        (f"{JSON_V1}, {HTML_V1}", None, JSON_V1),
        ("text/html;q=0, application/*", None, JSON_V1),
        ("text/html", "json", JSON_V1),
        ("text/html", "application/vnd.pypi.simple.v1 json", JSON_V1),
    ],
)
def test_negotiate(accept, override, expected):
    assert negotiate(accept, override) == expected


@pytest.mark.parametrize(
    ("accept", "override"), [("image/png", None), ("text/html;q=0", None), (None, "xml")]
)
def test_negotiate_invalid(accept, override):
    with pytest.raises(NotAcceptable):
        negotiate(accept, override)


def _project() -> Project:
    f = DistFile(
        "demo-1.0.tar.gz",
        "https://up/x",
        {"sha256": SHA},
        requires_python="<4&>1",
        yanked="why <b>",
        size=3,
        upload_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    return Project("demo", (f,), ("1.0",))


def test_render_json_points_at_the_proxy_and_keeps_fields():
    project = _project()
    data = orjson.loads(render_json(Page(project, shown_files(project, project.files))))
    (f,) = data["files"]
    assert f["url"] == f"../../files/demo/demo-1.0.tar.gz#sha256={SHA}"
    assert (f["yanked"], f["size"], f["requires-python"]) == ("why <b>", 3, "<4&>1")
    assert f["upload-time"] == "2024-01-01T00:00:00Z"  # PEP 700: the fraction is optional
    assert "core-metadata" not in f
    assert data["meta"]["api-version"] == "1.4"


def test_render_html_escapes_attributes_and_carries_status():
    project = _project()
    html = render_html(
        Page(project, shown_files(project, project.files), "quarantined", "held <x>")
    ).decode()
    assert 'data-requires-python="&lt;4&amp;&gt;1"' in html
    assert 'data-yanked="why &lt;b&gt;"' in html
    assert '<meta name="pypi:project-status-reason" content="held &lt;x&gt;">' in html
    assert "https://up/x" not in html


# -- upstream pages through the whole app --------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        # one entry with an unparseable URL must drop that entry, not the page
        (
            "application/vnd.pypi.simple.v1+json",
            json_page(
                [
                    {"filename": "demo-0.9.tar.gz", "url": "http://[broken/demo-0.9.tar.gz"},
                    json_entry("demo-1.0.tar.gz", b"x"),
                ]
            ),
        ),
        (
            "text/html",
            b'<a href="http://[broken/demo-0.9.tar.gz">d</a>'
            b'<a href="https://files.example/demo-1.0.tar.gz">d</a>',
        ),
        # an unparseable provenance URL drops its entry too
        (
            "text/html",
            b'<a href="https://files.example/demo-0.9.tar.gz" data-provenance="http://[x/p">d</a>'
            b'<a href="https://files.example/demo-1.0.tar.gz">d</a>',
        ),
    ],
)
def test_an_entry_with_an_invalid_url_is_skipped_not_a_500(tmp_path, content_type, body):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    no_age = {"policies": {"release_age": {"mode": "off"}}}  # HTML pages carry no upload times
    with app_on_mock_upstream(tmp_path, handler, **no_age) as client:
        response = client.get(
            "/simple/demo/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        )
    assert response.status_code == 200, response.text
    assert [f["filename"] for f in response.json()["files"]] == ["demo-1.0.tar.gz"]


def test_json_file_urls_lose_their_fragment_so_metadata_is_fetched_from_the_right_url(tmp_path):
    """A JSON page whose file URL carries ``#sha256=...`` made the PEP 658 URL
    ``<file>#sha256=...metadata``: the wheel itself was fetched as its metadata."""
    wheel, metadata = b"PK wheel bytes", b"Metadata-Version: 2.1\nName: demo\n"
    listed = json_entry("demo-1.0-py3-none-any.whl", wheel, **{"core-metadata": True})
    listed["url"] += "#sha256=" + listed["hashes"]["sha256"]
    fetched: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/simple/"):
            return httpx.Response(200, content=json_page([listed]), headers=JSON)
        fetched.append(request.url.path)
        if request.url.path.endswith(".metadata"):
            return httpx.Response(200, content=metadata)
        return httpx.Response(200, content=wheel)

    with app_on_mock_upstream(tmp_path, handler) as client:
        response = client.get("/files/demo/demo-1.0-py3-none-any.whl.metadata")
    assert response.status_code == 200, response.text
    assert response.content == metadata
    assert fetched == ["/demo-1.0-py3-none-any.whl.metadata"]


def _pypi_entry(i: int) -> dict[str, object]:
    """A file entry as PyPI writes one."""
    return {
        "filename": f"demo-1.{i}-py3-none-any.whl",
        "url": f"https://files.example/packages/ab/cd/demo-1.{i}-py3-none-any.whl",
        "hashes": {"sha256": f"{i:x}" * 64},
        "requires-python": ">=3.9",
        "yanked": False,
        "size": 1000 + i,
        "upload-time": f"2024-01-{i + 1:02d}T10:00:00.12345{i}Z",
        "core-metadata": {"sha256": "e" * 64},
        "data-dist-info-metadata": {"sha256": "e" * 64},
        "dist-info-metadata": {"sha256": "e" * 64},
        "provenance": None,
    }


VARIANTS = [
    {},
    {"url": "../../packages/demo-1.1-py3-none-any.whl"},
    {"url": "https://files.example/demo-1.1-py3-none-any.whl#sha256=00"},
    {"url": "https://files.example/demo?x=1"},
    {"url": "https://[::1/x"},
    {"hashes": {"sha256": "A" * 64}},
    {"hashes": {"md5": "0" * 32, "sha256": "a" * 64}},
    {"hashes": {}},
    {"hashes": {"sha256": "abc"}},
    {"hashes": {"sha256": "not-hex!"}},
    {"yanked": ""},
    {"yanked": "broken"},
    {"yanked": True},
    {"upload-time": "2024-01-01T10:00:00.000001+02:00"},
    {"upload-time": "2024-01-01T10:00:00"},
    {"upload-time": "2024-13-01T10:00:00.000000Z"},
    {"upload-time": None},
    {"core-metadata": {"sha256": "E" * 64}},
    {"core-metadata": {"md5": "0" * 32}},
    {"core-metadata": True},
    {"core-metadata": {"sha256": "zz"}},
    {"provenance": "../../provenance/demo"},
    {"provenance": "https://files.example/provenance/demo"},
    {"filename": "demo-1.0-py3-none-any.whl"},  # listed twice: the first entry wins
    {"filename": "../demo-1.1.tar.gz"},
    {"filename": "demo 1.1.tar.gz"},
    {"filename": "démo-1.1.tar.gz"},
    {"filename": "demo-1.1\x7f.tar.gz"},
    {"filename": ""},
    {"size": -1},
    {"size": "10"},
    {"size": 2**64 - 1},
    {"gpg-sig": "yes"},
    {"gpg-sig": True},
    {"requires-python": 3},
    {"url": None},
]


@pytest.mark.parametrize("variant", VARIANTS, ids=[str(v) for v in VARIANTS])
def test_the_one_pass_decoding_gives_what_the_lenient_parser_gives(variant):
    """A page decoded in one pass and checked as a whole (``_decoded``, ``_checked_files``)
    is exactly the page the entry-by-entry parser makes, whatever one entry holds."""
    from pipgate.proxy.index import parse

    entries = [_pypi_entry(i) for i in range(3)]
    entries[1].update(variant)
    body = orjson.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": entries})
    expected = parse._json_files(orjson.loads(body)["files"], PAGE)
    files = parse_json_page(body, PAGE, "demo").files
    assert files == expected
    # and field for field as written (equal times may differ in their zone)
    assert msgspec.json.encode(files) == msgspec.json.encode(expected)


def test_a_usual_page_is_decoded_in_one_pass():
    """PyPI's form takes the one-pass path (else the test above would compare the
    lenient parser with itself), and legacy-only metadata keys do not."""
    from pipgate.proxy.index import parse

    entries = [_pypi_entry(i) for i in range(3)]
    body = orjson.dumps({"name": "demo", "files": entries})
    page = parse._decoded(body)
    assert page is not None and parse._usual(page.files)
    for entry in entries:
        del entry["core-metadata"]
    legacy = orjson.dumps({"name": "demo", "files": entries})
    assert parse._decoded(legacy) is None
    assert parse_json_page(legacy, PAGE, "demo").files[0].core_metadata == {"sha256": "e" * 64}


@pytest.mark.parametrize(
    "variant",
    [{}, {"yanked": ""}, {"size": "10"}, {"url": "../../x/demo.whl"}, {"filename": "a\\b"}],
    ids=["usual", "empty yanked", "size as text", "relative url", "backslash"],
)
def test_a_large_page_decoded_in_pieces_gives_what_the_lenient_parser_gives(variant):
    """Above ``WHOLE_BELOW`` the ``files`` array is decoded a piece at a time; an odd
    entry deep inside a piece is mended or sent to the lenient parser, as on a small
    page."""
    from pipgate.proxy.index import json_pieces, parse

    entries = [_pypi_entry(i % 10) | {"filename": f"demo-{i}.tar.gz"} for i in range(1500)]
    entries[777].update(variant)
    body = orjson.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": entries})
    assert len(body) > json_pieces.WHOLE_BELOW + json_pieces.PIECE
    expected = parse._json_files(orjson.loads(body)["files"], PAGE)
    files = parse_json_page(body, PAGE, "demo").files
    assert msgspec.json.encode(files) == msgspec.json.encode(expected)
    # only a value of another type sends the page to the lenient parser; the others are
    # decoded in pieces and mended file by file
    assert (parse._decoded(body) is None) == (variant == {"size": "10"})


@pytest.mark.parametrize("size", [2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**70])
def test_a_huge_size_is_read_as_the_lenient_parser_reads_it(size):
    """Both parsers keep a size up to ``LARGEST_SIZE`` and drop a larger one (``orjson``
    reads one of 2**64 or more as a float, ``msgspec`` bounds in 64 signed bits), and a
    page cached with it reads back."""
    import json

    from pipgate.proxy.index import parse

    entries = [_pypi_entry(i) for i in range(3)]
    entries[1]["size"] = size
    body = json.dumps({"name": "demo", "files": entries}).encode()
    expected = parse._json_files(orjson.loads(body)["files"], PAGE)
    files = parse_json_page(body, PAGE, "demo").files
    assert msgspec.json.encode(files) == msgspec.json.encode(expected)
    assert files[1].size == (size if size <= LARGEST_SIZE else None)
    project = Project("demo", files)
    assert codec.decode(codec.encode(project, {}))[0] == project


ODD_VALUES = [
    None, True, False, 0, -1, 2**63, 2**64, 1.5, "", "x", "../x", "https://[::1/", "a/b", "\x00", "é",
    [], {}, {"sha256": "A" * 64}, {"md5": "0" * 32}, {"sha256": "zz"},
    "2024-01-01T00:00:00", "2024-01-01T00:00:00+05:00", "2024-13-01T00:00:00Z",
]  # fmt: skip
ENTRY_KEYS = [
    "filename", "url", "hashes", "requires-python", "yanked", "size", "upload-time",
    "core-metadata", "dist-info-metadata", "gpg-sig", "provenance", "extra",
]  # fmt: skip


def test_both_parsers_agree_on_pages_mended_at_random():
    """300 PyPI-like pages, each with up to three attributes replaced by odd values or
    removed (and now and then an entry that is no object): the page read in one pass is
    the page the lenient parser reads, or both refuse it; its cached form reads back."""
    import json
    import random

    from pipgate.proxy.index import parse

    rng = random.Random(20261130)
    for _ in range(300):
        count = rng.choice([3, 40])
        entries: list[object] = [
            _pypi_entry(i % 10) | {"filename": f"demo-{i}.tar.gz"} for i in range(count)
        ]
        for _ in range(rng.randint(1, 3)):
            entry = entries[rng.randrange(count)]
            if isinstance(entry, dict):
                key = rng.choice(ENTRY_KEYS)
                if rng.random() < 0.2:
                    entry.pop(key, None)
                else:
                    entry[key] = rng.choice(ODD_VALUES)
        if rng.random() < 0.05:
            entries[rng.randrange(count)] = rng.choice(ODD_VALUES)
        body = json.dumps({"name": "demo", "files": entries}).encode()
        try:
            files = parse_json_page(body, PAGE, "demo").files
        except PageParseError:
            files = None
        try:
            expected = parse._json_files(orjson.loads(body)["files"], PAGE)
        except orjson.JSONDecodeError:
            expected = None
        assert (files is None) == (expected is None)
        if files is not None:
            assert msgspec.json.encode(files) == msgspec.json.encode(expected), body[:300]
            project = Project("demo", files)  # and the cached form reads it back
            assert codec.decode(codec.encode(project, {}))[0] == project
