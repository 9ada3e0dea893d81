"""The conformance runner's parts: case loading, comparison, in-process and endpoint runs.

``benchmarks/conformance.py`` is the command line; see its docstring for usage.
"""
