"""Benchmarks and the ASL conformance runner (``python -m benchmarks.conformance``)."""
