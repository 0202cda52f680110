"""Executables hidden in string literals: a Windows, Linux or macOS program written raw,
in base64 or in hex, told by its magic bytes (and, for ``MZ``, a DOS stub or a PE header
where the header points, so text that merely starts "MZ" is not one)."""

from __future__ import annotations

import base64
import binascii
import re

_MAGIC = (
    (b"MZ", "Windows executable"),
    (b"\x7fELF", "ELF executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "Mach-O executable"),
)
_BASE64_HEAD = re.compile(r"^[A-Za-z0-9+/]{16,}")
_HEX_HEAD = re.compile(r"^(?:[0-9a-fA-F]{2}){8,}")


def embedded_executable(text: str) -> str | None:
    """The kind of executable a literal holds (raw, base64 or hex), or ``None``."""
    head = text[:128].lstrip()
    if head.startswith("MZ") and "program cannot be run" in text[:1024]:
        return "Windows executable"
    if head.startswith("\x7fELF"):
        return "ELF executable"
    raw = None
    match = _HEX_HEAD.match(head)
    if match and len(match.group(0)) >= 16:
        raw = binascii.unhexlify(match.group(0)[:16])
    else:
        match = _BASE64_HEAD.match(head)
        if match:
            chunk = match.group(0)[:16]
            try:
                raw = base64.b64decode(chunk)
            except (binascii.Error, ValueError):
                raw = None
    if raw is None:
        return None
    for magic, kind in _MAGIC:
        if raw.startswith(magic) and (
            magic != b"MZ"
            or raw[2:4] in (b"\x90\x00", b"P\x00", b"\x00\x00", b"\x80\x00")
            or _pe_header(text[:1400].lstrip())
        ):
            return kind
    return None


def _pe_header(head: str) -> bool:
    """Whether a literal (hex or base64) that starts with ``MZ``, whatever its next bytes,
    holds a DOS stub or a PE header where the ``MZ`` header points: a program, not text."""
    hexed = _HEX_HEAD.match(head)
    try:
        if hexed:
            encoded = hexed.group(0)
            raw = binascii.unhexlify(encoded[: len(encoded) // 2 * 2])
        else:
            encoded = _BASE64_HEAD.match(head).group(0)  # type: ignore[union-attr]
            raw = base64.b64decode(encoded[: len(encoded) // 4 * 4])
    except (binascii.Error, ValueError, AttributeError):
        return False
    if b"program cannot be run" in raw:
        return True
    offset = int.from_bytes(raw[0x3C:0x40], "little") if len(raw) >= 0x40 else 0
    return 0x40 <= offset < len(raw) - 4 and raw[offset : offset + 4] == b"PE\x00\x00"
