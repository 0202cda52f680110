"""log_format.py: every record one line (text, control characters escaped) or one JSON object."""

from __future__ import annotations

import io
import json
import logging

import pytest

from pipgate.proxy.observe.log_format import escape_control, make_handler


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain /simple/demo/", "plain /simple/demo/"),
        ("a\nb\r\n", "a\\x0ab\\x0d\\x0a"),
        ("\x00\x1b[31m\x7f\x85", "\\x00\\x1b[31m\\x7f\\x85"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("caf\u00e9 \\x0a", "caf\u00e9 \\x0a"),  # printable text and backslashes are kept
    ],
)
def test_escape_control(text: str, escaped: str) -> None:
    assert escape_control(text) == escaped
    assert escape_control(escaped) == escaped


def _log(log_format: str, message: str, *args: object, exc: bool = False, **extra: object) -> str:
    out = io.StringIO()
    logger = logging.getLogger(f"pipgate.test-log-format.{log_format}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = make_handler(log_format, out)
    logger.addHandler(handler)
    try:
        if exc:
            try:
                raise ValueError("bad\nline")
            except ValueError:
                logger.exception(message, *args, extra=extra)
        else:
            logger.warning(message, *args, extra=extra)
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


def test_text_records_from_any_logger_stay_on_one_line() -> None:
    text = _log("text", "download of %s failed", "x.whl\n2026-01-01 INFO pipgate forged")
    assert text.count("\n") == 1
    assert text.rstrip("\n").endswith("download of x.whl\\x0a2026-01-01 INFO pipgate forged failed")


def test_text_tracebacks_are_indented() -> None:
    lines = _log("text", "failed", exc=True).splitlines()
    assert lines[0].endswith(" ERROR pipgate.test-log-format.text failed")
    assert all(line.startswith("    ") for line in lines[1:])
    assert lines[-2:] == ["    ValueError: bad", "    line"]


def test_json_records_carry_their_fields() -> None:
    text = _log("json", "%s served", "a\nb", exc=True, request_id="abc", status=200)
    (line,) = text.splitlines()
    record = json.loads(line)
    assert record["message"] == "a\nb served"
    assert (record["logger"], record["level"]) == ("pipgate.test-log-format.json", "ERROR")
    assert (record["request_id"], record["status"]) == ("abc", 200)
    assert record["exception"].endswith("ValueError: bad\nline")
    assert "time" in record


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="text or json"):
        make_handler("xml")
