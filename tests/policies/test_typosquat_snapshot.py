from datetime import UTC, datetime

import pytest

from pipgate.policies.typosquat_snapshot import (
    Density,
    Presence,
    Snapshot,
    SnapshotError,
    fingerprint,
)

TAKEN = datetime(2026, 11, 1, tzinfo=UTC)
SNAPSHOT = Snapshot.build(
    TAKEN,
    established=["requestx", "numpy-financial"],
    recent=["requezts"],
    targets={"requests": Density(3, 7, 500), "numpy": Density(0, 1, 2)},
)


@pytest.mark.parametrize(
    ("name", "target", "presence"),
    [
        ("requestx", "requests", Presence.ESTABLISHED),
        ("numpy-financial", "numpy", Presence.ESTABLISHED),
        ("requezts", "requests", Presence.RECENT),
        ("requests2", "requests", Presence.ABSENT),
        ("matplotlibx", "matplotlib", Presence.UNKNOWN),  # not covered
        ("requestx", "matplotlib", Presence.ESTABLISHED),  # a listed name is listed
    ],
)
def test_presence(name: str, target: str, presence: Presence) -> None:
    assert SNAPSHOT.presence(name, target) is presence


def test_density_of_covered_names_only() -> None:
    assert SNAPSHOT.density("requests") == Density(3, 7, 500)
    assert SNAPSHOT.density("numpy") == Density(0, 1, 2)
    assert SNAPSHOT.density("matplotlib") is None
    assert SNAPSHOT.covers("numpy") and not SNAPSHOT.covers("matplotlib")


def test_bytes_round_trip() -> None:
    again = Snapshot.from_bytes(SNAPSHOT.to_bytes())
    assert (again.taken, again.established_months, len(again)) == (TAKEN, 3, 3)
    for name, target in [("requestx", "requests"), ("requezts", "requests"), ("x", "numpy")]:
        assert again.presence(name, target) is SNAPSHOT.presence(name, target)
    assert again.density("requests") == Density(3, 7, 500)


def test_densities_are_capped_at_the_field_size() -> None:
    big = Snapshot.build(TAKEN, targets={"django": Density(70000, 0, 99999)})
    assert big.density("django") == Density(65535, 0, 65535)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda b: b"XXXXXXXX" + b[8:], "bad magic"),
        (lambda b: b[:10], "truncated"),
        (lambda b: b[:-1], "truncated"),
        (lambda b: b + b"\0\0", "trailing bytes"),
        (lambda b: b[:10] + b"\x0d" + b[11:], "not a month"),
    ],
)
def test_damaged_bytes_are_refused(mangle, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SnapshotError, match=message):
        Snapshot.from_bytes(mangle(SNAPSHOT.to_bytes()))


def test_without_hides_names_and_shares_the_rest() -> None:
    view = SNAPSHOT.without(["requestx"])
    assert view.presence("requestx", "requests") is Presence.ABSENT
    assert view.presence("requestx", "matplotlib") is Presence.UNKNOWN
    assert view.presence("requezts", "requests") is Presence.RECENT
    assert SNAPSHOT.presence("requestx", "requests") is Presence.ESTABLISHED


@pytest.mark.parametrize(
    ("now", "months"),
    [
        (datetime(2026, 11, 30, tzinfo=UTC), 0),
        (datetime(2027, 1, 2, tzinfo=UTC), 2),
        (datetime(2026, 10, 2, tzinfo=UTC), 0),  # a clock behind the snapshot
    ],
)
def test_months_old(now: datetime, months: int) -> None:
    assert SNAPSHOT.months_old(now) == months


def test_fingerprints_are_stable_across_processes() -> None:
    # Shipped data depends on it: the value must not change between runs or versions.
    assert fingerprint("requests") == 0x39E6A6AA
    assert fingerprint("requests") != fingerprint("requestz")
