"""Rules 58: three more ways to hide code that ``exec`` runs, each beside an everyday use of
the same call.

- A substitution cipher undone with ``str.translate`` (``"vzcbeg bf".translate(table)``).
- Characters picked by position out of a table (``"".join(k[i] for i in [8, 12, 15, 14])``).
- A zip archive shipped under a data file's name and imported from (``zipimporter``).

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"
HIDDEN = {
    "translate": (
        "t = str.maketrans('abcdefghijklmnopqrstuvwxyz', 'nopqrstuvwxyzabcdefghijklm')\n"
        "exec('vzcbeg bf; bf.flfgrz(\"vq\")'.translate(t))\n"
    ),
    "picked": (
        "k = 'abcdefghijklmnopqrstuvwxyz .()\"'\n"
        "exec(''.join(k[i] for i in [8, 12, 15, 14, 17, 19, 26, 14, 18]))\n"
    ),
    "zip under a data name": (
        "import os, zipimport\n"
        "here = os.path.dirname(__file__)\n"
        "zipimport.zipimporter(os.path.join(here, 'core.bin')).load_module('core')\n"
    ),
}


@pytest.mark.parametrize("case", sorted(HIDDEN))
def test_code_hidden_this_way_and_run_on_import_is_held(case: str) -> None:
    files = {"demo/__init__.py": HIDDEN[case], "demo/core.bin": b"PK\x05\x06" + bytes(18)}
    rules, held = judge(wheel(files), WHEEL)
    assert rules.get("decode-exec") == 10
    assert held


EVERYDAY = {
    "translate": (
        "TABLE = str.maketrans('-', '_')\ndef key(name):\n    return name.translate(TABLE)\n"
    ),
    "picked": (
        "DIGITS = '0123456789abcdef'\n"
        "def hexed(values):\n"
        "    return ''.join(DIGITS[i] for i in values)\n"
    ),
    "zip under its own name": (
        "import os, zipimport\n"
        "here = os.path.dirname(__file__)\n"
        "zipimport.zipimporter(os.path.join(here, 'vendor.zip'))\n"
    ),
}


@pytest.mark.parametrize("case", sorted(EVERYDAY))
def test_the_everyday_use_is_not(case: str) -> None:
    rules, held = judge(wheel({"demo/__init__.py": EVERYDAY[case]}), WHEEL)
    assert "decode-exec" not in rules
    assert not held


def test_runtime_text_translated_before_eval_is_not_a_cipher() -> None:
    # (Rules 60: RestrictedPython's `expr.translate(nltosp)` before compiling and `eval`.)
    init = (
        "NL_TO_SPACE = str.maketrans('\\n', ' ')\n"
        "def evaluate(expr, scope):\n"
        "    code = compile(expr.translate(NL_TO_SPACE), '<expr>', 'eval')\n"
        "    return eval(code, scope)\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "decode-exec" not in rules
    assert not held
