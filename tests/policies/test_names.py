"""The one project-name validator: ASCII names normalized, everything else refused."""

from __future__ import annotations

import pytest

from pipgate.policies.names import BadProjectName, project_name


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("requests", "requests"),
        ("Django", "django"),
        ("zope.interface", "zope-interface"),
        ("typing__extensions", "typing-extensions"),
        ("a", "a"),
        ("0", "0"),
        ("A-._b", "a-b"),
    ],
)
def test_project_name(raw: str, normalized: str) -> None:
    assert project_name(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "-requests",
        "requests-",
        "req uests",
        "req/uests",
        "requests\n",
        "ıdna",  # dotless i: "IDNA" by case folding
        "ſix",  # long s: "SIX" by case folding
        "\u212aeras",  # Kelvin sign: "keras" once lower-cased
        "İdna",  # dotted capital I
        "reqüests",
        "ｒｅｑｕｅｓｔｓ",  # fullwidth letters
    ],
)
def test_project_name_invalid(raw: str) -> None:
    with pytest.raises(BadProjectName) as info:
        project_name(raw)
    assert repr(raw[:200]) in str(info.value)
