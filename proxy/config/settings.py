"""The one place that reads configuration: TOML file, environment, command line.

Precedence, lowest first: built-in defaults < ``--config`` TOML file <
``PIPGATE_*`` environment variables < command-line flags. No configuration at
all is valid: upstream PyPI, data under ``./pipgate-data``, loopback only,
typosquat and release-age policies on.

Environment: ``PIPGATE_CONFIG``, ``PIPGATE_HOST``, ``PIPGATE_PORT``,
``PIPGATE_UPSTREAM``, ``PIPGATE_DATA_DIR``, and any key as
``PIPGATE_<SECTION>__<KEY>`` (``PIPGATE_CACHE__INDEX_TTL=5m``). A value that
starts with ``[`` or ``{`` is JSON, so lists and tables can be set too
(``PIPGATE_POLICIES__DEPENDENCY_CONFUSION__INTERNAL='["corp-*"]'``).

Every error names where the bad value came from: the file, the environment
variable or the command line.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from pipgate.policies.durations import duration_spec, parse_duration
from pipgate.policies.names import BadProjectName, project_name
from pipgate.proxy.upstream.origins import default_file_hosts, parse_origin

#: The name of the ``[upstream]`` table among an index's ``sources``.
PUBLIC_UPSTREAM = "pypi"


class SettingsError(ValueError):
    """Configuration that cannot be used; the message names the source and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def to_duration(value: Any) -> timedelta:
    """The one reader of durations in configuration: ``"30s"``, ``"7d"``, ``"250ms"``, ``0``.

    A number other than zero is refused, whether it comes as a TOML number or
    as the text of an environment variable: ``7`` could be seconds or days.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value == 0:
            return timedelta(0)
        raise ValueError(
            f"invalid duration {value!r}: write it with a unit, such as '{value}s' or '{value}d'"
        )
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            if re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
                raise ValueError(
                    f"invalid duration {value!r}: write it with a unit, "
                    f"such as '{value.strip()}s' or '{value.strip()}d'"
                ) from None
            raise
    raise ValueError(f"invalid duration {value!r}: expected a duration such as '10m' or '7d'")


#: A duration: ``"7d"``, ``"36h"``, ``"90m"``, ``"250ms"``, ``"2d12h"`` or ``0``.
Duration = Annotated[
    timedelta, BeforeValidator(to_duration), PlainSerializer(duration_spec, when_used="json")
]


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


def format_size(size: int) -> str:
    """``size`` bytes for people: ``"3.2 MB"``, ``"1.0 GB"``."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Address to listen on; loopback by default.")
    port: int = Field(8080, ge=0, le=65535)
    access_log: bool = True
    log_level: str = "info"
    log_format: Literal["text", "json"] = Field(
        "text", description="text: one escaped line per record; json: one JSON object per line."
    )
    trust_forwarded: bool = Field(
        False, description="Take the client address from X-Forwarded-For (behind a proxy)."
    )
    max_downloads: int = Field(
        512, ge=1, description="File downloads in progress at once; more get 503 + Retry-After."
    )
    max_downloads_per_client: int = Field(
        64, ge=1, description="File downloads in progress at once from one client address."
    )


