"""JSONata for ASL: the one adapter around jsonata-python (this package alone imports it).

    expr = compile("{% $states.input.a + $x %}")          # ValueError(jsonata-js message) if invalid
    expr.evaluate({"input": {"a": 1}}, {"x": 2})            # 3 (UNDEFINED when nothing)
    expr.top_level_references()                             # names AWS refuses at the top level
    compile_template({"r": "{% $x %}"}, field="Output").render(states, variables)

``states`` binds as ``$states`` ({input, result?, errorOutput?, context}), each variable as
``$name``. Failures raise ``StatesError("States.QueryEvaluationError", <inner message>)`` with
``.location`` set to the field (``Output/r``, ``Items``, ``Arguments/a[0]``); the interpreter adds
the "An error occurred while executing the state ..." prefix.

Private modules: ``_values`` (JSON in and out, jsonata-js number text), ``_messages`` (jsonata-js
error wording), ``_engine`` (jsonata-js semantics over jsonata-python), ``_functions`` (AWS's
$partition, $range, $hash, $random, $uuid, $parse; no $eval).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from jsonata.jexception import JException  # type: ignore[import-untyped]
from jsonata.jsonata import Jsonata  # type: ignore[import-untyped]

from engine.asl.jsonata._engine import STACK_OVERFLOW, _Engine, bounds
from engine.asl.jsonata._functions import _install_extras
from engine.asl.jsonata._messages import _error_message, _evaluation_failure, _js_stringify
from engine.asl.jsonata._values import UNDEFINED, _compact, _is_integer, _to_json, _to_jsonata, type_name
from engine.errors import ErrorName, StatesError
from engine.types import JSON

__all__ = [
    "UNDEFINED",
    "Expression",
    "Template",
    "compile",
    "compile_template",
    "is_expression",
    "type_name",
]


QUERY_EVALUATION_ERROR: Final = ErrorName.QUERY_EVALUATION_ERROR.value


def is_expression(value: JSON) -> bool:
    """True for a string written ``{% ... %}`` (no space allowed outside the delimiters)."""
    return isinstance(value, str) and len(value) >= 4 and value.startswith("{%") and value.endswith("%}")


def _inner(text: str) -> str:
    return text[2:-2].strip() if is_expression(text) else text.strip()


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True, eq=False)
class Expression:
    """One parsed JSONata expression; ``source`` is the text between ``{%`` and ``%}``, stripped."""

    source: str
    _engine: Jsonata
    variable_names: frozenset[str] = frozenset()
    """Every ``$name`` the expression mentions (``states`` included): only these get bound."""

    def evaluate(
        self,
        states: Mapping[str, JSON],
        variables: Mapping[str, JSON],
        *,
        field: str | None = None,
        now: datetime | None = None,
    ) -> JSON:
        """The value, or UNDEFINED; a failure raises StatesError(QueryEvaluationError).

        ``field`` names the expression's place in messages; ``now`` is what $now()/$millis() see
        (default: the wall clock).
        """
        return self._run(_bindings(states, variables, self.variable_names), field, _millis(now))

    def _run(self, bindings: dict[str, Any], field: str | None, millis: int | None = None) -> JSON:
        # jsonata-python evaluates on the instance last built in this thread ($now, $millis read its
        # clock), so make this expression's engine the current one.
        Jsonata.CURRENT.jsonata = self._engine
        self._engine.fixed_millis = millis
        try:
            raw = self._engine.evaluate(None, {**bindings, **bounds()})
        except RecursionError:
            raise self._failure(field, ": " + STACK_OVERFLOW) from None
        except Exception as err:  # noqa: BLE001 - any library failure is the expression's error
            raise self._failure(field, _evaluation_failure(err)) from None
        return _to_json(raw)

    def _failure(self, field: str | None, detail: str) -> StatesError:
        return _query_error(f"{self._subject(field)} threw an error during evaluation{detail}", field)

    def _subject(self, field: str | None) -> str:
        where = f" specified for the field '{field}'" if field is not None else ""
        return f"The JSONata expression '{self.source}'{where}"

    def top_level_references(self) -> tuple[str, ...]:
        """Field names read from the (absent) context item at the top level, e.g. ``('phone',)``.

        AWS refuses such definitions: ``UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at
        the top level is not supported.`` (one diagnostic per distinct name, in order).
        """
        found: list[str] = []
        _collect_top_level(self._engine.ast, True, found)
        return tuple(dict.fromkeys(found))

    def undefined_error(self, field: str | None) -> StatesError:
        """AWS's error for an expression that returned nothing."""
        return _query_error(f"{self._subject(field)} returned nothing (undefined).", field)

    def type_error(self, field: str | None, expected: str, value: JSON) -> StatesError:
        """AWS's error for a result of the wrong type (``expected`` e.g. 'array')."""
        return _query_error(
            f"{self._subject(field)} returned an unexpected result type. "
            f"Expected '{expected}', but was '{type_name(value)}' for value: {_compact(value)}",
            field,
        )


