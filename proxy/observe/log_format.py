"""Log lines nobody can forge: text with control characters escaped, or JSON lines.

Request paths (percent-decoded), client addresses (``X-Forwarded-For``),
filenames and reasons from upstream all reach the logs; a newline or an
escape sequence in one of them must never start a line of its own or repaint
a terminal. ``[server] log_format`` picks ``text`` (one line per record,
control characters as ``\\xNN``) or ``json`` (one JSON object per line, with the
record's structured fields, the access log's included). ``pipgate serve``
installs it for every logger, uvicorn's too (``configure_logging``).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

#: C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROLS = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_ESCAPES = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _CONTROLS}
#: Attributes every ``LogRecord`` has (and uvicorn's terminal-coloured copy of its
#: message); the others were passed as ``extra`` fields.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


def escape_control(text: str) -> str:
    """``text`` with every control character written as ``\\xNN`` (or ``\\uNNNN``): one
    line, nothing a terminal acts on. Idempotent (a backslash is left as is)."""
    return text.translate(_ESCAPES)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger message``, the message on one line; a traceback follows on
    indented lines, so none of its lines can pass for a record of its own."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.message = escape_control(record.getMessage())
        record.asctime = self.formatTime(record, self.datefmt)
        parts = [self.formatMessage(record)]
        if record.exc_info:
            parts.append(_indented(self.formatException(record.exc_info)))
        elif record.exc_text:
            parts.append(_indented(record.exc_text))
        if record.stack_info:
            parts.append(_indented(self.formatStack(record.stack_info)))
        return "\n".join(parts)


def _indented(text: str) -> str:
    return "\n".join("    " + escape_control(line) for line in text.splitlines())


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time``, ``level``, ``logger``, ``message``, the
    record's ``extra`` fields (the access log's ``request_id``, ``client``, ``method``,
    ``path``, ``status``, ``bytes``, ``duration_ms``) and ``exception``, if any.
    Non-ASCII and control characters are ``\\u`` escapes, so a record is one line."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return json.dumps(data, ensure_ascii=True, default=str)


def make_handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler (stderr by default) writing ``log_format`` (``text`` or ``json``)."""
    if log_format not in FORMATS:
        raise ValueError(f"unknown log format {log_format!r}; choose text or json")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def configure_logging(level: str, log_format: str) -> None:
    """Send every logger's records to stderr in ``log_format``, at ``level`` and above.

    Replaces the root logger's handlers; uvicorn must then be started with
    ``log_config=None`` so that its loggers propagate here instead of printing their own.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(make_handler(log_format))
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs URLs, credentials included
