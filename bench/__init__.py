"""Benchmarks: ratios and counts measured in one run (see bench/README.md)."""
