"""The renderings make exactly the bytes of a plain reference renderer (below): the JSON
document ``orjson`` writes of the files as shown, and the HTML of pipgate 0.x, whose
per-file pieces (``Fragments``) are kept and reused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import msgspec
import orjson
import pytest

from pipgate.proxy.index.parse import parse_html_page, parse_json_page
from pipgate.proxy.index.render import (
    API_VERSION,
    ENCODED_AT_ONCE,
    Fragments,
    Page,
    ShownFiles,
    _element,
    _meta,
    _metadata_value,
    _status,
    file_url,
    render_html,
    render_json,
    shown_files,
)
from pipgate.proxy.models import DistFile, Project

SHA = "ab" * 32


def pep700_time(moment: datetime) -> str:
    """PEP 700's ``yyyy-mm-ddThh:mm:ss[.ffffff]Z``, in UTC (a time without a zone is UTC)."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(tzinfo=None).isoformat() + "Z"


def reference_json(page: Page) -> bytes:
    entries = []
    for shown in page.files:
        entry: dict[str, object] = {
            "filename": shown.filename,
            "url": shown.url,
            "hashes": dict(shown.hashes),
        }
        if shown.requires_python is not None:
            entry["requires-python"] = shown.requires_python
        if shown.yanked:
            entry["yanked"] = shown.yanked
        if shown.size is not None:
            entry["size"] = shown.size
        if shown.upload_time is not None:
            entry["upload-time"] = pep700_time(shown.upload_time)
        if shown.core_metadata:
            entry["core-metadata"] = shown.core_metadata
            entry["dist-info-metadata"] = shown.core_metadata
        if shown.gpg_sig is not None:
            entry["gpg-sig"] = shown.gpg_sig
        if shown.provenance:
            entry["provenance"] = shown.provenance
        entries.append(entry)
    body: dict[str, object] = {
        "meta": {"api-version": API_VERSION},
        "name": page.project.name,
        "files": entries,
        "versions": list(page.project.versions),
    }
    status, reason = _status(page)
    if status:
        body["project-status"] = {"status": status, **({"reason": reason} if reason else {})}
    if page.project.tracks:
        body["tracks"] = list(page.project.tracks)
    if page.project.alternate_locations:
        body["alternate-locations"] = list(page.project.alternate_locations)
    return orjson.dumps(body)


def reference_html(page: Page) -> bytes:
    name = page.project.name
    status, reason = _status(page)
    lines = ["<!DOCTYPE html>", "<html>", "<head>", _meta("pypi:repository-version", API_VERSION)]
    if status:
        lines.append(_meta("pypi:project-status", status))
        if reason:
            lines.append(_meta("pypi:project-status-reason", reason))
    lines += [_meta("pypi:tracks", t) for t in page.project.tracks]
    lines += [_meta("pypi:alternate-locations", loc) for loc in page.project.alternate_locations]
    lines += [_element("title", (), f"Links for {name}"), "</head>", "<body>"]
    lines.append(_element("h1", (), f"Links for {name}"))
    if status and status != "active" and reason:
        lines.append(_element("p", (), f"{status}: {reason}"))
    for shown in page.files:
        attrs = [("href", shown.url)]
        if shown.requires_python is not None:
            attrs.append(("data-requires-python", shown.requires_python))
        if shown.yanked:
            attrs.append(("data-yanked", shown.yanked if isinstance(shown.yanked, str) else ""))
        if shown.core_metadata:
            metadata = shown.core_metadata
            value = _metadata_value(metadata if isinstance(metadata, dict) else None)
            attrs += [("data-core-metadata", value), ("data-dist-info-metadata", value)]
        if shown.gpg_sig is not None:
            attrs.append(("data-gpg-sig", "true" if shown.gpg_sig else "false"))
        if shown.provenance:
            attrs.append(("data-provenance", shown.provenance))
        lines.append(_element("a", attrs, shown.filename) + "<br>")
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode()


def _files() -> list[DistFile]:
    when = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    odd = [
        datetime(2024, 1, 1, tzinfo=UTC),  # microseconds 0: no fraction (PEP 700)
        datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))),
        datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(seconds=30))),
        datetime(999, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 1),  # naive
    ]
    files = []
    for i, moment in enumerate([when, *odd, None]):
        files.append(
            DistFile(
                f"demo-1.{i}-py3-none-any.whl",
                f"https://up/demo-1.{i}.whl",
                {"sha256": SHA, "md5": "0" * 32} if i % 2 else {},
                requires_python=[None, ">=3.9", '<4"&>1'][i % 3],
                yanked=[False, True, "why <b>", ""][i % 4],
                size=[None, 0, 12345][i % 3],
                upload_time=moment,
                core_metadata=[False, True, {"sha256": SHA}][i % 3],
                gpg_sig=[None, True, False][i % 3],
                provenance=None if i % 2 else "https://up/prov",
            )
        )
    files += [
        DistFile("demo 2.0 <x>.tar.gz", "https://up/a", {}),
        DistFile("démo-2.0.tar.gz", "https://up/b", {"sha256": SHA}),
        DistFile("demo-2.0+local~1.tar.gz", "https://up/c", {}),
        DistFile("demo%2F-3.0.zip", "https://up/d", {}),
    ]
    return files


