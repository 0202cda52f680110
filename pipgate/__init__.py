"""pipgate: a PyPI Simple Repository API proxy that judges every project and file.

The repository keeps the server in ``proxy/`` and the pure decisions in
``policies/``; they are installed as ``pipgate.proxy`` and ``pipgate.policies``
(``pipgate/proxy`` and ``pipgate/policies`` are links to those folders), so
pipgate claims no top-level import name but its own.
"""

__version__ = "0.1.0"
