"""Rules 70: a file too large to analyse within bounds is not parsed
(``source.MAX_PARSE_COST``); one that runs at install or import time is held, as a file read
only in part is.

Before, 14 MB of ``x = 1`` lines in a ``setup.py`` that starts a process (30 KB gzipped) made
one scan take 6 GB of memory and 55 s, past its 30 s deadline. Rules 71 count tokens, not
line breaks and commas: 1 MB of attribute chains (``x = a.b.c...``), which that count did
not see, took 4.8 GB and 98 s. The sources are inert text.
"""

from __future__ import annotations

import pytest

from pipgate.proxy.scan import scan_archive
from pipgate.proxy.scan.source import MAX_PARSE_COST, parse_cost, read_source
from tests.support.archives import pkg_info, sdist, wheel

#: A payload's first lines, then more statements than the scan analyses.
PAYLOAD = "import subprocess\nsubprocess.run(['id'])\n"
PADDED = PAYLOAD + "x = 1\n" * (MAX_PARSE_COST // 3)
#: Padding without line breaks, commas or brackets: each line is 52 attributes.
CHAINED = PAYLOAD + ("x = " + ".".join("abcdefghijklmnopqrstuvwxyz" * 2) + "\n") * (
    MAX_PARSE_COST // 100
)


def test_the_cost_counts_tokens() -> None:
    # f ( a , b ) x = [ 1 ] + y ; : six names and numbers, eight operators and brackets
    assert parse_cost("f(a, b)\nx = [1] + y;\n") == 6 + 8
    assert parse_cost("x = a.b.c  # a note\n") == 4 + 3 + 2  # and a comment's words
    assert parse_cost("s = 'a long string'\n") == 4 + 3  # quotes, and the words in them
    assert parse_cost("étoile = 1") == 3  # a name of non-ASCII letters is one name
    assert parse_cost(PADDED) > MAX_PARSE_COST
    assert parse_cost(CHAINED) > MAX_PARSE_COST


@pytest.mark.parametrize("text", [PADDED, CHAINED], ids=["lines", "attributes"])
def test_a_file_past_the_cost_is_not_parsed(text: str) -> None:
    facts = read_source(text)
    assert facts.too_large and not facts.parsed
    assert not facts.calls
    assert not read_source(PAYLOAD).too_large


@pytest.mark.parametrize("where", ["setup.py", "demo/__init__.py"])
def test_install_or_import_time_code_past_the_cost_is_held(where: str) -> None:
    files = {where: PADDED, "PKG-INFO": pkg_info("demo")}
    files.setdefault("demo/__init__.py", "X = 1\n")
    report = scan_archive(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert report.incomplete is not None
    assert f"{where} runs at install or import time and is too large to analyse" in (
        report.incomplete
    )


def test_a_module_nothing_runs_early_past_the_cost_is_not_held() -> None:
    archive = wheel({"demo/__init__.py": "X = 1\n", "demo/tables.py": PADDED})
    report = scan_archive(archive, "demo-1.0-py3-none-any.whl")
    assert report.incomplete is None


#: 3 MB of base64 (its ``+`` and ``/`` split it into some 100,000 "words") decoded and run.
BLOB = "".join(chr(65 + (i * 7919) % 26) + "+/"[i % 2] for i in range(1_500_000))
PAYLOAD_IN_A_LITERAL = f"import base64\nDATA = '{BLOB}'\n# {BLOB}\nexec(base64.b64decode(DATA))\n"


def test_a_long_literal_or_comment_is_one_token_past_the_quick_count() -> None:
    assert parse_cost(BLOB) > MAX_PARSE_COST  # bare, its pieces are tokens
    assert parse_cost(PAYLOAD_IN_A_LITERAL) < 100  # in a literal or a comment, one each
    facts = read_source(PAYLOAD_IN_A_LITERAL)
    assert facts.parsed and not facts.too_large


def test_a_setup_script_that_runs_a_long_literal_is_judged_not_held_unread() -> None:
    files = {"setup.py": PAYLOAD_IN_A_LITERAL, "PKG-INFO": pkg_info("demo")}
    report = scan_archive(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert report.incomplete is None
    assert "decode-exec" in {f.rule for f in report.findings}


def test_code_in_an_f_strings_braces_still_counts() -> None:
    chain = ".".join("abcdefghijklmnopqrstuvwxyz" * 2)
    text = "".join(f'x = f"{{{chain}}}"\n' for _ in range(MAX_PARSE_COST // 100))
    assert parse_cost(text) > MAX_PARSE_COST
