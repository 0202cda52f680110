"""Custom HTTP reason phrases, so installers print *why* a request was refused.

pip reports a failed download as ``403 Client Error: <reason phrase> for url``.
ASGI has no field for the reason phrase, and uvicorn always writes the
standard one. ``Status(403, "Quarantined by release-age: ...")`` is an ``int``
that carries a phrase; ``install()`` teaches uvicorn's two HTTP protocol
implementations to use it. Where uvicorn's internals differ from what this
expects, ``install`` does nothing and the standard phrase is sent: the body
and the ``X-Pipgate-*`` headers still say why.
"""

from __future__ import annotations

import http
import logging

log = logging.getLogger("pipgate")


class Status(int):
    """An HTTP status code with its own reason phrase (printable ASCII, one line)."""

    phrase: str

    def __new__(cls, code: int, phrase: str) -> Status:
        status = super().__new__(cls, code)
        status.phrase = sanitize(phrase)
        return status


def sanitize(text: str, limit: int = 480) -> str:
    """``text`` as a safe reason phrase: printable ASCII, no line breaks, bounded."""
    cleaned = "".join(c if 32 <= ord(c) < 127 else "?" for c in text.replace("\n", " "))
    return cleaned[:limit] or "Forbidden"


class _StatusLines(dict):  # type: ignore[type-arg]
    def __missing__(self, code: int) -> bytes:
        return _status_line(code, http.HTTPStatus(code).phrase if code in _KNOWN else "")

    def __getitem__(self, code: int) -> bytes:
        phrase = getattr(code, "phrase", None)
        if phrase is not None:
            return _status_line(int(code), phrase)
        return super().__getitem__(code)


class _Phrases(dict):  # type: ignore[type-arg]
    def __getitem__(self, code: int) -> bytes:
        phrase = getattr(code, "phrase", None)
        if phrase is not None:
            return phrase.encode("ascii")
        return super().__getitem__(code)


_KNOWN = {s.value for s in http.HTTPStatus}


def _status_line(code: int, phrase: str) -> bytes:
    return b"".join([b"HTTP/1.1 ", str(code).encode(), b" ", phrase.encode("ascii"), b"\r\n"])


def install() -> bool:
    """Patch uvicorn's status tables once; true if both protocols were patched."""
    import importlib

    patched = 0
    for module_name, table, wrapper in (
        ("uvicorn.protocols.http.httptools_impl", "STATUS_LINE", _StatusLines),
        ("uvicorn.protocols.http.h11_impl", "STATUS_PHRASES", _Phrases),
    ):
        try:
            module = importlib.import_module(module_name)
            current = getattr(module, table)
        except (ImportError, AttributeError):
            log.debug("%s not patched for reason phrases", module_name)
            continue
        if isinstance(current, dict):
            if not isinstance(current, wrapper):
                setattr(module, table, wrapper(current))
            patched += 1
    return patched == 2
