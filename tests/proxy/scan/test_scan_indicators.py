"""``Indicator.search``: the pattern is tried around the first ``_PER_ANCHOR`` occurrences of
each anchor, so a text cannot make it try the pattern everywhere."""

from __future__ import annotations

from pipgate.proxy.scan import indicators

CATCHER = indicators.SINKS["request catcher"]


def test_an_anchor_in_the_last_characters_of_a_long_text_is_found() -> None:
    text = "x" * (1 << 17) + "\n.bashrc"
    found = indicators.PERSISTENCE.search(text, text.lower())
    assert found is not None and found.group(0) == ".bashrc"


def test_a_lone_surrogate_does_not_stop_the_search() -> None:
    text = b"# \xff\xfe unreadable\nurl = 'https://webhook.site/abc'\n".decode(
        "utf-8", "surrogateescape"
    )
    found = CATCHER.search(text, text.lower())
    assert found is not None and found.group(0) == "webhook.site"


def test_only_the_first_occurrences_of_an_anchor_are_tried() -> None:
    decoys = "interactive " * (indicators._PER_ANCHOR + 5) + " " * indicators._WINDOW * 2
    late = decoys + "interact.sh"
    assert CATCHER.search(late, late.lower()) is None
    early = "interact.sh " + decoys
    found = CATCHER.search(early, early.lower())
    assert found is not None and found.span() == (0, len("interact.sh"))
