"""Real servers on real loopback ports, for end-to-end tests and benchmarks.

``run_app`` serves an ASGI app with uvicorn in a background thread; ``run_process``
starts a server as a subprocess in its own process group. Both wait until the server
answers before yielding and stop it on exit, even when the body raised.
``client_env`` gives pip and uv an environment that ignores this machine's config.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from starlette.types import ASGIApp


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@contextmanager
def run_app(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    startup_timeout: float = 10.0,
    log_level: str = "warning",
) -> Iterator[str]:
    """Serve ``app`` under uvicorn on ``host`` and yield its base URL, ``http://host:port``.

    ``port=0`` picks a free port; the URL carries the port actually bound. The app's
    lifespan runs (when it has one). Raises ``RuntimeError`` if the server does not start
    within ``startup_timeout`` seconds. On exit the server stops, waiting at most a second
    for in-flight requests (a hanging request is cut off, not waited for).
    """
    with run_uvicorn(
        app, host, port, startup_timeout=startup_timeout, log_level=log_level
    ) as served:
        yield served.url


@dataclass(frozen=True)
class ServedApp:
    """``run_uvicorn``'s server: ``server.server_state.connections`` are its open
    connections (each with its ``transport``), for tests that look at what it buffers."""

    url: str
    server: uvicorn.Server


class PromptServer(uvicorn.Server):
    """uvicorn's server, stopping as soon as it can: tests start and stop hundreds.

    uvicorn looks at ``should_exit`` every 0.1 s, and when stopping pauses 0.1 s for
    connections to close, then polls connections and tasks every 0.1 s. Here
    ``stop()`` wakes the main loop at once and those waits poll every 5 ms; the steps
    of stopping (stop listening, shut connections, wait for them and their tasks up
    to ``timeout_graceful_shutdown`` then cancel, the lifespan's shutdown) are uvicorn's.
    """

    _POLL = 0.005

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def stop(self) -> None:
        """Ask the server to stop (from any thread)."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # the loop has already closed
                pass

    async def main_loop(self) -> None:
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            try:
                await asyncio.wait_for(self._wake.wait(), 0.1)
            except TimeoutError:
                pass
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        try:
            await asyncio.wait_for(self._settled(), timeout=self.config.timeout_graceful_shutdown)
        except TimeoutError:
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _settled(self) -> None:
        while self.server_state.connections or self.server_state.tasks:
            await asyncio.sleep(self._POLL)
        for server in self.servers:
            await server.wait_closed()


@contextmanager
def run_uvicorn(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    startup_timeout: float = 10.0,
    log_level: str = "warning",
) -> Iterator[ServedApp]:
    """``run_app``, yielding the uvicorn server along with the URL."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="auto",
        timeout_graceful_shutdown=1,
        access_log=False,
    )
    server = PromptServer(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{host}:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.stop()
            thread.join(5)
            raise RuntimeError(f"uvicorn did not start on {host}:{port}")
        time.sleep(0.005)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield ServedApp(f"http://{_url_host(host)}:{bound}", server)
    finally:
        server.stop()
        thread.join(10)


@dataclass(frozen=True)
class RunningProcess:
    """A started server process; ``url`` is the URL it printed, else the ready URL."""

    popen: subprocess.Popen[bytes]
    url: str
    stdout_path: Path
    stderr_path: Path

    def output(self) -> str:
        """Everything the process wrote so far, stdout then stderr, for failure messages."""
        return _read(self.stdout_path) + _read(self.stderr_path)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


@contextmanager
def run_process(
    argv: Sequence[str],
    ready_url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    url_line_prefix: str | None = None,
    timeout: float = 60.0,
) -> Iterator[RunningProcess]:
    """Start ``argv`` in a new process group and yield once it answers HTTP.

    Readiness: when ``url_line_prefix`` is given (e.g. ``"FAKE_UPSTREAM_URL="``), the
    process must print a stdout line starting with it; the rest of that line is the URL.
    Then ``ready_url`` (or that printed URL) is polled until it answers with any status
    below 500. ``env`` replaces the environment entirely (see ``client_env``); ``None``
    inherits it. Output goes to temporary files, shown in the ``RuntimeError`` raised if
    the process exits or ``timeout`` passes before it is ready. On exit the whole process
    group gets SIGTERM, then SIGKILL after 5 seconds.
    """
    if ready_url is None and url_line_prefix is None:
        raise ValueError("run_process needs ready_url or url_line_prefix")
    with tempfile.TemporaryDirectory(prefix="pipgate-proc-") as tmp:
        out_path, err_path = Path(tmp, "stdout"), Path(tmp, "stderr")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            popen = subprocess.Popen(
                list(argv),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=None if env is None else dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        try:
            url = _wait_ready(popen, ready_url, url_line_prefix, out_path, err_path, timeout)
            yield RunningProcess(popen, url, out_path, err_path)
        finally:
            _stop_group(popen)


def _wait_ready(
    popen: subprocess.Popen[bytes],
    ready_url: str | None,
    prefix: str | None,
    out_path: Path,
    err_path: Path,
    timeout: float,
) -> str:
    """Return the printed URL (when ``prefix`` is given) or ``ready_url``, once ready."""
    deadline = time.monotonic() + timeout
    printed: str | None = None
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while True:
            if popen.poll() is not None:
                raise RuntimeError(
                    f"{popen.args!r} exited with {popen.returncode} before it was ready:\n"
                    + _read(out_path)
                    + _read(err_path)
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{popen.args!r} not ready after {timeout} s:\n"
                    + _read(out_path)
                    + _read(err_path)
                )
            if prefix is not None and printed is None:
                printed = _printed(out_path, prefix)
                if printed is None:
                    time.sleep(0.02)
                    continue
            url = printed or ready_url
            assert url is not None
            try:
                if client.get(ready_url or url).status_code < 500:
                    return url
            except httpx.TransportError:
                pass
            time.sleep(0.05)


def _printed(path: Path, prefix: str) -> str | None:
    for line in _read(path).splitlines():
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    return None


def _stop_group(popen: subprocess.Popen[bytes]) -> None:
    if popen.poll() is not None:
        return
    try:
        os.killpg(popen.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        popen.wait(5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        popen.wait(5)


#: Variables that would point pip or uv at this machine's indexes, caches or constraints.
_CLIENT_VAR_PREFIXES = ("PIP_", "UV_")


def client_env(base: Mapping[str, str] | None = None, **overrides: str) -> dict[str, str]:
    """An environment for running real pip/uv against only the index a test names.

    Starts from ``base`` (default ``os.environ``), drops every ``PIP_*`` and ``UV_*``
    variable (the machine's find-links, extra indexes and constraints), sets
    ``PIP_CONFIG_FILE=/dev/null``, ``PIP_DISABLE_PIP_VERSION_CHECK=1`` and
    ``UV_NO_CONFIG=1``, then applies ``overrides``. Tests still pass ``--no-cache-dir`` /
    ``--no-cache`` (or a temporary cache dir) themselves.
    """
    env = {
        key: value
        for key, value in (os.environ if base is None else base).items()
        if not key.startswith(_CLIENT_VAR_PREFIXES)
    }
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", UV_NO_CONFIG="1")
    env.update(overrides)
    return env


def wait_until_stored(url: str, timeout: float = 10.0) -> None:
    """Return once pipgate answers ``url`` (a file) from its store.

    A client is answered as soon as the downloaded file is verified; the file is kept
    (moved into the store, metadata extracted) just after, so a request that follows at
    once may still be served from the download."""
    deadline = time.monotonic() + timeout
    while (seen := httpx.head(url).headers.get("x-pipgate-cache")) != "hit":
        assert time.monotonic() < deadline, f"{url} is not stored: x-pipgate-cache {seen}"
        time.sleep(0.01)