def _query_error(cause: str, field: str | None) -> StatesError:
    """States.QueryEvaluationError; ``location`` is the field, as EvaluationFailed events name it."""
    error = StatesError(QUERY_EVALUATION_ERROR, cause)
    error.location = field  # type: ignore[attr-defined]
    return error


# Children evaluated against the same context item as their parent node.
_SAME_CONTEXT: Final = ("expression", "procedure", "arguments", "lhs", "rhs", "expressions", "condition", "then", "_else")


def _collect_top_level(node: Any, at_root: bool, found: list[str]) -> None:
    """Walk the AST; a path that starts with a plain name while the context is the root is reported."""
    if isinstance(node, (list, tuple)):
        for item in node:
            _collect_top_level(item, at_root, found)
        return
    kind = getattr(node, "type", None)
    if kind is None or kind == "lambda":
        return  # a lambda's context is its caller's input: not decidable here
    if kind == "path":
        for index, step in enumerate(node.steps):
            _collect_step(step, at_root and index == 0, found)
        _collect_top_level(node.group, False, found)
        return
    if kind == "unary" and node.value == "{":
        for pair in node.lhs_object or ():
            _collect_top_level(list(pair), at_root, found)
    for name in _SAME_CONTEXT:
        _collect_top_level(getattr(node, name, None), at_root, found)
    _collect_top_level(getattr(node, "stages", None), False, found)
    _collect_top_level(getattr(node, "group", None), False, found)


def _collect_step(step: Any, at_root: bool, found: list[str]) -> None:
    if at_root and step.type == "name":
        found.append(str(step.value))
    else:
        _collect_top_level(step, at_root, found)
    for attribute in ("stages", "predicate", "group", "terms"):
        _collect_top_level(getattr(step, attribute, None), False, found)


def compile(text: str) -> Expression:  # noqa: A001 - the contract's name
    """Parse ``{% expr %}`` (or a bare expression) once; ValueError(jsonata-js message) if invalid."""
    source = _inner(text)
    try:
        engine = _Engine(source)
    except JException as err:
        raise ValueError(_error_message(err)) from None
    except KeyError as err:  # jsonata-python's parser looks unknown symbols up unguarded
        raise ValueError(f"Unknown operator: {_js_stringify(err.args[0])}") from None
    except IndexError:  # jsonata-python's tokenizer runs off the end of an open comment
        if "*/" not in source[source.rfind("/*") :]:
            raise ValueError(JException.error_codes["S0106"]) from None
        raise ValueError("Unexpected end of expression") from None
    except Exception as err:  # noqa: BLE001 - any parser failure is a syntax error
        raise ValueError(str(err) or type(err).__name__) from None
    if engine.errors:
        raise ValueError(str(engine.errors[0]))
    engine.set_output_convert_nulls(False)
    _install_extras(engine)
    return Expression(source, engine, _variable_names(engine.ast))


def _variable_names(root: Any) -> frozenset[str]:
    """The names of all variable nodes in the AST (a superset of the free ones; $eval is gone, so
    no name can be reached any other way)."""
    names: set[str] = set()
    seen: set[int] = set()
    pending: list[Any] = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, (list, tuple)):
            pending.extend(node)
        elif hasattr(node, "_outer_instance"):  # a parser Symbol
            if node.type == "variable":
                names.add(str(node.value))
            pending.extend(v for k, v in vars(node).items() if not k.startswith("_outer"))
    return frozenset(names)


