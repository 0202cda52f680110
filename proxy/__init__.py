"""The server: every piece of I/O pipgate does (HTTP, disk, database). Installed as ``pipgate.proxy``."""

from pipgate import __version__

__all__ = ["__version__"]
