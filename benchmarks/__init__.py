"""Benchmarks: ``pipgate_bench.py`` (pipgate alone) and ``compare.py`` (side by side)."""
