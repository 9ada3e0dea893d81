"""jsonata-js's error messages for jsonata-python's errors, and the tail AWS writes after
"threw an error during evaluation"."""
from __future__ import annotations

import re
from typing import Any, Final

from jsonata.jexception import JException  # type: ignore[import-untyped]

from engine.asl.jsonata._values import _js_json


class _FunctionError(Exception):
    """A failure inside one of AWS's extra functions; str() is the whole message."""


_PLACEHOLDER = re.compile(r"\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}")


# jsonata-python took its messages from a Java port that renamed "function" to "Object".
_JS_WORDING: Final = re.compile(r"\bObject\b")
# jsonata-js names the wanted item type of T0412 in plural words.
_ARRAY_ITEM_TYPES: Final = {"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects", "s": "strings"}


def _error_message(err: JException) -> str:
    """The message jsonata-js gives for ``err``: ``{{x}}`` as JSON text, ``{{{x}}}`` raw."""
    template = JException.error_codes.get(err.error)
    if template is None:
        return str(err)
    # jsonata-js quotes words inside its messages with ' (jsonata-python with ").
    template = _JS_WORDING.sub("function", template).replace('"', "'")
    args = [err.current, err.expected] + ([err.extra] if err.extra is not None else [])
    if err.error == "T0412" and isinstance(err.extra, str):
        args[2] = _ARRAY_ITEM_TYPES.get(err.extra[:1], err.extra)
    elif err.error == "D1002":  # jsonata-python passes (operator, operand)
        args = [err.expected]
    elif err.error == "D3100":  # jsonata-python passes the radix as the position
        args = [err.location]
    position = iter(range(len(args)))

    def fill(match: re.Match[str]) -> str:
        index = next(position, None)
        value = args[index] if index is not None else None
        if match.group(1) is not None:
            return "" if value is None else str(value)
        return _js_stringify(value)

    return _PLACEHOLDER.sub(fill, template)


def _js_stringify(value: Any) -> str:
    if value is None:
        return "undefined"
    return _js_json(value, None, replacer=False)


def _evaluation_failure(err: Exception) -> str:
    """The tail after "threw an error during evaluation": AWS writes ``. CODE: message`` for a
    JSONata error and ``: message`` for one without a code."""
    if isinstance(err, JException) and err.error in JException.error_codes:
        return f". {err.error}: {_error_message(err)}"
    if isinstance(err, _FunctionError):
        return f": {err}"
    # Some jsonata-python functions raise a bare message (JException(message), RuntimeError):
    # give it the code of the jsonata-js message it spells.
    message = err.error if isinstance(err, JException) else str(err)
    code = _code_of(message)
    if code is not None:
        return f". {code}: {message}"
    return f": {type(err).__name__}: {err}"


def _code_of(message: str) -> str | None:
    plain = message.replace("'", '"')
    for code, pattern in _MESSAGE_PATTERNS:
        if pattern.fullmatch(plain):
            return str(code)
    return None


def _message_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{\{\{?\w+\}?\}\}", _JS_WORDING.sub("function", template).replace("'", '"'))
    return re.compile(".*?".join(re.escape(part) for part in parts), re.IGNORECASE)


_MESSAGE_PATTERNS: Final = tuple(
    (code, _message_pattern(template))
    for code, template in JException.error_codes.items()
    if template.strip("{}") != "message"
)

