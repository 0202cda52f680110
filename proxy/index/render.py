"""Render a project page as PEP 691 JSON or PEP 503 HTML, and negotiate which.

One model, two renderings: both take the same ``Page`` (a project with the
files that may be shown, and the URLs the proxy serves them under). File URLs
are relative to the page, so they always point at the proxy, never upstream.
Every value written into HTML, text or attribute, passes through ``escape_html``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import overload
from urllib.parse import quote

import msgspec
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


class ShownFile(
    msgspec.Struct,
    frozen=True,
    gc=False,
    omit_defaults=True,
    rename={
        "requires_python": "requires-python",
        "upload_time": "upload-time",
        "core_metadata": "core-metadata",
        "dist_info_metadata": "dist-info-metadata",
        "gpg_sig": "gpg-sig",
    },
):
    """A file as the client sees it: PEP 691's file object, field for field (encoded
    as it is: unset optional fields are left out), with the URLs the proxy serves it
    under. ``url`` is relative to the page and carries the ``#sha256=`` fragment;
    ``core_metadata`` (and its legacy twin) is ``True``, the metadata's hashes, or
    ``False`` when the proxy cannot serve the file's ``.metadata``."""

    filename: str
    url: str
    hashes: dict[str, str]
    requires_python: str | None = None
    yanked: bool | str = False
    size: int | None = None
    upload_time: datetime | None = None
    core_metadata: bool | dict[str, str] = False
    dist_info_metadata: bool | dict[str, str] = False
    gpg_sig: bool | None = None
    provenance: str | None = None


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
#: The same characters, to find in one pass whether a page's filenames are all made of them.
_UNQUOTED_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-"


def shown_files(
    project: Project,
    files: Iterable[DistFile],
    *,
    metadata_hashes: dict[str, dict[str, str] | None] | None = None,
) -> list[ShownFile]:
    """Attach proxy URLs to ``files``. ``metadata_hashes`` maps filenames whose
    ``.metadata`` the proxy extracted itself to the hashes of that metadata."""
    files = list(files)
    extracted = metadata_hashes or {}
    prefix = f"../../files/{project.name}/"
    # A loop over every file of a page (10,000 are common): the filenames ``quote``
    # leaves as they are (usually all of them) are found in one pass beforehand.
    names = "".join([f.filename for f in files])
    plain = names.isascii() and not names.encode("ascii").translate(None, _UNQUOTED_BYTES)
    shown = []
    for f in files:
        filename = f.filename
        url = prefix + (filename if plain or _UNQUOTED.fullmatch(filename) else quote(filename))
        metadata = f.core_metadata
        if not metadata and filename in extracted:
            metadata = extracted[filename] or True
        hashes = f.hashes
        sha256 = hashes.get("sha256")
        uploaded = f.upload_time
        shown.append(
            ShownFile(
                filename,
                url + "#sha256=" + sha256 if sha256 else url,
                hashes,
                f.requires_python,
                f.yanked or False,  # "" is not yanked (PEP 592's reason is a non-empty text)
                f.size,
                uploaded if uploaded is None or uploaded.tzinfo is UTC else _in_utc(uploaded),
                metadata,
                metadata,
                f.gpg_sig,
                url + ".provenance" if f.provenance else None,
            )
        )
    return shown


class ShownFiles(Sequence[ShownFile]):
    """``shown_files(project, files, metadata_hashes=...)``, made a slice at a time when
    asked for: a page of 10,000 files is encoded without 10,000 ``ShownFile``s alive at
    once (made and freed in one go, they would hold the GIL for milliseconds)."""

    def __init__(
        self,
        project: Project,
        files: Sequence[DistFile],
        *,
        metadata_hashes: dict[str, dict[str, str] | None] | None = None,
    ) -> None:
        self._project = project
        self._files = files
        self._extracted = metadata_hashes

    def __len__(self) -> int:
        return len(self._files)

    @overload
    def __getitem__(self, index: int) -> ShownFile: ...

    @overload
    def __getitem__(self, index: slice) -> list[ShownFile]: ...

    def __getitem__(self, index: int | slice) -> ShownFile | list[ShownFile]:
        if isinstance(index, slice):
            return shown_files(self._project, self._files[index], metadata_hashes=self._extracted)
        (shown,) = shown_files(self._project, [self._files[index]], metadata_hashes=self._extracted)
        return shown

    def __iter__(self) -> Iterator[ShownFile]:
        for start in range(0, len(self._files), ENCODED_AT_ONCE):
            yield from self[start : start + ENCODED_AT_ONCE]


