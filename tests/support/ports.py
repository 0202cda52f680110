"""Free TCP ports on loopback that a server can keep across a restart.

The kernel hands out ephemeral ports (``/proc/sys/net/ipv4/ip_local_port_range``,
usually 32768-60999) to outgoing connections, so a port taken from that range can be
grabbed by some client while its server is down for a restart. ``free_port`` picks from
below the range instead, where only a deliberate ``bind`` can take it.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

#: The lowest port handed out; below it lie well-known and registered services.
LOWEST = 10_000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_start() -> int:
    """The first port of the kernel's ephemeral range (32768 where it cannot be read)."""
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a listening socket could bind ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(
    *,
    offsets: tuple[int, ...] = (0,),
    below: int | None = None,
    avoid: set[int] | frozenset[int] = frozenset(),
    host: str = "127.0.0.1",
    attempts: int = 500,
) -> int:
    """A port ``p`` such that every ``p + offset`` is free on ``host`` and below ``below``.

    ``below`` defaults to the start of the ephemeral range. ``offsets=(0, 10000)`` asks for
    a port whose ``+10000`` companion is free too (SeaweedFS's gRPC port). Ports in
    ``avoid`` (and their offsets) are never returned, so several calls can build a set.
    Nothing is reserved: another process may still bind the port before its server does.
    Raises ``RuntimeError`` after ``attempts`` tries.
    """
    limit = ephemeral_start() if below is None else below
    top = limit - max(offsets)
    if top <= LOWEST:
        raise RuntimeError(f"no room for ports with offsets {offsets} below {limit}")
    rng = random.SystemRandom()
    for _ in range(attempts):
        port = rng.randrange(LOWEST, top)
        wanted = [port + offset for offset in offsets]
        if any(p in avoid for p in wanted):
            continue
        if all(is_free(p, host) for p in wanted):
            return port
    raise RuntimeError(f"no free port with offsets {offsets} on {host} below {limit}")
