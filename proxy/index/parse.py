"""Parse upstream project pages (PEP 691 JSON or PEP 503 HTML) into a ``Project``.

Lenient per file, strict per page: a file entry with one bad attribute keeps
the entry and drops the attribute; an entry without a filename or URL is
skipped, and so is any later entry for a filename already listed; a page that is
not a page at all raises ``PageParseError``.
Relative file URLs are resolved against the page URL. Legacy key names
(``dist-info-metadata``, ``data-dist-info-metadata``) are accepted as aliases.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, TypeVar
from urllib.parse import unquote, urldefrag, urljoin

import msgspec
import orjson
from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from pipgate.proxy.index import json_pieces
from pipgate.proxy.models import LARGEST_SIZE, CoreMetadata, DistFile, Project, Yanked

T = TypeVar("T")
B = TypeVar("B")


class PageParseError(ValueError):
    """An upstream answer that is not a usable project page."""


def parse_json_page(body: bytes, page_url: str, name: NormalizedName) -> Project:
    page = _decoded(body)
    if page is not None:
        files = _checked_files(page.files, page_url)
        return _project(
            name, files, page.versions, page.project_status, page.tracks, page.locations
        )
    try:
        data = json_pieces.loads(body)  # a large page in pieces: the GIL is let go between
    except orjson.JSONDecodeError as exc:
        raise PageParseError(f"project page for {name!r} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise PageParseError(f"project page for {name!r} has no 'files' list")
    files = _json_files(data["files"], page_url)
    return _project(
        name,
        files,
        data.get("versions"),
        data.get("project-status"),
        data.get("tracks"),
        data.get("alternate-locations"),
    )


def _project(
    name: NormalizedName,
    files: tuple[DistFile, ...],
    versions: Any,
    status: Any,
    tracks: Any,
    alternate_locations: Any,
) -> Project:
    status = status if isinstance(status, dict) else {}
    return Project(
        name=name,
        files=files,
        versions=_versions(versions if isinstance(versions, list) else [], files),
        status=_str_or_none(status.get("status")),
        status_reason=_str_or_none(status.get("reason")),
        tracks=_str_tuple(tracks),
        alternate_locations=_str_tuple(alternate_locations),
    )


# -- the usual page: decoded straight into ``DistFile``s, then checked as a whole ---------


class _Page(msgspec.Struct):
    """A PEP 691 page whose every file entry has the types ``DistFile`` declares; the
    other keys are taken as they come and checked as the lenient parser checks them."""

    files: list[DistFile]
    versions: Any = None
    project_status: Any = msgspec.field(default=None, name="project-status")
    tracks: Any = None
    locations: Any = msgspec.field(default=None, name="alternate-locations")


_PAGE = msgspec.json.Decoder(_Page)
_FILES = msgspec.json.Decoder(list[DistFile])


class _NotUsual(Exception):
    """A piece of the ``files`` array decodes, but not into ``DistFile``s."""


def _decoded(body: bytes) -> _Page | None:
    """The page decoded in one pass, or ``None`` when it needs the lenient parser: an
    entry with an attribute of another type (the lenient parser drops that attribute and
    keeps the entry), an entry that is not an object or lacks a filename or URL (it is
    skipped), a body that is not a JSON object (the error is the lenient parser's), or
    files that give their metadata under the legacy key alone.

    A large page is decoded a piece of its ``files`` at a time (``json_pieces``), so the
    GIL is let go between pieces: one call for a 10,000-file page holds it 4-7 ms."""
    try:
        split = None
        if len(body) >= json_pieces.WHOLE_BELOW:
            split = json_pieces.split_files(body, _usual_files, _usual_document)
        if split is None:
            page = _PAGE.decode(body)
        else:
            page = split[1]
            page.files = split[0]
    except (msgspec.DecodeError, _NotUsual):  # ValidationError included
        return None
    if b'"dist-info-metadata"' in body and body.count(b'"core-metadata"') < len(page.files):
        return None
    return page


def _usual_files(text: bytes) -> list[DistFile] | None:
    try:
        return _FILES.decode(text)
    except msgspec.ValidationError as exc:
        raise _NotUsual(str(exc)) from exc
    except msgspec.DecodeError:
        return None  # not JSON: the cut was inside an entry


def _usual_document(text: bytes) -> _Page | None:
    try:
        page = _PAGE.decode(text)
    except msgspec.DecodeError:
        return None
    return None if page.files else page


def _checked_files(files: list[DistFile], page_url: str) -> tuple[DistFile, ...]:
    """``files`` as the lenient parser would make them: checked as a whole when they are
    in the usual form (what PyPI sends: plain absolute URLs, one lower-case sha256, upload
    times in UTC, distinct safe filenames), else file by file (``_normalized``)."""
    if _usual(files):
        return tuple(files)
    return _first_of_each(files, _normalized, _Resolver(page_url))


def _usual(files: list[DistFile]) -> bool:
    """Whether every file is in the usual form (see ``_checked_files``), checked a few
    C-level passes over the whole list rather than a few Python steps per file."""
    if not files:
        return True
    names = [f.filename for f in files]
    distinct = set(names)
    if (
        len(distinct) != len(names)
        or not distinct.isdisjoint(("", ".", ".."))
        or not _printable_without_slashes(" ".join(names))
    ):
        return False
    if not _all_plain([f.url for f in files]):
        return False
    if not _all_plain([f.provenance for f in files if f.provenance is not None]):
        return False
    if not _lone_sha256s([f.hashes for f in files]):
        return False
    metadata = [m for f in files if (m := f.core_metadata).__class__ is dict]
    if metadata and not _lone_sha256s(metadata):
        return False
    if "" in {f.yanked for f in files}:
        return False
    zones = {t.tzinfo for f in files if (t := f.upload_time) is not None}
    return zones <= {UTC}


def _all_plain(urls: list[str]) -> bool:
    """Whether every one of ``urls`` is a ``_PLAIN_URL``: a thousand a regex call (one
    call over a 10,000-file page's URLs holds the GIL over a millisecond)."""
    return all(
        _PLAIN_URLS.fullmatch("\n".join(urls[start : start + 1000]))
        for start in range(0, len(urls), 1000)
    )


def _printable_without_slashes(text: str) -> bool:
    if text.isascii():  # the usual case, by one C pass instead of a check per character
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII_BUT_SLASHES)
    return text.isprintable() and "/" not in text and "\\" not in text


_PRINTABLE_ASCII_BUT_SLASHES = bytes(range(0x20, 0x7F)).translate(None, b"/\\")


def _lone_sha256s(hashes: list[dict[str, str]]) -> bool:
    """Whether each of ``hashes`` is one lower-case hex ``sha256`` and nothing else."""
    digests = [h.get("sha256") for h in hashes]
    if sum(map(len, hashes)) != len(hashes) or None in digests:
        return False
    if set(map(len, digests)) != {64}:  # type: ignore[arg-type]
        return False
    joined = "".join(digests)  # type: ignore[arg-type]
    return joined.isascii() and not joined.encode("ascii").translate(None, b"0123456789abcdef")


def _normalized(f: DistFile, resolve: _Resolver) -> DistFile | None:
    """``f`` as the lenient parser makes an entry with these values, or ``None`` when it
    cannot be served (an unsafe filename)."""
    if not _safe_filename(f.filename):
        return None
    metadata = f.core_metadata
    uploaded = f.upload_time
    return msgspec.structs.replace(
        f,
        url=resolve(f.url),
        hashes=_hashes(f.hashes),
        yanked=f.yanked if f.yanked.__class__ is bool else _yanked(f.yanked),
        upload_time=uploaded.astimezone(UTC) if uploaded is not None else None,
        core_metadata=metadata if metadata.__class__ is bool else _core_metadata(metadata),
        provenance=resolve.join(f.provenance) if f.provenance is not None else None,
    )


# -- any other page: entry by entry, dropping what cannot be used -------------------------


def _json_files(entries: list[Any], page_url: str) -> tuple[DistFile, ...]:
    """The usable entries, each filename once (see ``_first_of_each``)."""
    return _first_of_each(entries, _json_file, _Resolver(page_url))


def _first_of_each(
    items: Iterable[T], make: Callable[[T, B], DistFile | None], base: B
) -> tuple[DistFile, ...]:
    """``make(item, base)`` of each item that makes a file, each filename once: the first
    entry wins and later ones are dropped, so the file a page advertises is the one that
    is judged and served. An item whose URL cannot be parsed is skipped. (The hot loop of
    a cold page that is not in the usual form: 10,000 entries are common.)"""
    seen: dict[str, DistFile] = {}
    for item in items:
        try:
            f = make(item, base)
        except ValueError:  # urljoin/urlsplit: "Invalid IPv6 URL" and the like
            continue
        if f is not None and f.filename not in seen:
            seen[f.filename] = f
    return tuple(seen.values())


#: An absolute http(s) URL that ``urljoin`` and ``urldefrag`` return unchanged: a host,
#: printable ASCII without spaces, and nothing they split off or normalise (``#``, ``?``,
#: ``;``) nor brackets (an IPv6 host, which they validate).
#: (One pattern: printable ASCII but ``#?;[]``, and no ``/`` right after the scheme.)
_PLAIN_URL = re.compile(r'https?://[!"$-.0-:<->@-Z\\^-~][!"$-:<->@-Z\\^-~]*')
#: Lines of ``_PLAIN_URL``s (checking a page's URLs in one call).
_PLAIN_URLS = re.compile(rf"{_PLAIN_URL.pattern}(?:\n{_PLAIN_URL.pattern})*")


class _Resolver:
    """``urldefrag(urljoin(page_url, url))[0]``, without the work for a plain absolute URL
    (what PyPI's pages hold): that is returned as it is."""

    __slots__ = ("page_url",)

    def __init__(self, page_url: str) -> None:
        self.page_url = page_url

    def __call__(self, url: str) -> str:
        if _PLAIN_URL.fullmatch(url):
            return url
        return urldefrag(urljoin(self.page_url, url))[0]

    def join(self, url: str) -> str:
        """``urljoin(page_url, url)`` (a fragment kept)."""
        if _PLAIN_URL.fullmatch(url):
            return url
        return urljoin(self.page_url, url)


def _json_file(entry: Any, resolve: _Resolver) -> DistFile | None:
    if not isinstance(entry, dict):
        return None
    get = entry.get
    filename, url = get("filename"), get("url")
    if not isinstance(filename, str) or not isinstance(url, str) or not _safe_filename(filename):
        return None
    hashes = get("hashes")
    provenance = get("provenance")
    size = get("size")
    yanked = get("yanked", False)
    requires_python = get("requires-python")
    metadata = get("core-metadata", get("dist-info-metadata"))
    gpg = get("gpg-sig")
    uploaded = get("upload-time")
    if uploaded.__class__ is str and _CANONICAL_TIME.fullmatch(uploaded):
        when = _canonical_datetime(uploaded)
    else:
        when = _datetime(uploaded)
    return DistFile(
        filename,
        resolve(url),  # "<file>.metadata" must not follow a "#..."
        _hashes(hashes) if isinstance(hashes, dict) else {},
        requires_python if isinstance(requires_python, str) else None,
        yanked if yanked is False else _yanked(yanked),
        size if type(size) is int and 0 <= size <= LARGEST_SIZE else None,
        when,
        metadata if metadata is False else _core_metadata(metadata),
        gpg if isinstance(gpg, bool) else None,
        resolve.join(provenance) if isinstance(provenance, str) else None,
    )


def _canonical_datetime(value: str) -> datetime | None:
    """``_datetime(value)`` for ``value`` in ``_CANONICAL_TIME``'s form (one ``Z``, at
    its end)."""
    try:
        return datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:  # a month 13 and the like
        return None


#: An upload time as PyPI writes one (UTC, with microseconds): read without the general work.
_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def parse_html_page(body: bytes, page_url: str, name: NormalizedName) -> Project:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PageParseError(f"project page for {name!r} is not UTF-8 text") from exc
    parser = _AnchorParser()
    try:
        parser.feed(text)
        parser.close()
    except AssertionError as exc:  # html.parser's way of rejecting some markup
        raise PageParseError(f"project page for {name!r} is not parseable HTML: {exc}") from exc
    if not parser.saw_markup:
        raise PageParseError(f"project page for {name!r} is not HTML")
    try:
        base = urljoin(page_url, parser.base_href) if parser.base_href else page_url
    except ValueError as exc:
        raise PageParseError(f"project page for {name!r} has an invalid <base href>") from exc
    files = _first_of_each(parser.anchors, _html_file, base)
    return Project(
        name=name,
        files=files,
        versions=_versions([], files),
        status=parser.meta.get("pypi:project-status"),
        status_reason=parser.meta.get("pypi:project-status-reason"),
        tracks=tuple(v for k, v in parser.meta_all if k == "pypi:tracks"),
        alternate_locations=tuple(v for k, v in parser.meta_all if k == "pypi:alternate-locations"),
    )


def _html_file(attrs: Mapping[str, str | None], base: str) -> DistFile | None:
    href = attrs.get("href")
    if not href:
        return None
    url, fragment = urldefrag(urljoin(base, href))
    filename = unquote(url.rstrip("/").rsplit("/", 1)[-1])
    if not _safe_filename(filename):
        return None
    hashes: dict[str, str] = {}
    if "=" in fragment:
        algo, _, digest = fragment.partition("=")
        hashes = _hashes({algo: digest})
    yanked: Yanked = False
    if "data-yanked" in attrs:
        yanked = attrs["data-yanked"] or True
    metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
    has_metadata = "data-core-metadata" in attrs or "data-dist-info-metadata" in attrs
    gpg = attrs.get("data-gpg-sig")
    return DistFile(
        filename=filename,
        url=url,
        hashes=hashes,
        requires_python=attrs.get("data-requires-python") or None,
        yanked=yanked,
        core_metadata=_html_core_metadata(metadata) if has_metadata else False,
        gpg_sig={"true": True, "false": False}.get(gpg or ""),
        provenance=urljoin(base, attrs["data-provenance"])
        if attrs.get("data-provenance")
        else None,
    )


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.meta: dict[str, str] = {}
        self.meta_all: list[tuple[str, str]] = []
        self.base_href: str | None = None
        self.saw_markup = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.saw_markup = True
        if tag == "a":
            self.anchors.append(dict(attrs))
        elif tag == "meta":
            values = dict(attrs)
            meta_name, content = values.get("name"), values.get("content")
            if meta_name and content is not None:
                self.meta.setdefault(meta_name, content)
                self.meta_all.append((meta_name, content))
        elif tag == "base" and self.base_href is None:
            self.base_href = dict(attrs).get("href")


def _safe_filename(filename: str) -> bool:
    """A filename the proxy can serve under its own URL: no path parts, no control bytes."""
    return (
        bool(filename)
        and filename not in {".", ".."}
        and "/" not in filename
        and "\\" not in filename
        and filename.isprintable()
    )


#: Hash names accepted from upstream: the ones ``hashlib`` guarantees (PEP 503), lower-cased.
#: Any other key is dropped, so a page cannot smuggle text into a hash name.
HASH_NAMES = frozenset(hashlib.algorithms_guaranteed)
_HEX = re.compile(r"[0-9a-fA-F]+")
_LOWER_HEX = re.compile(r"[0-9a-f]+")


def _hashes(raw: Mapping[Any, Any]) -> dict[str, str]:
    """The known hash names of ``raw`` with their hex digests, both lower-cased."""
    if len(raw) == 1:  # what PyPI gives: a lower-case sha256 alone, kept as it is
        digest = raw.get("sha256")
        if digest.__class__ is str and _LOWER_HEX.fullmatch(digest):
            return {"sha256": digest}
    hashes = {}
    for algo, digest in raw.items():
        name = algo.lower() if isinstance(algo, str) else None
        if name in HASH_NAMES and isinstance(digest, str) and _HEX.fullmatch(digest):
            hashes[name] = digest.lower()
    return hashes


def _yanked(value: Any) -> Yanked:
    if isinstance(value, str):
        return value or True
    return bool(value) if isinstance(value, bool) else False


def _core_metadata(value: Any) -> CoreMetadata:
    if isinstance(value, dict):
        hashes = _hashes(value)
        return hashes or True
    return value if isinstance(value, bool) else False


def _html_core_metadata(value: str | None) -> CoreMetadata:
    if value and "=" in value:
        algo, _, digest = value.partition("=")
        return _hashes({algo: digest}) or True
    return value != "false"


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _str_tuple(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _versions(listed: list[Any], files: tuple[DistFile, ...]) -> tuple[str, ...]:
    """PEP 700 ``versions``: upstream's list, else the versions seen in filenames."""
    if listed:
        return tuple(v for v in listed if isinstance(v, str))
    seen: dict[Version, None] = {}
    for f in files:
        if f.version is not None:
            seen.setdefault(f.version, None)
    try:
        return tuple(str(v) for v in sorted(seen))
    except (TypeError, InvalidVersion):
        return tuple(str(v) for v in seen)
