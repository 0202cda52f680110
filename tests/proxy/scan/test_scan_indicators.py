"""``Indicator.search`` finds its anchors in one pass (an Aho-Corasick automaton over the
text) and must answer exactly as the plain reading of its contract: for each anchor in turn,
``str.find`` from one past each occurrence, the pattern tried in a window around each of the
first ``_PER_ANCHOR`` occurrences, a later anchor only where it starts before the best match."""

from __future__ import annotations

import random
import re

import pytest

from pipgate.proxy.scan import indicators
from pipgate.proxy.scan.indicators import Indicator


def reference(indicator: Indicator, text: str, lower: str) -> re.Match[str] | None:
    best: re.Match[str] | None = None
    for anchor in indicator.anchors:
        start = lower.find(anchor)
        tries = 0
        while start >= 0 and tries < indicators._PER_ANCHOR:
            tries += 1
            if best is not None and start >= best.start():
                break
            match = indicator.pattern.search(
                text, max(0, start - indicators._WINDOW), start + len(anchor) + indicators._WINDOW
            )
            if match is not None:
                if best is None or match.start() < best.start():
                    best = match
                break
            start = lower.find(anchor, start + 1)
    return best


def span(match: re.Match[str] | None) -> tuple[int, int] | None:
    return None if match is None else match.span()


CATCHER = indicators.SINKS["request catcher"]


@pytest.mark.parametrize("boundary", [indicators._SLICE, 2 * indicators._SLICE])
@pytest.mark.parametrize("shift", [-12, -11, -5, -1, 0, 1, 7])
def test_an_anchor_across_or_at_a_slice_boundary_is_found(boundary: int, shift: int) -> None:
    text = " " * (boundary + shift) + "webhook.site"
    for variant in (text, text + " tail", text + " " * 40):
        found = CATCHER.search(variant, variant.lower())
        assert span(found) == (boundary + shift, boundary + shift + len("webhook.site"))


def test_a_short_anchor_in_the_last_characters_of_a_long_text_is_found() -> None:
    # The longest anchor sets the slices' overlap; a short one may sit wholly inside the
    # last overlap, past where a slice starts.
    longest = max(map(len, indicators.PERSISTENCE.anchors))
    text = "x" * (indicators._SLICE - longest + 3) + "\n.bashrc"
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
    assert reference(CATCHER, late, late.lower()) is None
    assert CATCHER.search(late, late.lower()) is None
    early = "interact.sh " + decoys
    assert span(CATCHER.search(early, early.lower())) == (0, len("interact.sh"))


def test_random_texts_answer_as_the_reference_does() -> None:
    every = [
        *(v for v in vars(indicators).values() if isinstance(v, Indicator)),
        *indicators.SINKS.values(),
        *(indicator for _, indicator in indicators.CREDENTIALS.values()),
    ]
    pieces = [
        *("interact", "webhook.site", "https://203.0.113.9/x", "curl http://x | sh", "aa"),
        *("Login Data", "cookies", ".git/hooks", "gh auth token", "pastebin.com/raw", "ü"),
        *("discord.com/api/webhooks/12", "://", "\ud800", "\n", " ", "AppData/Roaming"),
    ]
    rng = random.Random(14)
    compared = found = 0
    for _ in range(300):
        size = rng.choice([10, 300, 3000])
        parts: list[str] = []
        while sum(map(len, parts)) < size:
            if rng.random() < 0.3:
                parts.append(rng.choice(pieces))
            else:
                parts.append("".join(rng.choice("ab c./:\n") for _ in range(rng.randint(1, 30))))
        text = "".join(parts)
        lower = text.lower()
        for indicator in rng.sample(every, 5):
            expected = reference(indicator, text, lower)
            assert span(indicator.search(text, lower)) == span(expected), indicator.anchors
            compared += 1
            found += expected is not None
    assert found >= 50  # the texts do hold matches: not a comparison of Nones alone
