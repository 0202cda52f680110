"""pipgate: a Simple Repository API proxy that judges every project and file."""

__version__ = "0.1.0"
