"""The StartExecution input check: AWS parses the input with Jackson and rejects bad JSON.

``parse_execution_input`` returns the input value or raises ``InvalidArgument`` with
kind ``InvalidExecutionInput`` and AWS's message, whose inner text is Jackson's
parser message without its location (AWS: see conformance cases
``test_invalid_start_execution_input``). The reading itself is ``engine.jackson``'s.
"""
from __future__ import annotations

from engine import jackson
from engine.errors import InvalidArgument
from engine.types import JSON

INVALID_EXECUTION_INPUT = "InvalidExecutionInput"
_EMPTY = "Invalid execution input."  # AWS: the empty string; see start_res_empty


def invalid_input_message(reason: str) -> str:
    """AWS's InvalidExecutionInput message around a parser reason."""
    return f"Invalid State Machine Execution Input: '{reason}'"


def parse_execution_input(text: str | None) -> JSON:
    """The execution input value (no input at all is ``{}``); bad JSON raises InvalidArgument."""
    if text is None:
        return {}
    if not text.strip(" \t\r\n"):
        raise _invalid(_EMPTY)
    try:
        return jackson.parse(text, trailing=False)
    except jackson.JsonSyntaxError as err:
        raise _invalid(err.message) from None


def input_error(text: str) -> str | None:
    """Jackson's message for the first syntax error in ``text``, or None when it is valid JSON."""
    if not text.strip(" \t\r\n"):
        return _EMPTY
    try:
        jackson.check(text, trailing=False)
    except jackson.JsonSyntaxError as err:
        return err.message
    return None


def _invalid(reason: str) -> InvalidArgument:
    return InvalidArgument(invalid_input_message(reason), kind=INVALID_EXECUTION_INPUT)
