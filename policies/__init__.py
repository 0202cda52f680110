"""Pure policy decisions for pipgate.

Nothing in this package performs I/O or reads the clock: time, corpora and
upstream facts are passed in. It depends on the standard library and
``packaging`` only, and never imports ``proxy``.
"""
