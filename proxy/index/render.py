"""Render a project page as PEP 691 JSON or PEP 503 HTML, and negotiate which.

One model, two renderings: both take the same ``Page`` (a project with the
files that may be shown, and the URLs the proxy serves them under). File URLs
are relative to the page, so they always point at the proxy, never upstream.
Every value written into HTML, text or attribute, passes through ``escape_html``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from urllib.parse import quote

import orjson

from pipgate.proxy.headers import weighted
from pipgate.proxy.models import DistFile, Project

API_VERSION = "1.4"
JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"
_ALIASES = {
    JSON_V1: JSON_V1,
    "application/vnd.pypi.simple.latest+json": JSON_V1,
    HTML_V1: HTML_V1,
    "application/vnd.pypi.simple.latest+html": HTML_V1,
    TEXT_HTML: TEXT_HTML,
    "json": JSON_V1,
    "html": HTML_V1,
}
SUPPORTED = (JSON_V1, HTML_V1, TEXT_HTML)


class NotAcceptable(ValueError):
    """The client accepts none of the page formats the proxy serves."""


def negotiate(accept: str | None, format_override: str | None = None) -> str:
    """Choose the media type for a page from ``?format=`` or ``Accept`` (q-values honoured).

    No ``Accept`` at all, or ``*/*``, gets ``text/html`` as PEP 691 recommends.
    Among equal q-values the server prefers JSON, then the versioned HTML.
    """
    if format_override:
        try:
            # a literal "+" in a query string arrives as a space
            return _ALIASES[format_override.strip().lower().replace(" ", "+")]
        except KeyError:
            raise NotAcceptable(f"unknown format {format_override!r}") from None
    if not accept:
        return TEXT_HTML
    best: tuple[float, int, str] | None = None
    for media, quality in weighted(accept):
        if quality <= 0:
            continue
        candidates = [_ALIASES[media]] if media in _ALIASES else []
        if media in ("*/*", "application/*"):
            candidates = [TEXT_HTML] if media == "*/*" else [JSON_V1]
        elif media == "text/*":
            candidates = [TEXT_HTML]
        for candidate in candidates:
            rank = (quality, -SUPPORTED.index(candidate), candidate)
            if best is None or rank > best:
                best = rank
    if best is None:
        raise NotAcceptable(f"none of {accept!r} is a supported page format")
    return best[2]


class ShownFile(NamedTuple):
    """A file as the client sees it: the upstream entry plus what the proxy can serve
    (a tuple: a large page makes 10,000 of them)."""

    file: DistFile
    url: str
    metadata_available: bool
    metadata_hashes: dict[str, str] | None
    provenance_url: str | None


@dataclass(frozen=True)
class Page:
    """What one rendering shows. ``status`` overrides the project's PEP 792 status."""

    project: Project
    files: Sequence[ShownFile]
    status: str | None = None
    status_reason: str | None = None


def file_url(project: str, filename: str) -> str:
    """A file's URL relative to its project page (``/<index>/simple/<project>/``)."""
    if _UNQUOTED.fullmatch(filename):  # what ``quote`` leaves as it is: most filenames
        return f"../../files/{project}/{filename}"
    return f"../../files/{project}/{quote(filename)}"


#: Characters ``quote`` never escapes (its ``safe="/"``; a filename holds no ``/``).
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]+")


def shown_files(
    project: Project,
    files: Iterable[DistFile],
    *,
    metadata_hashes: dict[str, dict[str, str] | None] | None = None,
) -> list[ShownFile]:
    """Attach proxy URLs to ``files``. ``metadata_hashes`` maps filenames whose
    ``.metadata`` the proxy extracted itself to the hashes of that metadata."""
    extracted = metadata_hashes or {}
    shown = []
    # A loop over every file of a page (10,000 are common): ``file_url`` inlined, and
    # each ``ShownFile`` made as the tuple it is.
    prefix = f"../../files/{project.name}/"
    unquoted, make = _UNQUOTED.fullmatch, tuple.__new__
    for f in files:
        filename = f.filename
        url = prefix + (filename if unquoted(filename) else quote(filename))
        metadata = f.core_metadata
        if metadata:
            available, hashes = True, metadata if isinstance(metadata, dict) else None
        elif filename in extracted:
            available, hashes = True, extracted[filename]
        else:
            available, hashes = False, None
        provenance = url + ".provenance" if f.provenance else None
        shown.append(
            make(ShownFile, (f, url, available, dict(hashes) if hashes else None, provenance))
        )
    return shown


