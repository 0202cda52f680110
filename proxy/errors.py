"""The proxy's exception tree and the one table that maps it to HTTP statuses.

    PipgateError
    ├── InvalidProjectName          404  the name can never be a project
    ├── UnknownIndex                404  no index is configured under that path
    ├── FileNotListed               404  the project page has no such file
    ├── UpstreamError
    │   ├── UpstreamNotFound        404  upstream says the project does not exist
    │   ├── UpstreamUnavailable     502  5xx, connection error, unusable answer
    │   │   └── CircuitOpen         502  not asked: its origin keeps failing (Retry-After)
    │   ├── UpstreamTimeout         504  no answer in time
    │   ├── IntegrityError          502  file bytes do not match the index's hash
    │   └── OriginRefused           502  a URL or redirect outside the allowed origins
    ├── StorageError                503  the data directory refused a write nothing can do without
    │   └── StoreUnavailable        503  a store cannot be used now: disk full, database or object
    │                                    store down (with Retry-After); nothing was done
    ├── TooManyDownloads            503  a download cap is reached (with Retry-After)
    ├── TooManyRefusals             429  a client refused too often lately (with Retry-After)
    ├── ReviewError                 400  a review action that cannot be done (bad input)
    │   ├── NotFound                404  no such entry, rule or session
    │   ├── Conflict                409  already so (a rule already on the list)
    │   └── UnsupportedMediaType    415  an admin API body that is not JSON
    └── AdminApiError                    (the CLI) a running pipgate's admin API refused
                                         (401, 403, ...) or could not be reached

The storage layer raises these without knowing HTTP; the views, the admin API and the
console answer ``status_code`` (this table is the only place that says which), and the
CLI's HTTP client turns an answer back into the same exception (``from_status``).

A policy refusal is not an error: views answer it with a 403 of its own.
Every message names the thing it is about (project, file, URL without credentials).
Foreign errors (httpx, parsing) are translated at the edge with ``raise ... from``.
"""

from __future__ import annotations


class PipgateError(Exception):
    """Base of every error the proxy answers with a status of its own."""

    status_code = 500

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        #: Seconds the client should wait before asking again, when that is known.
        self.retry_after = retry_after

    @property
    def response_headers(self) -> dict[str, str]:
        """Headers the answer carries besides the status (``Retry-After``)."""
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


class InvalidProjectName(PipgateError):
    status_code = 404


class UnknownIndex(PipgateError):
    status_code = 404


class FileNotListed(PipgateError):
    status_code = 404


class UpstreamError(PipgateError):
    status_code = 502


class UpstreamNotFound(UpstreamError):
    status_code = 404


class UpstreamUnavailable(UpstreamError):
    status_code = 502


class CircuitOpen(UpstreamUnavailable):
    """Refused without asking upstream: its origin's circuit is open (``circuit.py``)."""


class UpstreamTimeout(UpstreamError):
    status_code = 504


class IntegrityError(UpstreamError):
    status_code = 502


class OriginRefused(UpstreamError):
    """Not fetched: the URL is not on an allowed origin (``origins.py``).

    ``reason`` is ``origin`` (a URL from a page) or ``redirect`` (a redirect hop).
    """

    status_code = 502

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class StorageError(PipgateError):
    status_code = 503


class StoreUnavailable(StorageError):
    """A store cannot be used now (disk full, read-only, locked; PostgreSQL or the object
    store unreachable). Nothing was done; the same request may succeed later."""

    status_code = 503

    @property
    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": "30"}


class ReviewError(PipgateError):
    """A review action that cannot be done; the message says why."""

    status_code = 400


class NotFound(ReviewError):
    status_code = 404


class Conflict(ReviewError):
    status_code = 409


class UnsupportedMediaType(ReviewError):
    status_code = 415


class TooManyDownloads(PipgateError):
    status_code = 503


class TooManyRefusals(PipgateError):
    """Refusals may each become a quarantine entry and a chat message: a client refused
    too often lately is asked to slow down (``[admin] hold_limit``) instead."""

    status_code = 429


class AdminApiError(PipgateError):
    """What the CLI's HTTP client raises for an admin API answer no other error names
    (no or wrong token, scope too small) and when the server cannot be reached."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        #: The answer's status; ``None`` when no answer came.
        self.status = status


#: The errors an admin API answer names by its status (the others: ``AdminApiError``).
_BY_STATUS: dict[int, type[PipgateError]] = {
    cls.status_code: cls
    for cls in (ReviewError, NotFound, Conflict, UnsupportedMediaType, StoreUnavailable)
}


def from_status(status: int, message: str) -> PipgateError:
    """The error an admin API answer of ``status`` stands for, with ``message``."""
    cls = _BY_STATUS.get(status)
    return cls(message) if cls is not None else AdminApiError(message, status=status)
