from datetime import timedelta

import pytest

from pipgate.policies.durations import duration_spec, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("36h", timedelta(hours=36)),
        ("90m", timedelta(minutes=90)),
        ("1w", timedelta(weeks=1)),
        ("2d12h", timedelta(days=2, hours=12)),
        ("2d 12h", timedelta(days=2, hours=12)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        ("0", timedelta(0)),
        ("0d", timedelta(0)),
        (" 14D ", timedelta(days=14)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("7", "whole number followed by a unit"),
        ("d", "whole number followed by a unit"),
        ("-1d", "whole number followed by a unit"),
        ("1.5h", "whole number followed by a unit"),
        ("7x", "unknown unit 'x'"),
        ("7 days", "unknown unit 'days'"),
        ("1h2d", "repeated or out of order"),
        ("1d1d", "repeated or out of order"),
        ("7d ago", "whole number followed by a unit"),
        ("9" * 20 + "w", "too long"),
        (7, "expected a string"),
    ],
)
def test_parse_duration_invalid(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_duration(text)  # type: ignore[arg-type]
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=5, seconds=9), "2 h 5 min"),
        (timedelta(days=6, hours=22, minutes=59), "6 d 22 h"),
        (timedelta(days=1, minutes=5), "1 d"),
        (timedelta(days=14), "14 d"),
        (timedelta(seconds=30, microseconds=900), "30 s"),
        (timedelta(0), "0 s"),
        (timedelta(microseconds=999), "0 s"),
    ],
)
def test_format_duration(value: timedelta, expected: str) -> None:
    assert format_duration(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(days=7), "7d"),
        (timedelta(weeks=2), "14d"),
        (timedelta(days=2, hours=12), "2d12h"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(seconds=61), "1m1s"),
        (timedelta(0), "0"),
    ],
)
def test_duration_spec_round_trips(value: timedelta, expected: str) -> None:
    assert duration_spec(value) == expected
    assert parse_duration(expected) == value


@pytest.mark.parametrize("function", [format_duration, duration_spec])
def test_negative_durations_are_invalid(function) -> None:
    with pytest.raises(ValueError, match="negative"):
        function(timedelta(seconds=-1))
