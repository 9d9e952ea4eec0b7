"""Benchmarks and load tests (run with `python -m benchmarks.<name>`)."""