def _status(page: Page) -> tuple[str | None, str | None]:
    if page.status:
        return page.status, page.status_reason
    return page.project.status, page.project.status_reason


def render_json(page: Page, fragments: Fragments | None = None) -> bytes:
    """PEP 691 JSON, byte for byte ``orjson.dumps`` of the page's document, assembled
    from per-file pieces (``fragments``: kept by the caller to reuse them)."""
    fragments = fragments if fragments is not None else Fragments()
    head = {"meta": {"api-version": API_VERSION}, "name": page.project.name}
    rest: dict[str, object] = {"versions": list(page.project.versions)}
    status, reason = _status(page)
    if status:
        rest["project-status"] = {"status": status, **({"reason": reason} if reason else {})}
    if page.project.tracks:
        rest["tracks"] = list(page.project.tracks)
    if page.project.alternate_locations:
        rest["alternate-locations"] = list(page.project.alternate_locations)
    entry = fragments.json
    return b"".join(
        (
            orjson.dumps(head)[:-1],
            b',"files":[',
            b",".join([entry(shown) for shown in page.files]),
            b"],",
            orjson.dumps(rest)[1:],
        )
    )


def _json_entry(shown: ShownFile) -> bytes:
    """One file's object: ``orjson.dumps`` of the entry ``_json_entry_dumped`` makes,
    byte for byte, written directly for the usual shape (one sha256, texts that need
    no escaping): quicker, and only strings are made, so the garbage collector has
    nothing to track (a list or tuple per file would cost more than it saves)."""
    f = shown.file
    hashes = f.hashes
    sha256 = hashes.get("sha256")
    if sha256 is None or len(hashes) != 1:
        return _json_entry_dumped(shown)
    url = shown.url + "#sha256=" + sha256
    text = '{"filename":"' + f.filename + '","url":"' + url
    text += '","hashes":{"sha256":"' + sha256 + '"}'
    checked = f.filename + url  # every text written, to be checked at the end
    requires_python = f.requires_python
    if requires_python is not None:
        text += ',"requires-python":"' + requires_python + '"'
        checked += requires_python
    yanked = f.yanked
    if yanked:
        if yanked is True:
            text += ',"yanked":true'
        elif yanked.__class__ is str:
            text += ',"yanked":"' + yanked + '"'
            checked += yanked
        else:
            return _json_entry_dumped(shown)
    size = f.size
    if size is not None:
        if size.__class__ is not int or not 0 <= size < 1 << 63:
            return _json_entry_dumped(shown)
        text += ',"size":' + str(size)
    if f.upload_time is not None:
        uploaded = f.upload_time_text or upload_time_text(f.upload_time)
        text += ',"upload-time":"' + uploaded + '"'
        checked += uploaded
    if shown.metadata_available:
        metadata = shown.metadata_hashes
        if not metadata:
            text += ',"core-metadata":true,"dist-info-metadata":true'
        elif len(metadata) == 1 and "sha256" in metadata:
            value = '{"sha256":"' + metadata["sha256"] + '"}'
            text += ',"core-metadata":' + value + ',"dist-info-metadata":' + value
            checked += metadata["sha256"]
        else:
            return _json_entry_dumped(shown)
    gpg_sig = f.gpg_sig
    if gpg_sig is not None:
        if gpg_sig is True:
            text += ',"gpg-sig":true'
        elif gpg_sig is False:
            text += ',"gpg-sig":false'
        else:
            return _json_entry_dumped(shown)
    if shown.provenance_url:
        text += ',"provenance":"' + shown.provenance_url + '"'
        checked += shown.provenance_url
    if checked.isascii() and checked.isprintable() and '"' not in checked and "\\" not in checked:
        return (text + "}").encode()
    return _json_entry_dumped(shown)


def _json_entry_dumped(shown: ShownFile) -> bytes:
    """``_json_entry`` by ``orjson.dumps``: for any entry, whatever its texts hold."""
    f = shown.file
    sha256 = f.hashes.get("sha256")
    entry: dict[str, object] = {
        "filename": f.filename,
        "url": shown.url + ("#sha256=" + sha256 if sha256 else ""),
        "hashes": dict(f.hashes),
    }
    if f.requires_python is not None:
        entry["requires-python"] = f.requires_python
    if f.yanked:
        entry["yanked"] = f.yanked
    if f.size is not None:
        entry["size"] = f.size
    if f.upload_time is not None:
        entry["upload-time"] = f.upload_time_text or upload_time_text(f.upload_time)
    if shown.metadata_available:
        metadata: object = shown.metadata_hashes or True
        entry["core-metadata"] = metadata
        entry["dist-info-metadata"] = metadata
    if f.gpg_sig is not None:
        entry["gpg-sig"] = f.gpg_sig
    if shown.provenance_url:
        entry["provenance"] = shown.provenance_url
    return orjson.dumps(entry)


