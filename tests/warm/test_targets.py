"""Which files of a release each target needs, and what uv's output pins."""

from __future__ import annotations

import pytest

from pipgate.proxy.warm.resolve import Pin, parse_pins
from pipgate.proxy.warm.targets import Target, targets_of, wanted

WHEELS = {
    "pure": "demo-1.0-py3-none-any.whl",
    "cp311-linux": "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "cp311-linux-arm": "demo-1.0-cp311-cp311-manylinux_2_17_aarch64.whl",
    "cp312-linux": "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
    "cp39-abi3-linux": "demo-1.0-cp39-abi3-musllinux_1_2_x86_64.whl",
    "cp311-mac": "demo-1.0-cp311-cp311-macosx_11_0_arm64.whl",
    "cp311-win": "demo-1.0-cp311-cp311-win_amd64.whl",
    "cp311-win32": "demo-1.0-cp311-cp311-win32.whl",
    "pypy": "demo-1.0-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl",
    "py2": "demo-1.0-py2-none-any.whl",
}


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        ([], set(WHEELS)),
        (
            [Target("3.11")],
            {
                "pure",
                "cp311-linux",
                "cp311-linux-arm",
                "cp39-abi3-linux",
                "cp311-mac",
                "cp311-win",
                "cp311-win32",
            },
        ),
        ([Target("3.12", "linux")], {"pure", "cp312-linux", "cp39-abi3-linux"}),
        ([Target("3.11", "x86_64-manylinux_2_28")], {"pure", "cp311-linux", "cp39-abi3-linux"}),
        ([Target("3.11", "aarch64-apple-darwin")], {"pure", "cp311-mac"}),
        ([Target("3.11", "windows")], {"pure", "cp311-win", "cp311-win32"}),
        ([Target("3.11", "i686-pc-windows-msvc")], {"pure", "cp311-win32"}),
        ([Target(None, "macos")], {"pure", "cp311-mac", "py2"}),
        ([Target("3.8", "linux")], {"pure"}),
        (
            [Target("3.11", "windows"), Target("3.12", "linux")],
            {"pure", "cp311-win", "cp311-win32", "cp312-linux", "cp39-abi3-linux"},
        ),
    ],
)
def test_wanted_wheels_per_target(targets, expected):
    assert {key for key, name in WHEELS.items() if wanted(name, targets)} == expected


def test_sdists_are_always_wanted():
    assert wanted("demo-1.0.tar.gz", [Target("3.11", "windows")])


def test_targets_are_every_combination():
    assert targets_of(["3.11", "3.12"], ["linux"]) == [
        Target("3.11", "linux"),
        Target("3.12", "linux"),
    ]
    assert targets_of([], []) == []


@pytest.mark.parametrize(("python", "platform"), [("3", None), ("py3.11", None), (None, "beos")])
def test_targets_invalid(python, platform):
    with pytest.raises(ValueError, match="expected"):
        Target(python, platform)


def test_pins_of_a_universal_resolution():
    text = (
        "colorama==0.4.6 ; sys_platform == 'win32'\n"
        "demo-dep==0.2.0\n"
        "    # via demo-pkg\n"
        "Demo_Pkg==1.0.0\n"
        "-e file:///src/thing\n"
        "tzdata>=2024 ; sys_platform == 'win32'\n"
    )
    assert parse_pins(text) == [
        Pin("colorama", "0.4.6"),
        Pin("demo-dep", "0.2.0"),
        Pin("demo-pkg", "1.0.0"),
    ]