class UpstreamSettings(_Section):
    url: str = Field("https://pypi.org/simple/", description="Upstream simple index URL.")
    timeout: Duration = Field(timedelta(seconds=30), description="Read timeout per request.")
    connect_timeout: Duration = timedelta(seconds=10)
    retries: int = Field(2, ge=0, le=10)
    backoff: Duration = timedelta(milliseconds=250)
    file_hosts: tuple[str, ...] | None = Field(
        None,
        description="Origins (scheme://host[:port]) files, .metadata and provenance may be "
        "fetched from besides the upstream's own. Default: the upstream's origin, plus "
        "https://files.pythonhosted.org when the upstream is pypi.org.",
    )
    breaker_failures: int = Field(
        5, ge=1, description="Failed requests in a row to one host that open its circuit."
    )
    breaker_backoff: Duration = Field(
        timedelta(seconds=10), description="How long an open circuit waits before a probe."
    )
    breaker_max_backoff: Duration = Field(
        timedelta(minutes=5), description="The back-off doubles per failed probe up to this."
    )
    private: bool = Field(
        False,
        description="A private index (another devpi, Artifactory ...): internal names may "
        "be served from it (dependency confusion guards only the public one).",
    )
    username: str | None = Field(
        None, description="HTTP basic auth user, sent to this upstream's origin only."
    )
    password: str | None = Field(
        None,
        description="Its password (PIPGATE_UPSTREAMS__<NAME>__PASSWORD keeps it out of files).",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"upstream url must be http:// or https://, got {value!r}")
        return value if value.endswith("/") else value + "/"

    @field_validator("file_hosts", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        return tuple(parse_origin(host) if isinstance(host, str) else host for host in value)

    @property
    def effective_file_hosts(self) -> tuple[str, ...]:
        """``file_hosts``, or its default for this upstream."""
        return self.file_hosts if self.file_hosts is not None else default_file_hosts(self.url)


class PrivateUpstreamSettings(UpstreamSettings):
    """``[upstreams.<name>]``: another index an index may take projects from (its
    ``sources``); private unless said otherwise. Credentials go in the URL
    (``https://user:password@host/simple/``; never logged)."""

    private: bool = Field(True, description="Internal names may be served from it.")


class CacheSettings(_Section):
    data_dir: Path = Field(Path("pipgate-data"), description="Where caches and logs live.")
    index_ttl: Duration = Field(timedelta(minutes=10), description="How long a page is fresh.")
    negative_ttl: Duration = Field(timedelta(minutes=1), description="How long a 404 is kept.")
    max_size: int = Field(20 * 10**9, description="File cache size limit; LRU eviction above.")
    memory_pages: int = Field(256, ge=1, description="Parsed pages kept in memory.")
    revalidate_wait: Duration = Field(
        timedelta(seconds=1),
        description="How long a request waits for the refresh of a page past its TTL "
        "before it is served the cached copy, marked stale.",
    )
    refresh_backoff: Duration = Field(
        timedelta(seconds=30),
        description="After a failed refresh, the page is served stale without asking upstream.",
    )
    min_free_space: str = Field(
        "1GB",
        description="/readyz fails below this much free space in the data directory "
        "('1GB', or a share of the volume: '5%').",
    )

    @field_validator("max_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> int:
        return parse_size(value)

    @field_validator("min_free_space", mode="before")
    @classmethod
    def _space(cls, value: Any) -> str:
        text = str(value).strip()
        if text.endswith("%"):
            try:
                share = float(text[:-1])
            except ValueError:
                share = -1.0
            if not 0 <= share < 100:
                raise ValueError(f"expected a share of the volume such as '5%', got {value!r}")
            return text
        parse_size(value)
        return text

    def min_free_bytes(self, total: int) -> int:
        """``min_free_space`` in bytes, for a volume of ``total`` bytes."""
        if self.min_free_space.endswith("%"):
            return int(total * float(self.min_free_space[:-1]) / 100)
        return parse_size(self.min_free_space)


class IndexSettings(_Section):
    """A named index served at ``/<name>/simple/`` sharing the one cache.

    ``policies`` is merged over the top-level ``[policies]`` table.
    """

    policies: dict[str, Any] = Field(default_factory=dict)
    projects: list[str] = Field(
        default_factory=list, description="Names listed on /simple/ even before first use."
    )
    hosted: bool = Field(
        False,
        description="Accept uploads (twine, uv publish) at /<name>/ and serve them; "
        "its projects come first among its sources.",
    )
    upload: tuple[str, ...] = Field(
        (),
        description="Names of the tokens (scope upload or admin) that may upload here; "
        "'*': every such token.",
    )
    max_upload_size: int = Field(100 * 10**6, description="Largest file accepted ('100MB').")
    sources: tuple[str, ...] | None = Field(
        None,
        description="Where projects come from, in order; the first that has a name serves "
        "it, alone: hosted index names, 'pypi' (the [upstream]) and [upstreams.<name>]. "
        "Default: this index if hosted, then 'pypi'.",
    )

    @field_validator("max_upload_size", mode="before")
    @classmethod
    def _upload_size(cls, value: Any) -> int:
        return parse_size(value)

    @field_validator("projects")
    @classmethod
    def _project_names(cls, value: list[str]) -> list[str]:
        try:
            return [project_name(name) for name in value]
        except BadProjectName as exc:
            raise ValueError(str(exc)) from None


class AdminToken(_Section):
    """One admin credential; only the SHA-256 of the token is configured (``pipgate token hash``)."""

    name: str = Field(
        min_length=1, description="Who acts with this token (shown in the audit log)."
    )
    sha256: str = Field(description="Hex SHA-256 of the token.")
    scope: Literal["admin", "read", "install", "upload"] = Field(
        "read",
        description="admin: review and act; read: list and show; install: package routes only; "
        "upload: package routes and uploads to the hosted indexes that list it.",
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
    webhook_url: str | None = Field(
        None, description="POSTed one JSON message per interval summarising the new entries."
    )
    webhook_retries: int = Field(3, ge=0, le=10)
    webhook_interval: Duration = Field(
        timedelta(minutes=1),
        description="At most one webhook message per interval; entries in between are batched.",
    )
    hold_limit: float = Field(
        60,
        ge=0,
        description="Refused requests (that may become quarantine entries) a client may make "
        "per minute, after a burst of hold_burst; more get 429 with Retry-After. 0: no limit.",
    )
    hold_burst: int = Field(30, ge=1, description="Refused requests a client may make at once.")
    session_secret: str | None = Field(
        None,
        description="Unused: console sessions are kept server-side in the quarantine store "
        "(accepted so that older configurations still load).",
    )
    session_ttl: Duration = Field(
        timedelta(hours=12), description="Console login lifetime, however active."
    )
    session_idle: Duration = Field(
        timedelta(minutes=30), description="A console session unused this long ends."
    )
    secure_cookie: bool = Field(
        False,
        description="Always mark the console cookie Secure (TLS terminated in front of pipgate); "
        "otherwise it is Secure when the request itself is https.",
    )

    @field_validator("tokens")
    @classmethod
    def _unique_names(cls, value: tuple[AdminToken, ...]) -> tuple[AdminToken, ...]:
        names = [token.name for token in value]
        if len(set(names)) != len(names):
            raise ValueError("token names must be unique")
        return value


class StorageSettings(_Section):
    """``[storage]``: where state and files live. Unset: SQLite and diskcache in the data
    directory (one process). Set: shared stores, and ``data_dir`` is this replica's L1 cache."""

    database: str | None = Field(
        None,
        description="postgresql://user@host:port/dbname: quarantine, rules, audit, sessions, "
        "decision log, shared pages and leases. The password may come from PGPASSWORD.",
    )
    blobs: str | None = Field(
        None,
        description="s3://bucket/prefix: distribution files and metadata. Endpoint, region and "
        "credentials from AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE's static keys).",
    )
    migrate: Literal["auto", "off"] = Field(
        "auto",
        description="auto: bring the database schema up to date at start-up (safe with many "
        "replicas starting at once); off: only check it ('pipgate migrate' does it).",
    )
    lease_ttl: Duration = Field(
        timedelta(seconds=10),
        description="How long a replica's claim on a cold file or page lasts without renewal; "
        "a crashed replica's download is taken over after at most this.",
    )
    pool_size: int = Field(10, ge=1, le=200, description="PostgreSQL connections per process.")
    advertise_url: str | None = Field(
        None,
        description="Where the other replicas reach this one (http://10.0.0.7:8080): they "
        "stream a cold file this replica is fetching from it rather than wait for the object "
        "store. Default: the [server] host and port, for 0.0.0.0 the address the host name "
        "resolves to (the pod's or container's).",
    )

    @field_validator("database")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("database must be a postgresql://user@host:port/dbname URL")
        return value

    @field_validator("blobs")
    @classmethod
    def _s3_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^?#]*)?", value):
            raise ValueError("blobs must be s3://bucket or s3://bucket/prefix")
        return value.rstrip("/")

    @property
    def shared(self) -> bool:
        """Whether this process shares its state with others (PostgreSQL)."""
        return self.database is not None


class Settings(_Section):
    server: ServerSettings = ServerSettings()
    upstream: UpstreamSettings = UpstreamSettings()
    upstreams: dict[str, PrivateUpstreamSettings] = Field(default_factory=dict)
    cache: CacheSettings = CacheSettings()
    policies: dict[str, Any] = Field(default_factory=dict)
    indexes: dict[str, IndexSettings] = Field(default_factory=dict)
    admin: AdminSettings = AdminSettings()
    storage: StorageSettings = StorageSettings()
    source: str = "defaults"
    #: Where each key set by a file, variable or flag came from, for error messages.
    _origins: dict[tuple[str, ...], str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _blobs_need_a_database(self) -> Settings:
        if self.storage.blobs and not self.storage.database:
            raise ValueError(
                "storage.blobs (S3) needs storage.database (PostgreSQL): replicas that share "
                "files must share what was decided about them"
            )
        return self

    @field_validator("indexes")
    @classmethod
    def _index_names(cls, value: dict[str, IndexSettings]) -> dict[str, IndexSettings]:
        for name in value:
            if name != "default" and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
                raise ValueError(f"index name {name!r} must be lowercase letters, digits, - or _")
            if name in {"simple", "files", "-", "healthz", "readyz", "metrics"}:
                raise ValueError(f"index name {name!r} is reserved")
        return value

    @model_validator(mode="after")
    def _sources(self) -> Settings:
        tokens = {t.name: t.scope for t in self.admin.tokens}
        for name in self.upstreams:
            if name == PUBLIC_UPSTREAM or name in self.indexes:
                raise ValueError(
                    f"upstreams.{name}: the name is taken "
                    + ("by [upstream]" if name == PUBLIC_UPSTREAM else f"by index {name!r}")
                )
        for name in self.index_names:
            own = self.indexes.get(name) or IndexSettings()
            for source in self.sources_of(name):
                if source == PUBLIC_UPSTREAM or source in self.upstreams:
                    continue
                target = self.indexes.get(source)
                if target is None or not target.hosted:
                    raise ValueError(
                        f"indexes.{name}.sources: {source!r} is neither a hosted index, "
                        f"{PUBLIC_UPSTREAM!r} nor an [upstreams.<name>] table"
                    )
            if len(set(self.sources_of(name))) != len(self.sources_of(name)):
                raise ValueError(f"indexes.{name}.sources names a source twice")
            if own.upload and not own.hosted:
                raise ValueError(f"indexes.{name}.upload: index {name!r} is not hosted")
            for token in own.upload:
                if token != "*" and tokens.get(token) not in ("upload", "admin"):
                    raise ValueError(
                        f"indexes.{name}.upload: no token named {token!r} with scope "
                        "'upload' or 'admin' in [admin] tokens"
                    )
        return self

    @property
    def index_names(self) -> list[str]:
        return ["default", *(n for n in self.indexes if n != "default")]

    def sources_of(self, index: str) -> tuple[str, ...]:
        """The ordered sources of ``index`` (its ``sources``, or the default)."""
        own = self.indexes.get(index)
        if own is not None and own.sources is not None:
            return own.sources
        hosted = (index,) if own is not None and own.hosted else ()
        return (*hosted, PUBLIC_UPSTREAM)

    def hosted_indexes(self) -> list[str]:
        return [name for name in self.index_names if (i := self.indexes.get(name)) and i.hosted]

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

Path_ = tuple[str, ...]


def _from_environment(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[Path_, str]]:
    """The ``PIPGATE_*`` layer and, for each key it sets, the variable that set it."""
    layer: dict[str, Any] = {}
    origins: dict[Path_, str] = {}
    for var, text in sorted(environ.items()):
        if var in _ENV_SHORTCUTS:
            path: Path_ = _ENV_SHORTCUTS[var]
        elif var.startswith("PIPGATE_") and "__" in var:
            path = tuple(part.lower() for part in var[len("PIPGATE_") :].split("__"))
        else:
            continue
        value: Any = text
        if text.lstrip().startswith(("[", "{")):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SettingsError(
                    f"invalid configuration (environment variable {var}): "
                    f"a value starting with '[' or '{{' must be JSON: {exc}"
                ) from None
        node = layer
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise SettingsError(
                    f"invalid configuration (environment variable {var}): "
                    f"{'.'.join(path[:-1])} is set as a value by another variable"
                )
            node = child
        node[path[-1]] = value
        origins[path] = f"environment variable {var}"
    return layer, origins


def _leaves(table: Mapping[str, Any], prefix: Path_ = ()) -> Iterator[Path_]:
    for key, value in table.items():
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, (*prefix, str(key)))
        else:
            yield (*prefix, str(key))


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read every configuration layer and validate the result.

    ``overrides`` is the command-line layer, shaped like the TOML file
    (``{"server": {"port": 9000}}``). Raises ``SettingsError`` naming the
    source (file, environment variable or command line) and the key of any
    problem, policy tables included.
    """
    environ = os.environ if environ is None else environ
    config_file = config_file or environ.get("PIPGATE_CONFIG")
    layers: dict[str, Any] = {}
    origins: dict[Path_, str] = {}
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
        origins |= dict.fromkeys(_leaves(layers), f"file {source!r}")
    environment, from_env = _from_environment(environ)
    layers = deep_merge(layers, environment)
    origins |= from_env
    layers = deep_merge(layers, overrides or {})
    origins |= dict.fromkeys(_leaves(overrides or {}), "command line")
    layers["source"] = source
    try:
        settings = Settings.model_validate(layers)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, origins, ())) from exc
    settings._origins = origins
    for index in settings.index_names:
        validate_policies(settings, index)
    return settings


def validate_policies(settings: Settings, index: str) -> Any:
    """The validated policy settings of ``index`` (``config.policies.PolicySettings``)."""
    from pipgate.proxy.config.policies import PolicySettings

    try:
        return PolicySettings.model_validate(settings.index_policies(index))
    except ValidationError as exc:
        prefixes: list[Path_] = [("policies",)]
        if index != "default":
            prefixes.insert(0, ("indexes", index, "policies"))
        raise SettingsError(_describe(exc, settings._origins, *prefixes)) from exc


def _describe(exc: ValidationError, origins: Mapping[Path_, str], *prefixes: Path_) -> str:
    """One line per error: where the value came from, its key, what is wrong."""
    lines = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        if not loc:  # a check across sections (index sources, upload tokens)
            lines.append(f"invalid configuration: {error['msg'].removeprefix('Value error, ')}")
            continue
        origin, key = "defaults", loc
        for prefix in prefixes or ((),):
            found = _origin_of((*prefix, *loc), origins)
            if found is not None:
                origin, key = found, (*prefix, *loc)
                break
        else:
            key = (*(prefixes[-1] if prefixes else ()), *loc)
        hint = ""
        if origin.startswith("environment") and error["type"] in ("tuple_type", "list_type"):
            hint = ' (write lists as JSON: \'["a", "b"]\')'
        lines.append(
            f"invalid configuration ({origin}): {'.'.join(key)}: {error['msg']} "
            f"(got {error.get('input')!r}){hint}"
        )
    return "\n".join(lines)


def _origin_of(key: Path_, origins: Mapping[Path_, str]) -> str | None:
    """The source of the value at ``key``: of the nearest enclosing key that was set,
    else of the keys set inside it (a table validated as a whole)."""
    for end in range(len(key), 0, -1):
        if key[:end] in origins:
            return origins[key[:end]]
    inside = dict.fromkeys(o for k, o in origins.items() if k[: len(key)] == key)
    return " and ".join(inside) or None
