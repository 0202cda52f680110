"""``Indicator.search``: the pattern is tried around the first ``_PER_ANCHOR`` occurrences of
each anchor, so a text cannot make it try the pattern everywhere."""

from __future__ import annotations

import pytest

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
    decoys = "ngrok " * (indicators._PER_ANCHOR + 5) + " " * indicators._WINDOW * 2
    late = decoys + "ngrok.io"
    assert CATCHER.search(late, late.lower()) is None
    early = "ngrok.io " + decoys
    found = CATCHER.search(early, early.lower())
    assert found is not None and found.span() == (0, len("ngrok.io"))


@pytest.mark.parametrize(
    ("host", "name"), [("x1.interact.sh", "interact.sh"), ("interactsh.example.com", "interactsh")]
)
def test_interactsh_is_found_past_a_file_full_of_interactions(host: str, name: str) -> None:
    # The anchors are the catcher's names, not the word "interact": a module of
    # "interaction"s and "interactive"s is no longer searched around each of them (and,
    # past `_PER_ANCHOR` of them, no longer gives up before the name).
    text = "interactive interaction " * (indicators._PER_ANCHOR + 5) + host
    found = CATCHER.search(text, text.lower())
    assert found is not None and found.group(0) == name


@pytest.mark.parametrize("shell", ["bash", "zsh", "sh", "psql", "mysql", "python"])
def test_every_history_file_is_found_by_its_own_anchor(shell: str) -> None:
    # Anchored on `sh_history`, `psql_history`, ... rather than `_history`, which every
    # `self._history` of an ordinary module holds.
    _, histories = indicators.CREDENTIALS["shell history or secrets file"]
    text = "self._history = [] " * (indicators._PER_ANCHOR + 5) + f"~/.{shell}_history"
    found = histories.search(text, text.lower())
    assert found is not None and found.group(0) == f".{shell}_history"