def upload_time_text(moment: datetime) -> str:
    """``moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")`` (its own wall-clock time, whatever
    its offset), by the quicker ``isoformat`` where the two agree."""
    text = moment.isoformat(timespec="microseconds")
    if len(text) == 32 and text[-6] in "+-" and moment.year >= 1000:
        return text[:-6] + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Fragments:
    """Each file's piece of a project's renderings, made once and then reused.

    A page is rendered again when something other than its files changes (a wheel's
    metadata extracted, another index, a held release come of age): then only the
    pieces are joined. A piece depends on the ``ShownFile`` alone, so it is keyed by
    the file and what the proxy can serve of it; keep one ``Fragments`` per project
    page (its files are fixed), never across pages.
    """

    def __init__(self) -> None:
        self._json: dict[tuple[str, object, bool, object], bytes] = {}
        self._html: dict[tuple[str, object, bool, object], str] = {}

    @staticmethod
    def _key(shown: ShownFile) -> tuple[str, object, bool, object]:
        hashes = shown.metadata_hashes
        return (
            shown.file.filename,
            shown.file.yanked,  # a held release is listed as yanked with the hold's reason
            shown.metadata_available,
            tuple(hashes.items()) if hashes else None,
        )

    def json(self, shown: ShownFile) -> bytes:
        key = self._key(shown)
        piece = self._json.get(key)
        if piece is None:
            piece = self._json[key] = _json_entry(shown)
        return piece

    def html(self, shown: ShownFile) -> str:
        key = self._key(shown)
        piece = self._html.get(key)
        if piece is None:
            piece = self._html[key] = _html_entry(shown)
        return piece


def escape_html(value: str) -> str:
    """The one escaping of the HTML renderings: every text and attribute value goes
    through it (``& < > " '``), so nothing from upstream is ever markup."""
    return html.escape(value, quote=True)


def _element(tag: str, attrs: Iterable[tuple[str, str]] = (), text: str | None = None) -> str:
    """``<tag name="value" ...>text</tag>`` (no closing tag when ``text`` is ``None``);
    ``tag`` and attribute names are the renderer's own, values and text are escaped."""
    opening = "".join(f' {name}="{escape_html(value)}"' for name, value in attrs)
    if text is None:
        return f"<{tag}{opening}>"
    return f"<{tag}{opening}>{escape_html(text)}</{tag}>"


def _meta(name: str, content: str) -> str:
    return _element("meta", (("name", name), ("content", content)))


def _metadata_value(hashes: Mapping[str, str] | None) -> str:
    """PEP 714 ``data-core-metadata``: ``true`` or one ``<hash name>=<digest>`` (sha256 first)."""
    if not hashes:
        return "true"
    algo = "sha256" if "sha256" in hashes else next(iter(hashes))
    return f"{algo}={hashes[algo]}"


def render_html(page: Page, fragments: Fragments | None = None) -> bytes:
    fragments = fragments if fragments is not None else Fragments()
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
    entry = fragments.html
    lines += [entry(shown) for shown in page.files]
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode()


def _html_entry(shown: ShownFile) -> str:
    f = shown.file
    sha256 = f.hashes.get("sha256")
    attrs = [("href", shown.url + ("#sha256=" + sha256 if sha256 else ""))]
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
    return _element("a", attrs, f.filename) + "<br>"


def render(page: Page, media_type: str, fragments: Fragments | None = None) -> bytes:
    if media_type == JSON_V1:
        return render_json(page, fragments)
    return render_html(page, fragments)


def render_index(names: Iterable[str], media_type: str) -> bytes:
    """The root ``/simple/`` page listing ``names`` (already normalized and sorted)."""
    names = list(names)
    if media_type == JSON_V1:
        return orjson.dumps(
            {"meta": {"api-version": API_VERSION}, "projects": [{"name": n} for n in names]}
        )
    links = "\n".join(_element("a", [("href", f"{quote(n)}/")], n) + "<br>" for n in names)
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f"{_meta('pypi:repository-version', API_VERSION)}\n"
        "<title>Simple index</title>\n</head>\n<body>\n"
        f"{links}\n</body>\n</html>\n"
    ).encode()
