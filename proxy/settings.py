"""The one place that reads configuration: TOML file, environment, command line.

Precedence, lowest first: built-in defaults < ``--config`` TOML file <
``PIPGATE_*`` environment variables < command-line flags. No configuration at
all is valid: upstream PyPI, data under ``./pipgate-data``, loopback only,
typosquat and release-age policies on.

Environment: ``PIPGATE_CONFIG``, ``PIPGATE_HOST``, ``PIPGATE_PORT``,
``PIPGATE_UPSTREAM``, ``PIPGATE_DATA_DIR``, and any key as
``PIPGATE_<SECTION>__<KEY>`` (``PIPGATE_CACHE__INDEX_TTL=5m``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipgate.policies.durations import parse_duration


class SettingsError(ValueError):
    """Configuration that cannot be used; the message names the source and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"expected a duration such as '10m' or '7d', got {value!r}")


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_size(value: Any) -> int:
    """``"20GB"``, ``"512MiB"``, ``"1.5G"`` or an int of bytes, to bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"expected a size such as '20GB' or '512MiB', got {value!r}")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    base = 1024 if "i" in unit else 1000
    power = "_kmgt".find(unit[:1]) if unit[:1] in "kmgt" and unit else 0
    return int(number * (base**power if power > 0 else 1))


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Address to listen on; loopback by default.")
    port: int = Field(8080, ge=0, le=65535)
    access_log: bool = True
    log_level: str = "info"
    trust_forwarded: bool = Field(
        False, description="Take the client address from X-Forwarded-For (behind a proxy)."
    )


class UpstreamSettings(_Section):
    url: str = Field("https://pypi.org/simple/", description="Upstream simple index URL.")
    timeout: timedelta = Field(timedelta(seconds=30), description="Read timeout per request.")
    connect_timeout: timedelta = timedelta(seconds=10)
    retries: int = Field(2, ge=0, le=10)
    backoff: timedelta = timedelta(milliseconds=250)

    _durations = field_validator("timeout", "connect_timeout", "backoff", mode="before")(
        staticmethod(_duration)
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"upstream url must be http:// or https://, got {value!r}")
        return value if value.endswith("/") else value + "/"


class CacheSettings(_Section):
    data_dir: Path = Field(Path("pipgate-data"), description="Where caches and logs live.")
    index_ttl: timedelta = Field(timedelta(minutes=10), description="How long a page is fresh.")
    negative_ttl: timedelta = Field(timedelta(minutes=1), description="How long a 404 is kept.")
    max_size: int = Field(20 * 10**9, description="File cache size limit; LRU eviction above.")
    memory_pages: int = Field(256, ge=1, description="Parsed pages kept in memory.")

    _durations = field_validator("index_ttl", "negative_ttl", mode="before")(
        staticmethod(_duration)
    )

    @field_validator("max_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> int:
        return parse_size(value)


class IndexSettings(_Section):
    """A named index served at ``/<name>/simple/`` sharing the one cache.

    ``policies`` is merged over the top-level ``[policies]`` table.
    """

    policies: dict[str, Any] = Field(default_factory=dict)
    projects: list[str] = Field(
        default_factory=list, description="Names listed on /simple/ even before first use."
    )


class AdminToken(_Section):
    """One admin credential; only the SHA-256 of the token is configured (``pipgate token hash``)."""

    name: str = Field(
        min_length=1, description="Who acts with this token (shown in the audit log)."
    )
    sha256: str = Field(description="Hex SHA-256 of the token.")
    scope: Literal["admin", "read", "install"] = Field(
        "read",
        description="admin: review and act; read: list and show; install: package routes only.",
    )

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        value = value.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ValueError("sha256 must be 64 hex digits; make it with 'pipgate token hash'")
        return value


class AdminSettings(_Section):
    """``[admin]``: the review API and console, and optional auth for the package routes."""

    tokens: tuple[AdminToken, ...] = Field((), description="Without tokens, /-/admin/ refuses all.")
    package_auth: bool = Field(
        False, description="Require a token (HTTP basic password or bearer) on package routes."
    )
    webhook_url: str | None = Field(None, description="POSTed a JSON message per new hold.")
    webhook_retries: int = Field(3, ge=0, le=10)
    session_secret: str | None = Field(
        None, description="Signs console sessions; random per start when unset."
    )
    session_ttl: timedelta = Field(timedelta(hours=12), description="Console login lifetime.")
    secure_cookie: bool = Field(
        False,
        description="Always mark the console cookie Secure (TLS terminated in front of pipgate); "
        "otherwise it is Secure when the request itself is https.",
    )

    _durations = field_validator("session_ttl", mode="before")(staticmethod(_duration))

    @field_validator("tokens")
    @classmethod
    def _unique_names(cls, value: tuple[AdminToken, ...]) -> tuple[AdminToken, ...]:
        names = [token.name for token in value]
        if len(set(names)) != len(names):
            raise ValueError("token names must be unique")
        return value


class Settings(_Section):
    server: ServerSettings = ServerSettings()
    upstream: UpstreamSettings = UpstreamSettings()
    cache: CacheSettings = CacheSettings()
    policies: dict[str, Any] = Field(default_factory=dict)
    indexes: dict[str, IndexSettings] = Field(default_factory=dict)
    admin: AdminSettings = AdminSettings()
    source: str = "defaults"

    @field_validator("indexes")
    @classmethod
    def _index_names(cls, value: dict[str, IndexSettings]) -> dict[str, IndexSettings]:
        for name in value:
            if name != "default" and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
                raise ValueError(f"index name {name!r} must be lowercase letters, digits, - or _")
            if name in {"simple", "files", "-", "healthz", "readyz", "metrics"}:
                raise ValueError(f"index name {name!r} is reserved")
        return value

    @property
    def index_names(self) -> list[str]:
        return ["default", *(n for n in self.indexes if n != "default")]

    def index_policies(self, index: str) -> dict[str, Any]:
        """The policy table for ``index``: ``[policies]`` deep-merged with its own."""
        own = self.indexes.get(index)
        return deep_merge(self.policies, own.policies if own else {})


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_ENV_SHORTCUTS = {
    "PIPGATE_HOST": ("server", "host"),
    "PIPGATE_PORT": ("server", "port"),
    "PIPGATE_UPSTREAM": ("upstream", "url"),
    "PIPGATE_DATA_DIR": ("cache", "data_dir"),
}


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for var, value in environ.items():
        if var in _ENV_SHORTCUTS:
            path: tuple[str, ...] = _ENV_SHORTCUTS[var]
        elif var.startswith("PIPGATE_") and "__" in var:
            path = tuple(part.lower() for part in var[len("PIPGATE_") :].split("__"))
        else:
            continue
        node = layer
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return layer


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read every configuration layer and validate the result.

    ``overrides`` is the command-line layer, shaped like the TOML file
    (``{"server": {"port": 9000}}``). Raises ``SettingsError`` naming the file
    and key on any problem, policy tables included.
    """
    environ = os.environ if environ is None else environ
    config_file = config_file or environ.get("PIPGATE_CONFIG")
    layers: dict[str, Any] = {}
    source = "defaults"
    if config_file:
        path = Path(config_file)
        try:
            layers = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"configuration file {str(path)!r} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"cannot read configuration file {str(path)!r}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(
                f"configuration file {str(path)!r} is not valid TOML: {exc}"
            ) from exc
        source = str(path)
    layers = deep_merge(layers, _from_environment(environ))
    layers = deep_merge(layers, overrides or {})
    layers["source"] = source
    try:
        settings = Settings.model_validate(layers)
    except ValidationError as exc:
        raise SettingsError(f"invalid configuration ({source}):\n{_describe(exc)}") from exc
    for index in settings.index_names:
        validate_policies(settings, index)
    return settings


def validate_policies(settings: Settings, index: str) -> Any:
    """The validated policy settings of ``index`` (``proxy.policy_settings.PolicySettings``)."""
    from .policy_settings import PolicySettings

    try:
        return PolicySettings.model_validate(settings.index_policies(index))
    except ValidationError as exc:
        where = "[policies]" if index == "default" else f"[indexes.{index}.policies]"
        raise SettingsError(
            f"invalid configuration ({settings.source}) in {where}:\n{_describe(exc)}"
        ) from exc


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"])
        lines.append(f"  {location}: {error['msg']} (got {error.get('input')!r})")
    return "\n".join(lines)
