"""Benchmarks (issue 4, DESIGN 10): run each script with one command, see docs/performance.md."""
