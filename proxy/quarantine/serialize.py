"""The one JSON shape of the review records, both ways.

``to_json`` is what the admin API answers, the webhook sends and the CLI prints
with ``--json``; ``from_json`` reads it back into the same typed values, so the
CLI's HTTP client returns exactly what ``Review`` returns in-process. A
dataclass becomes an object with its fields as keys, a ``datetime`` an ISO 8601
string in UTC (``2026-03-01T12:00:00Z``), a tuple a list. The console renders
the records themselves and formats times with ``when``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, Union

from pipgate.proxy.errors import ReviewError
from pipgate.proxy.quarantine.records import utc_text

T = TypeVar("T")


def to_json(value: Any) -> Any:
    """``value`` (a record, or a list or dict of them) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def from_json(cls: type[T], data: Any) -> T:
    """The record of type ``cls`` that ``data`` (``to_json``'s output) describes.

    Unknown keys are ignored; a missing or mistyped field is a ``ReviewError``.
    """
    return _read(cls, data, cls.__name__)  # type: ignore[no-any-return]


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _read(kind: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        options = typing.get_args(kind)
        if data is None and type(None) in options:
            return None
        (kind,) = [o for o in options if o is not type(None)]
        return _read(kind, data, where)
    if dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise ReviewError(f"{where}: expected an object, got {type(data).__name__}")
        hints = _hints(kind)  # type: ignore[arg-type]
        values = {}
        for f in dataclasses.fields(kind):
            if f.name in data:
                values[f.name] = _read(hints[f.name], data[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ReviewError(f"{where}: {f.name!r} is missing")
        return kind(**values)
    if origin is tuple or origin is list:
        (item, *_) = typing.get_args(kind)
        if not isinstance(data, list):
            raise ReviewError(f"{where}: expected a list, got {type(data).__name__}")
        items = [_read(item, v, f"{where}[{i}]") for i, v in enumerate(data)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(data, dict):
            raise ReviewError(f"{where}: expected an object, got {type(data).__name__}")
        return data
    if kind is datetime:
        if not isinstance(data, str):
            raise ReviewError(f"{where}: expected a time, got {data!r}")
        try:
            return datetime.fromisoformat(data)
        except ValueError:
            raise ReviewError(f"{where}: {data!r} is not an ISO 8601 time") from None
    if kind is Any:
        return data
    if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
        raise ReviewError(f"{where}: expected {kind.__name__}, got {data!r}")
    return data