# ---------------------------------------------------------------- templates

_TYPE_CHECKS: Final[Mapping[str, Callable[[JSON], bool]]] = {
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: _is_integer(v),
}


@dataclass(frozen=True, slots=True)
class _Leaf:
    expression: Expression
    field: str


@dataclass(frozen=True, slots=True)
class Template:
    """A payload whose ``{% %}`` strings are compiled; everything else is a literal."""

    payload: JSON
    field: str
    result_type: str | None = None
    variable_names: frozenset[str] = frozenset()
    """Every ``$name`` the template's expressions mention: only these get bound."""

    def render(self, states: Mapping[str, JSON], variables: Mapping[str, JSON], *, now: datetime | None = None) -> JSON:
        """Evaluate every expression; StatesError(QueryEvaluationError) as AWS words it.

        ``now`` is what $now()/$millis() see (default: the wall clock).
        """
        bindings = _bindings(states, variables, self.variable_names) if self.variable_names else {}
        value = _render(self.payload, bindings, _millis(now))
        if self.result_type is not None and isinstance(self.payload, _Leaf):
            if not _TYPE_CHECKS[self.result_type](value):
                raise self.payload.expression.type_error(self.payload.field, self.result_type, value)
        return value

    @property
    def is_constant(self) -> bool:
        """True when the payload holds no expression."""
        return not _has_leaf(self.payload)


def _bindings(states: Mapping[str, JSON], variables: Mapping[str, JSON], names: frozenset[str]) -> dict[str, Any]:
    """``$states`` and the variables, converted for jsonata-python; only the ``names`` used."""
    bindings = {name: _to_jsonata(variables[name]) for name in names if name in variables}
    if "states" in names:
        bindings["states"] = _to_jsonata(dict(states))
    return bindings


def _millis(now: datetime | None) -> int | None:
    return None if now is None else int(now.timestamp() * 1000)


def _render(node: Any, bindings: dict[str, Any], millis: int | None) -> JSON:
    if isinstance(node, _Leaf):
        value = node.expression._run(bindings, node.field, millis)
        if value is UNDEFINED:
            raise node.expression.undefined_error(node.field)
        return value
    if isinstance(node, dict):
        return {key: _render(item, bindings, millis) for key, item in node.items()}
    if isinstance(node, list):
        return [_render(item, bindings, millis) for item in node]
    return node


def _has_leaf(node: Any) -> bool:
    if isinstance(node, _Leaf):
        return True
    if isinstance(node, dict):
        return any(_has_leaf(item) for item in node.values())
    if isinstance(node, list):
        return any(_has_leaf(item) for item in node)
    return False


def compile_template(payload: JSON, *, field: str, result_type: str | None = None) -> Template:
    """Compile every ``{% %}`` string in ``payload``; ``field`` names it in messages ('Output').

    Nested fields are named ``Output/key``, list items ``Output[0]``. ``result_type`` ('array',
    'object', 'string', 'number', 'integer', 'boolean') checks the value of a payload that is one
    expression, as AWS checks ``Items``. A syntax error raises ValueError.
    """
    if result_type is not None and result_type not in _TYPE_CHECKS:
        raise ValueError(f"unknown result type {result_type!r}")
    compiled = _compile_node(payload, field)
    return Template(compiled, field, result_type, frozenset().union(*(leaf.expression.variable_names for leaf in _leaves(compiled))))


def _leaves(node: Any) -> list[_Leaf]:
    if isinstance(node, _Leaf):
        return [node]
    if isinstance(node, dict):
        return [leaf for item in node.values() for leaf in _leaves(item)]
    if isinstance(node, list):
        return [leaf for item in node for leaf in _leaves(item)]
    return []


def _compile_node(node: JSON, field: str) -> Any:
    if is_expression(node):
        return _Leaf(compile(node), field)
    if isinstance(node, dict):
        return {key: _compile_node(item, f"{field}/{key}") for key, item in node.items()}
    if isinstance(node, list):
        return [_compile_node(item, f"{field}[{index}]") for index, item in enumerate(node)]
    return node
