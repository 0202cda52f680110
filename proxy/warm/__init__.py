"""``pipgate warm``: resolve requirements through a running pipgate and fetch every
file they need, so the cache holds them before the CI fleet asks (see ``cli/warm.py``)."""
