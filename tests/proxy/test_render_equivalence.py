"""The per-file rendering (``Fragments``) makes exactly the bytes the plain renderer of
pipgate 0.x made: the reference below is that renderer, kept verbatim as the slow path."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from pipgate.proxy.index.parse import parse_html_page, parse_json_page
from pipgate.proxy.index.render import (
    API_VERSION,
    Fragments,
    Page,
    _element,
    _json_entry,
    _json_entry_dumped,
    _meta,
    _metadata_value,
    _status,
    file_url,
    render_html,
    render_json,
    shown_files,
    upload_time_text,
)
from pipgate.proxy.models import DistFile, Project

SHA = "ab" * 32


def reference_json(page: Page) -> bytes:
    entries = []
    for shown in page.files:
        f = shown.file
        entry: dict[str, object] = {
            "filename": f.filename,
            "url": shown.url + (f"#sha256={f.sha256}" if f.sha256 else ""),
            "hashes": dict(f.hashes),
        }
        if f.requires_python is not None:
            entry["requires-python"] = f.requires_python
        if f.yanked:
            entry["yanked"] = f.yanked
        if f.size is not None:
            entry["size"] = f.size
        if f.upload_time is not None:
            entry["upload-time"] = f.upload_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if shown.metadata_available:
            metadata: object = shown.metadata_hashes or True
            entry["core-metadata"] = metadata
            entry["dist-info-metadata"] = metadata
        if f.gpg_sig is not None:
            entry["gpg-sig"] = f.gpg_sig
        if shown.provenance_url:
            entry["provenance"] = shown.provenance_url
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
        f = shown.file
        attrs = [("href", shown.url + (f"#sha256={f.sha256}" if f.sha256 else ""))]
        if f.requires_python is not None:
            attrs.append(("data-requires-python", f.requires_python))
        if f.yanked:
            attrs.append(("data-yanked", f.yanked if isinstance(f.yanked, str) else ""))
        if shown.metadata_available:
            value = _metadata_value(shown.metadata_hashes)
            attrs += [("data-core-metadata", value), ("data-dist-info-metadata", value)]
        if f.gpg_sig is not None:
            attrs.append(("data-gpg-sig", "true" if f.gpg_sig else "false"))
        if shown.provenance_url:
            attrs.append(("data-provenance", shown.provenance_url))
        lines.append(_element("a", attrs, f.filename) + "<br>")
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode()


def _files() -> list[DistFile]:
    when = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    odd = [
        datetime(2024, 1, 1, tzinfo=UTC),  # microseconds 0: still .000000
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
def test_fragment_rendering_matches_the_reference(project, status):
    extracted = {project.files[0].filename: {"sha256": "cd" * 32}} if project.files else {}
    shown = shown_files(project, project.files, metadata_hashes=extracted)
    page = Page(project, shown, *(status or (None, None)))
    fragments = Fragments()
    for _ in range(2):  # fresh pieces, then the kept ones
        assert render_json(page, fragments) == reference_json(page)
        assert render_html(page, fragments) == reference_html(page)
        assert orjson.loads(render_json(page, fragments))  # and it is JSON


def test_kept_pieces_follow_what_the_proxy_can_serve():
    project = PROJECTS[0]
    fragments = Fragments()
    plain = Page(project, shown_files(project, project.files))
    render_json(plain, fragments)
    wheel = project.files[0].filename  # no core-metadata upstream
    later = Page(project, shown_files(project, project.files, metadata_hashes={wheel: None}))
    assert render_json(later, fragments) == reference_json(later) != reference_json(plain)
    assert render_html(later, fragments) == reference_html(later) != reference_html(plain)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 1, 1, 10, tzinfo=timezone(timedelta(hours=14))),
        datetime(2024, 1, 1, 10, tzinfo=timezone(timedelta(hours=-1, seconds=-1))),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 1),
    ],
)
def test_upload_time_text_is_strftime(moment):
    assert upload_time_text(moment) == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize(
    "filename", ["demo-1.0.tar.gz", "a b.whl", "ü.zip", "x~y_z.whl", "a%b", "a+b", "a#b?c"]
)
def test_file_url_quotes_like_quote(filename):
    from urllib.parse import quote

    assert file_url("demo", filename) == f"../../files/demo/{quote(filename)}"


TIMES = [
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.123456Z",  # kept as upstream wrote it
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
    from dataclasses import replace

    project = PROJECTS[0]
    fragments = Fragments()
    plain = Page(project, shown_files(project, project.files))
    render_json(plain, fragments)
    render_html(plain, fragments)
    held = [
        replace(f, yanked="pipgate: quarantined by policy 'release-age'") for f in project.files
    ]
    listed = Page(project, shown_files(project, held))
    assert render_json(listed, fragments) == reference_json(listed)
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
        {"size": 2**63},
        {"size": 2**63 - 1},
        {"gpg_sig": True},
        {"gpg_sig": False},
        {"hashes": {}},
        {"hashes": {"md5": "cd" * 16, "sha256": SHA}},
        {"upload_time": datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))},
        {"provenance": "https://up.example/p"},
    ],
)
@pytest.mark.parametrize("metadata", [None, {}, {"sha256": SHA}, {"sha256": 'x"y'}])
def test_a_written_entry_is_what_orjson_writes(changes, metadata):
    """The direct writing of a file's entry (``_json_entry``) gives the bytes of the
    dumped one for plain texts, and falls back to it for anything else."""
    base = DistFile(
        "demo-1.0.tar.gz",
        "https://up.example/demo-1.0.tar.gz",
        {"sha256": SHA},
        ">=3.8",
        size=1234,
        upload_time=datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    )
    f = replace(base, **changes)
    (shown,) = shown_files(Project("demo", (f,)), [f])
    if metadata is not None:
        shown = shown._replace(metadata_available=True, metadata_hashes=metadata)
    try:
        expected = _json_entry_dumped(shown)
    except orjson.JSONEncodeError:
        expected = None
    if expected is None:
        with pytest.raises(orjson.JSONEncodeError):
            _json_entry(shown)
    else:
        assert _json_entry(shown) == expected
        assert orjson.loads(expected)["filename"] == f.filename