PROJECTS = [
    Project("demo", tuple(_files()), ("1.0", "2.0")),
    Project("demo", (), ()),
    Project(
        "demo",
        tuple(_files()[:3]),
        ("1.0",),
        status="archived",
        status_reason="moved <here>",
        tracks=("https://x/<t>",),
        alternate_locations=("https://a", "https://b"),
    ),
]


@pytest.mark.parametrize("project", PROJECTS)
@pytest.mark.parametrize("status", [None, ("quarantined", "held by <x>"), ("quarantined", None)])
def test_rendering_matches_the_reference(project, status):
    extracted = {project.files[0].filename: {"sha256": "cd" * 32}} if project.files else {}
    shown = shown_files(project, project.files, metadata_hashes=extracted)
    page = Page(project, shown, *(status or (None, None)))
    fragments = Fragments()
    for _ in range(2):  # fresh pieces, then the kept ones
        assert render_json(page) == reference_json(page)
        assert render_html(page, fragments) == reference_html(page)
        assert orjson.loads(render_json(page))  # and it is JSON


def test_shown_files_are_what_the_client_is_told():
    """Each listed file as PEP 691 shows it: the proxy's URL with the sha256 fragment,
    metadata the proxy extracted when upstream offered none, the proxy's provenance
    URL, the upload time in UTC; upstream's URLs never."""
    wheel = DistFile(
        "demo-1.0-py3-none-any.whl",
        "https://up/demo.whl",
        {"sha256": SHA},
        ">=3.9",
        "old",
        12,
        datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))),
        provenance="https://up/demo.whl.provenance",
    )
    sdist = DistFile("demo 1.0.tar.gz", "https://up/demo.tar.gz", {}, core_metadata=True)
    project = Project("demo", (wheel, sdist))
    extracted = {wheel.filename: {"sha256": "cd" * 32}}
    shown_wheel, shown_sdist = shown_files(project, project.files, metadata_hashes=extracted)
    assert shown_wheel.url == f"../../files/demo/{wheel.filename}#sha256={SHA}"
    assert shown_wheel.core_metadata == shown_wheel.dist_info_metadata == {"sha256": "cd" * 32}
    assert shown_wheel.provenance == f"../../files/demo/{wheel.filename}.provenance"
    assert shown_wheel.upload_time == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert shown_wheel.upload_time.tzinfo is UTC
    assert (shown_wheel.yanked, shown_wheel.size, shown_wheel.requires_python) == (
        "old",
        12,
        ">=3.9",
    )
    assert shown_sdist.url == "../../files/demo/demo%201.0.tar.gz"
    assert shown_sdist.core_metadata is True and shown_sdist.provenance is None
    assert shown_files(project, [wheel])[0].core_metadata is False  # nothing extracted
    assert "https://up" not in render_json(Page(project, [shown_wheel, shown_sdist])).decode()


def test_kept_pieces_follow_what_the_proxy_can_serve():
    project = PROJECTS[0]
    fragments = Fragments()
    plain = Page(project, shown_files(project, project.files))
    render_html(plain, fragments)
    wheel = project.files[0].filename  # no core-metadata upstream
    later = Page(project, shown_files(project, project.files, metadata_hashes={wheel: None}))
    assert render_json(later) == reference_json(later) != reference_json(plain)
    assert render_html(later, fragments) == reference_html(later) != reference_html(plain)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2024, 1, 1, tzinfo=UTC), "2024-01-01T00:00:00Z"),
        (datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "2024-12-31T23:59:59.999999Z"),
        (datetime(2024, 1, 1, 10, tzinfo=timezone(timedelta(hours=14))), "2023-12-31T20:00:00Z"),
        (
            datetime(2024, 1, 1, 10, 0, 0, 5, tzinfo=timezone(timedelta(hours=-1))),
            "2024-01-01T11:00:00.000005Z",
        ),
        (datetime(999, 1, 1, tzinfo=UTC), "0999-01-01T00:00:00Z"),
        (datetime(2024, 1, 1), "2024-01-01T00:00:00Z"),
    ],
)
def test_upload_times_are_written_as_pep_700_says(moment, text):
    """``yyyy-mm-ddThh:mm:ss.ffffffZ`` in UTC, the fraction left out when it is zero
    (PEP 700 makes it optional)."""
    f = DistFile("demo-1.0.tar.gz", "https://up/x", {}, upload_time=moment)
    page = Page(Project("demo", (f,)), shown_files(Project("demo", (f,)), [f]))
    assert orjson.loads(render_json(page))["files"][0]["upload-time"] == text


@pytest.mark.parametrize(
    "filename", ["demo-1.0.tar.gz", "a b.whl", "ü.zip", "x~y_z.whl", "a%b", "a+b", "a#b?c"]
)
def test_file_url_quotes_like_quote(filename):
    from urllib.parse import quote

    assert file_url("demo", filename) == f"../../files/demo/{quote(filename)}"
    f = DistFile(filename, "https://up/x", {})
    (shown,) = shown_files(Project("demo", (f,)), [f])
    assert shown.url == f"../../files/demo/{quote(filename)}"


