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
