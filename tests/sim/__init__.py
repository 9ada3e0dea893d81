"""Helpers for the Sim API tests: servers with keys and rate limits, workflows, the 0.1.x venv."""