TIMES = [
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.123456Z",
    "2024-01-01T00:00:00.123456+00:00",
    "2024-01-01T02:00:00.000001+02:00",
    "2024-13-01T00:00:00.000000Z",  # not a date: dropped
]


def test_a_parsed_page_renders_as_the_reference():
    body = orjson.dumps(
        {
            "name": "demo",
            "files": [
                {
                    "filename": f.filename,
                    "url": f.url,
                    "hashes": dict(f.hashes),
                    "upload-time": TIMES[i % len(TIMES)],
                    "yanked": f.yanked,
                }
                for i, f in enumerate(_files())
            ],
        }
    )
    for project in (
        parse_json_page(body, "https://up/simple/demo/", "demo"),
        parse_html_page(
            reference_html(Page(PROJECTS[0], shown_files(PROJECTS[0], PROJECTS[0].files))),
            "https://up/simple/demo/",
            "demo",
        ),
    ):
        page = Page(project, shown_files(project, project.files))
        assert render_json(page) == reference_json(page)
        assert render_html(page) == reference_html(page)


def test_a_file_listed_as_yanked_gets_a_piece_of_its_own():
    """A release held by release age is listed yanked with the hold as its reason: the
    same filename, another piece."""
    project = PROJECTS[0]
    fragments = Fragments()
    plain = Page(project, shown_files(project, project.files))
    render_html(plain, fragments)
    held = [
        msgspec.structs.replace(f, yanked="pipgate: quarantined by policy 'release-age'")
        for f in project.files
    ]
    listed = Page(project, shown_files(project, held))
    assert render_json(listed) == reference_json(listed)
    assert render_html(listed, fragments) == reference_html(listed)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"filename": 'demo-1.0"x.tar.gz'},
        {"filename": "demo-1.0\\x.tar.gz"},
        {"filename": "démo-1.0.tar.gz"},
        {"filename": "demo-1.0\x7f.tar.gz"},
        {"requires_python": ">=3.8\n"},
        {"requires_python": None, "size": None, "upload_time": None},
        {"yanked": True},
        {"yanked": 'bad "release"'},
        {"yanked": "schlecht für dich"},
        {"size": 2**63 - 1},
        {"gpg_sig": True},
        {"gpg_sig": False},
        {"hashes": {}},
        {"hashes": {"md5": "cd" * 16, "sha256": SHA}},
        {"upload_time": datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))},
        {"provenance": "https://up.example/p"},
        {"core_metadata": True},
        {"core_metadata": {"sha256": 'x"y'}},
    ],
)
def test_an_entry_is_written_as_orjson_writes_it(changes):
    """Texts that need escaping, numbers, flags and hashes: the files' encoding gives
    the bytes ``orjson`` gives for the same document."""
    base = DistFile(
        "demo-1.0.tar.gz",
        "https://up.example/demo-1.0.tar.gz",
        {"sha256": SHA},
        ">=3.8",
        size=1234,
        upload_time=datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    )
    f = msgspec.structs.replace(base, **changes)
    project = Project("demo", (f,))
    page = Page(project, shown_files(project, [f]))
    assert render_json(page) == reference_json(page)
    assert orjson.loads(render_json(page))["files"][0]["filename"] == f.filename


@pytest.mark.parametrize("count", [0, 1, ENCODED_AT_ONCE, ENCODED_AT_ONCE + 1, 2500])
def test_files_written_in_lots_make_one_document(count):
    """Files are encoded ``ENCODED_AT_ONCE`` at a time into one array."""
    files = tuple(
        DistFile(f"demo-{i}.tar.gz", f"https://up/{i}", {"sha256": SHA}, size=i)
        for i in range(count)
    )
    project = Project("demo", files, ("1.0",))
    page = Page(project, shown_files(project, files))
    assert render_json(page) == reference_json(page)
    assert [f["size"] for f in orjson.loads(render_json(page))["files"]] == list(range(count))


def test_files_made_a_slice_at_a_time_render_as_the_list():
    """``ShownFiles`` makes each ``ShownFile`` when a slice is asked for: the same
    renderings, items and length as the list ``shown_files`` makes."""
    files = tuple(
        DistFile(f"demo-{i}-py3-none-any.whl", f"https://up/{i}", {"sha256": SHA}, size=i)
        for i in range(2 * ENCODED_AT_ONCE + 3)
    )
    project = Project("demo", files, ("1.0",))
    extracted = {files[5].filename: {"sha256": "cd" * 32}}
    listed = shown_files(project, files, metadata_hashes=extracted)
    lazy = ShownFiles(project, files, metadata_hashes=extracted)
    assert len(lazy) == len(listed) and list(lazy) == listed
    assert lazy[5] == listed[5] and lazy[-1] == listed[-1] and lazy[10:20] == listed[10:20]
    assert render_json(Page(project, lazy)) == render_json(Page(project, listed))
    assert render_html(Page(project, lazy)) == render_html(Page(project, listed))
