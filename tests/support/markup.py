"""What markup an HTML body holds, to show that nothing from upstream became markup:
``markup_of(body)`` gives its tags, attribute names, attribute values and text."""

from __future__ import annotations

from html.parser import HTMLParser

#: The tags and attributes pipgate's Simple API pages are made of (render.py).
PAGE_TAGS = frozenset({"html", "head", "meta", "title", "body", "h1", "p", "a", "br"})
PAGE_ATTRIBUTES = frozenset(
    {
        "name",
        "content",
        "href",
        "data-requires-python",
        "data-yanked",
        "data-core-metadata",
        "data-dist-info-metadata",
        "data-gpg-sig",
        "data-provenance",
    }
)


class Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.values: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}
        self.values += [value or "" for _, value in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def only_page_markup(self) -> bool:
        return self.tags <= PAGE_TAGS and self.attributes <= PAGE_ATTRIBUTES


def markup_of(body: bytes | str) -> Markup:
    parser = Markup()
    parser.feed(body.decode() if isinstance(body, bytes) else body)
    parser.close()
    return parser


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.files: dict[str, str | None] = {}
        self._open: str | bool | None = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            values = dict(attrs)
            self._open = values.get("data-yanked") if "data-yanked" in values else None

    def handle_data(self, data: str) -> None:
        if self._open is not False and data.strip():
            self.files[data.strip()] = self._open  # type: ignore[assignment]

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open = False


def listed(page: str | dict) -> dict[str, str | bool | None]:
    """The files a Simple API page lists, each with its yanked reason (``None``: not
    yanked); ``page`` is an HTML body or a parsed PEP 691 JSON page."""
    if isinstance(page, dict):
        return {f["filename"]: f.get("yanked") or None for f in page["files"]}
    parser = _Anchors()
    parser.feed(page)
    parser.close()
    return parser.files


def offered(page: str | dict) -> set[str]:
    """The files a page offers an unpinned install: listed and not yanked (PEP 592)."""
    return {name for name, yanked in listed(page).items() if yanked is None}
