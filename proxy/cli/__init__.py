"""The ``pipgate`` command line."""
