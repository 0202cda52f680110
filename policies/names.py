"""The one validator of project names, for the whole code base.

A project name is ASCII letters and digits, with ``.``, ``_`` and ``-`` inside
(PEP 508), normalized as PEP 503 says. Non-ASCII look-alikes (``ı``, ``ſ``,
``K`` (Kelvin sign), ``İ``) are refused: a case-insensitive pattern matches them
as ``i``, ``s`` and ``k``, and such a name would reach upstream as something the
dependency-confusion globs never match.
"""

from __future__ import annotations

from packaging.utils import InvalidName, NormalizedName, canonicalize_name


class BadProjectName(ValueError):
    """Text that can never be a project name; the message quotes it."""


def project_name(raw: str) -> NormalizedName:
    """The normalized form of the project name ``raw``.

    Raises ``BadProjectName`` when ``raw`` is not a valid name (empty, not
    ASCII, other characters, or not starting and ending with a letter or digit).
    """
    try:
        if raw.isascii():
            return canonicalize_name(raw, validate=True)
    except InvalidName:
        pass
    raise BadProjectName(
        f"{raw[:200]!r} is not a valid project name (ASCII letters, digits, '.', '_' and '-'; "
        "starting and ending with a letter or digit)"
    )
