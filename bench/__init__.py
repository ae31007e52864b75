"""Benchmarks run on demand (never by the test suite); see docs/benchmarks.md.

Each measurement is one module with a command line (``python -m bench.indexing`` ...) that
prints a Markdown table and saves the raw numbers as JSON under ``bench/results/``.
"""
