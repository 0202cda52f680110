"""Rules 68 and 69: the text a file's literals spell is computed without letting the file
choose its size or break the scan (``proxy/scan/folding.py``); and other lines that ended a
scan as a scanner error, found by scanning each of CPython's 13,353 standard-library and test
modules as a package's ``__init__.py``.

Before, ``"{:>900000000}".format("a")`` in any module made the scanner build a 900 MB string
(a 40-byte line: a scan worker's memory for the asking), and ``"{0.real}".format("a")``
raised out of the constants pass, so a legitimate file with that line was held as a scanner
error. Both are refused now; ordinary formatting still folds. The sources are inert text.
"""

from __future__ import annotations

import ast

import pytest

from pipgate.proxy.scan import scan_archive
from pipgate.proxy.scan.folding import MAX_FOLD, brace_formatted, fold, percent_formatted
from tests.support.archives import wheel

WIDE = 10_000_000  # far past MAX_FOLD, small enough not to hurt if it were built


def _fold(expression: str) -> str | None:
    return fold(ast.parse(expression, mode="eval").body, lambda name: None)


@pytest.mark.parametrize(
    "expression",
    [
        f"'{{:>{WIDE}}}'.format('a')",
        f"'{{:.{WIDE}f}}'.format('a')",
        "'{:{}}'.format('a', '9999999')",
        f"'%{WIDE}s' % 'a'",
        f"'%.{WIDE}f' % 'a'",
        "'%*s' % (9999999, 'a')",
    ],
)
def test_a_width_or_precision_that_could_make_long_text_is_not_folded(expression: str) -> None:
    assert WIDE > MAX_FOLD
    assert _fold(expression) is None


class _Tripwire(str):
    """A template that fails the test if anything formats with it."""

    def format(self, *args: object, **kwargs: object) -> str:
        raise AssertionError("formatted")

    def __mod__(self, other: object) -> str:
        raise AssertionError("formatted")


def test_the_formatters_refuse_before_they_build() -> None:
    assert brace_formatted(_Tripwire(f"{{:>{WIDE}}}"), ("a",)) is None
    assert percent_formatted(_Tripwire(f"%{WIDE}s"), ("a",)) is None
    assert percent_formatted(_Tripwire("%*s"), (WIDE, "a")) is None
    with pytest.raises(AssertionError, match="formatted"):
        brace_formatted(_Tripwire("{:>8}"), ("a",))  # (the tripwire works)


@pytest.mark.parametrize("expression", ["'{0.real}'.format('a')", "'{0[x]}'.format('abc')"])
def test_a_field_that_reads_an_attribute_or_item_is_not_folded(expression: str) -> None:
    assert _fold(expression) is None


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        ("'{}://{}'.format('https', 'collect.example.com')", "https://collect.example.com"),
        ("'{0}{1}{0}'.format('a', 'b')", "aba"),
        ("'{:>5}'.format('a')", "    a"),
        ("'%s://%s/%c' % ('https', 'x.example', 104)", "https://x.example/h"),
        ("'%-4s|' % 'a'", "a   |"),
    ],
)
def test_ordinary_formatting_still_folds(expression: str, text: str) -> None:
    assert _fold(expression) == text


@pytest.mark.parametrize(
    "line",
    [
        "X = '{0.real}'.format('a')\n",
        "X = '{0[x]}'.format('abc')\n",
        f"X = '{{:>{WIDE}}}'.format('a')\n",
        f"X = ''.join(['{{:>{WIDE}}}']).format('a')\n",
        f"X = '%{WIDE}s' % 'a'\n",
    ],
)
def test_a_module_with_such_a_line_is_scanned_not_held_as_a_scanner_error(line: str) -> None:
    report = scan_archive(wheel({"demo/__init__.py": line}), "demo-1.0-py3-none-any.whl")
    assert report.incomplete is None
    assert report.score < 10


def test_a_temporary_file_written_as_it_is_made_is_scanned() -> None:
    """Rules 69: ``NamedTemporaryFile().write(...)`` (CPython's own ``testmock.py`` has it)
    ended the scan as a scanner error: the write's path was taken from the call's first
    argument, which a temporary file does not have."""
    line = "import tempfile\ntempfile.NamedTemporaryFile().write(b'data')\n"
    report = scan_archive(wheel({"demo/__init__.py": line}), "demo-1.0-py3-none-any.whl")
    assert report.incomplete is None