def _in_utc(moment: datetime) -> datetime:
    """PEP 700: an upload time is written in UTC (a time without a zone is taken as UTC)."""
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _status(page: Page) -> tuple[str | None, str | None]:
    if page.status:
        return page.status, page.status_reason
    return page.project.status, page.project.status_reason


_FILES = msgspec.json.Encoder()


def render_json(page: Page) -> bytes:
    """PEP 691 JSON: the page's document, its files (``ShownFile``) encoded by ``msgspec``
    ``ENCODED_AT_ONCE`` at a time."""
    head = {"meta": {"api-version": API_VERSION}, "name": page.project.name}
    rest: dict[str, object] = {"versions": list(page.project.versions)}
    status, reason = _status(page)
    if status:
        rest["project-status"] = {"status": status, **({"reason": reason} if reason else {})}
    if page.project.tracks:
        rest["tracks"] = list(page.project.tracks)
    if page.project.alternate_locations:
        rest["alternate-locations"] = list(page.project.alternate_locations)
    files = page.files
    # ``ENCODED_AT_ONCE`` files a call (each holds the GIL), all joined in one copy
    parts: list[bytes | memoryview] = [orjson.dumps(head)[:-1], b',"files":[']
    for start in range(0, len(files), ENCODED_AT_ONCE):
        if start:
            parts.append(b",")
        parts.append(memoryview(_FILES.encode(files[start : start + ENCODED_AT_ONCE]))[1:-1])
    parts += (b"],", orjson.dumps(rest)[1:])
    return b"".join(parts)


#: Files encoded in one call: ~0.2 ms.
ENCODED_AT_ONCE = 1000


class Fragments:
    """Each file's piece of a project's HTML renderings, made once and then reused.

    A page is rendered again when something other than its files changes (a wheel's
    metadata extracted, another index, a held release come of age): then only the
    pieces are joined. A piece depends on the ``ShownFile`` alone; keep one
    ``Fragments`` per project page (its files are fixed), never across pages.
    """

    def __init__(self) -> None:
        self._html: dict[tuple[str, object, object], str] = {}

    @staticmethod
    def _key(shown: ShownFile) -> tuple[str, object, object]:
        metadata = shown.core_metadata
        return (
            shown.filename,
            shown.yanked,  # a held release is listed as yanked with the hold's reason
            tuple(metadata.items()) if isinstance(metadata, dict) else metadata,
        )

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
    attrs = [("href", shown.url)]
    if shown.requires_python is not None:
        attrs.append(("data-requires-python", shown.requires_python))
    if shown.yanked:
        attrs.append(("data-yanked", shown.yanked if isinstance(shown.yanked, str) else ""))
    metadata = shown.core_metadata
    if metadata:
        value = _metadata_value(metadata if isinstance(metadata, dict) else None)
        attrs += [("data-core-metadata", value), ("data-dist-info-metadata", value)]
    if shown.gpg_sig is not None:
        attrs.append(("data-gpg-sig", "true" if shown.gpg_sig else "false"))
    if shown.provenance:
        attrs.append(("data-provenance", shown.provenance))
    return _element("a", attrs, shown.filename) + "<br>"


def render(page: Page, media_type: str, fragments: Fragments | None = None) -> bytes:
    if media_type == JSON_V1:
        return render_json(page)
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
