"""JSONPath as AWS evaluates it: Jayway's grammar and semantics over Jackson nodes.

``compile_path`` parses a path once into steps; ``Path.get`` walks them over a Scope
(``$`` input, ``$$`` context object, ``$name`` variables). Filter expressions are parsed and
evaluated by jsonpath-ng.
"""
from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonpath_ng import Child, DatumInContext, Fields, Index, JSONPath, Root, This
from jsonpath_ng.ext.filter import Expression, Filter
from jsonpath_ng.ext.parser import parse as _parse_jsonpath

from engine.asl.paths._text import dumps
from engine.errors import ErrorName, StatesError
from engine.types import JSON


NULL_INPUT = "Unable to apply Path transformation to null or empty input."
"""AWS's cause when a path reads ``$`` of a null state input (the state prefix is added by the interpreter)."""


class PathNotFound(Exception):
    """A definite path that matched nothing; ``detail`` is Jayway's message for it."""

    def __init__(self, path: str, detail: str | None = None) -> None:
        self.path = path
        self.detail = detail or f"No results for path: {path}"
        super().__init__(f"{path}: {self.detail}")


@dataclass(frozen=True, slots=True)
class Scope:
    """What a path can see: ``$`` (input), ``$$`` (context object) and ``$name`` (variables)."""

    input: JSON
    context: JSON = None
    variables: Mapping[str, JSON] | None = None


# --- path syntax --------------------------------------------------------------------------
# A path compiles to a tuple of steps:
#   ("prop", names) ("index", ints) ("slice", start, end, step) ("wild",) ("scan", step)
#   ("filter", jsonpath_ng Filter)

Step = tuple[Any, ...]
_VARIABLE = re.compile(r"\$([^\W\d]\w*)")
_INTEGER = re.compile(r"\s*-?\d+\s*")
_QUOTED = re.compile(r"""\s*('((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(?:,(?=.)|$)""")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def _unescape(raw: str) -> str:
    """Jayway's Utils.unescape for quoted property names: \\n, \\t, \\uXXXX; any other char as itself."""

    def one(match: re.Match[str]) -> str:
        escaped = match.group(1)
        if escaped.startswith("u") and len(escaped) == 5:
            return chr(int(escaped[1:], 16))
        return _ESCAPES.get(escaped, escaped)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", one, raw, flags=re.DOTALL)


@dataclass(frozen=True, slots=True, eq=False)
class Path:
    """A compiled JSONPath: ``get`` returns one value (definite path) or a list (indefinite).

    Paths compare and hash by their text (filters hold unhashable jsonpath-ng nodes).
    """

    text: str
    root: str
    """``$`` (input), ``$$`` (context) or the variable name."""
    steps: tuple[Step, ...]
    definite: bool
    _keys: tuple[str | int, ...] | None = None
    """For a reference path (single names and indexes only): its keys, read by ``get``'s fast path."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Path) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    @property
    def is_reference(self) -> bool:
        """A reference path: only single properties and single indexes (ResultPath, Variable)."""
        return self.definite and all(len(step[1]) == 1 for step in self.steps)

    def get(self, scope: Scope) -> JSON:
        """The value the path selects; raises PathNotFound when a definite path matches nothing.

        A ``$`` path over a null input raises StatesError(States.Runtime, NULL_INPUT) instead.
        """
        found: list[JSON] = []
        start = self._start(scope)
        if start is None and self.root == "$":
            # AWS: Jayway cannot read a null document; even "Variable": "$" fails on a null
            # input (awslabs/states-language#29). InputPath/OutputPath "$" never get here.
            raise StatesError(ErrorName.RUNTIME, NULL_INPUT)
        fast = self._keys
        if fast is not None:
            # Single names and indexes: read straight down; anything unusual (a miss, a
            # non-container) is left to the full walk below, which gives Jayway's messages.
            value = start
            for key in fast:
                if type(key) is str:
                    if type(value) is not dict or key not in value:
                        break
                    value = value[key]
                else:
                    if type(value) is not list:
                        break
                    position = key + len(value) if key < 0 else key
                    value = value[position] if 0 <= position < len(value) else None
            else:
                return value
        # AWS: an indefinite path never fails, it yields [] ($.items[*].v on {}); see the
        # test_json_path_array_wildcard_or_slice_with_no_input cases.
        _walk(self.steps, 0, start, "$", self.definite, found, start)
        if not self.definite:
            return found
        if not found:
            raise PathNotFound(self.text, f"No results for path: {self.rendered}")
        return found[0]

    @property
    def rendered(self) -> str:
        """Jayway's own rendering of the path (``$['a'][0]``), used in its messages."""
        return "$" + "".join(_render(step) for step in self.steps)

    def _start(self, scope: Scope) -> JSON:
        if self.root == "$":
            return scope.input
        if self.root == "$$":
            return scope.context
        variables = scope.variables or {}
        if self.root not in variables:
            raise PathNotFound(self.text, f"No results for path: ${self.root}")
        return variables[self.root]


def compile_path(text: str) -> Path:
    """Compile ``$...``, ``$$...`` or ``$name...``; ValueError(message) when it is not a valid path.

    Compiled paths are cached by text, so compiling the same path twice is cheap.
    """
    if not isinstance(text, str) or not text.startswith("$"):
        raise ValueError(f"The path '{text}' must start with '$'")
    return _compile(text)


@functools.lru_cache(maxsize=4096)
def _compile(text: str) -> Path:
    if text.startswith("$$"):
        root, rest = "$$", text[2:]
    elif (match := _VARIABLE.match(text)) is not None:
        root, rest = match.group(1), text[match.end():]
    else:
        root, rest = "$", text[1:]
    steps = _Parser(text, rest).parse()
    definite = _is_definite(steps)
    keys = None
    if definite and all(len(step[1]) == 1 for step in steps):
        keys = tuple(step[1][0] for step in steps)
    return Path(text, root, steps, definite, keys)


def _is_definite(steps: tuple[Step, ...]) -> bool:
    # Jayway: a property list is definite only as the last step, where it merges into an object.
    last = len(steps) - 1
    return all(
        step[0] in ("prop", "index") and (len(step[1]) == 1 or (step[0] == "prop" and i == last))
        for i, step in enumerate(steps)
    )


class _Parser:
    """Jayway's path grammar: ``.name``, ``['a','b']``, ``[0,1]``, ``[1:3]``, ``*``, ``..``, ``[?(...)]``."""

    def __init__(self, text: str, rest: str) -> None:
        self.text = text
        self.src = rest
        self.pos = 0

    def fail(self, why: str) -> ValueError:
        return ValueError(f"Invalid JSONPath '{self.text}': {why}")

    def parse(self) -> tuple[Step, ...]:
        steps: list[Step] = []
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if self.src.startswith("..", self.pos):
                self.pos += 2
                steps.append(("scan", self.after_scan()))
            elif char == ".":
                self.pos += 1
                # Jayway accepts "$.[0]" and "$.['a']" as "$[0]" and "$['a']".
                steps.append(self.bracket() if self.src[self.pos:self.pos + 1] == "[" else self.dot_step())
            elif char == "[":
                steps.append(self.bracket())
            else:
                raise self.fail(f"unexpected character '{char}' at position {self.pos + len(self.text) - len(self.src)}")
        return tuple(steps)

    def after_scan(self) -> Step:
        if self.pos < len(self.src) and self.src[self.pos] == "[":
            return self.bracket()
        return self.dot_step()

    def dot_step(self) -> Step:
        start = self.pos
        while self.pos < len(self.src) and self.src[self.pos] not in ".[( ":
            self.pos += 1
        name = self.src[start:self.pos]
        if self.pos < len(self.src) and self.src[self.pos] in "( ":
            raise self.fail("functions and blanks are not supported in dot notation")
        if not name:
            raise self.fail("empty property name")
        return ("wild",) if name == "*" else ("prop", (name,))

    def bracket(self) -> Step:
        end = self.closing()
        inner = self.src[self.pos + 1:end].strip()
        self.pos = end + 1
        if inner.startswith("?"):
            return ("filter", self.filter(inner))
        if inner == "*":
            return ("wild",)
        if inner.startswith(("'", '"')):
            return ("prop", self.names(inner))
        if ":" in inner:
            return ("slice", *self.slice(inner))
        parts = inner.split(",")
        if not inner or not all(_INTEGER.fullmatch(part) for part in parts):
            raise self.fail(f"invalid bracket expression '[{inner}]'")
        return ("index", tuple(int(part) for part in parts))

    def closing(self) -> int:
        """Index of the ``]`` closing the bracket at ``pos`` (quotes and nesting respected)."""
        depth, quote, i = 0, "", self.pos
        while i < len(self.src):
            char = self.src[i]
            if quote:
                if char == "\\":
                    i += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                depth -= 1
                if depth == 0 and char == "]":
                    return i
            i += 1
        raise self.fail("unclosed '['")

    def names(self, inner: str) -> tuple[str, ...]:
        matches = list(_QUOTED.finditer(inner))
        if not matches or "".join(m.group(0) for m in matches) != inner:
            raise self.fail(f"invalid property list '[{inner}]'")
        return tuple(_unescape(m.group(2) if m.group(2) is not None else m.group(3)) for m in matches)

    def slice(self, inner: str) -> tuple[int | None, ...]:
        parts = inner.split(":")
        if len(parts) > 3 or not all(p.strip() == "" or _INTEGER.fullmatch(p) for p in parts):
            raise self.fail(f"invalid slice '[{inner}]'")
        values = [int(p) if p.strip() else None for p in parts]
        if len(values) == 3 and values[2] == 0:
            raise self.fail(f"invalid slice step '[{inner}]'")
        return tuple(values + [None] * (3 - len(values)))

    def filter(self, inner: str) -> Filter:
        regexes: list[str] = []

        def stash(match: re.Match[str]) -> str:
            regexes.append(_java_regex(match.group(1), match.group(2)))
            return f'=~ "{_REGEX_MARK}{len(regexes) - 1}"'

        try:
            rewritten = _MEMBERSHIP.sub(_membership, _REGEX_LITERAL.sub(stash, inner))
            parsed = _parse_jsonpath(f"$[{rewritten}]")
        except Exception as error:  # jsonpath-ng raises lexer, parser and plain errors
            raise self.fail(f"invalid filter '[{inner}]' ({error})") from None
        node = getattr(parsed, "right", None)
        if not isinstance(node, Filter):
            raise self.fail(f"invalid filter '[{inner}]'")
        _adapt_filter(node, regexes)
        return node


# Jayway writes regexes as /pattern/flags and matches the whole value (Matcher.matches());
# jsonpath-ng only knows =~ "pattern" with re.search, so the literal is swapped in after parsing.
_REGEX_LITERAL = re.compile(r"=~\s*/((?:[^/\\]|\\.)*)/([a-zA-Z]*)")
_REGEX_MARK = "statesim-regex-"


# Jayway's "@.x in ['a', 1]" / "nin" become "(@.x == 'a' || @.x == 1)" / "(... != ... && ...)".
_MEMBERSHIP = re.compile(r"""(@[^\s=!<>~()|&]*)\s+(in|nin)\s+\[((?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\]'"])+)\]""")
_ITEM = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,\s]+""")


def _membership(match: re.Match[str]) -> str:
    target, operator, items = match.group(1), match.group(2), _ITEM.findall(match.group(3))
    test, join = ("==", " || ") if operator == "in" else ("!=", " && ")
    return "(" + join.join(f"{target} {test} {item}" for item in items) + ")"


def _java_regex(pattern: str, flags: str) -> str:
    known = "".join(sorted(set(flags.lower()) & set("imsx")))
    return (f"(?{known})" if known else "") + rf"\A(?:{pattern})\Z"


def _adapt_filter(node: Any, regexes: list[str]) -> None:
    """Swap the regex literals back in and give literal comparisons Jayway's semantics."""
    for child in getattr(node, "expressions", None) or getattr(node, "operands", None) or ():
        _adapt_filter(child, regexes)
    if not isinstance(node, Expression):
        return
    if node.op == "=~" and isinstance(node.value, str) and node.value.startswith(_REGEX_MARK):
        node.value = regexes[int(node.value[len(_REGEX_MARK):])]
    elif node.op in _ORDER and not isinstance(node.value, JSONPath):
        node.__class__ = _JaywayComparison


class _JaywayComparison(Expression):
    """``@.x <op> literal`` as Jayway compares ValueNodes.

    ``==`` compares a number with a numeric string by value ('201' == 201), ordering needs two
    numbers or two strings, and a missing member equals nothing (so ``!=`` holds).
    """

    def find(self, datum: Any) -> list[Any]:
        wrapped = DatumInContext.wrap(datum)
        found = [match.value for match in self.target.find(wrapped)]
        if not _is_single(self.target):
            holds = _ORDER[self.op](found, self.value)  # Jayway compares the array of matches
        elif found:
            holds = _ORDER[self.op](found[0], self.value)
        else:
            holds = self.op == "!="  # a missing member equals nothing
        return [wrapped] if holds else []


def _is_single(node: Any) -> bool:
    """Whether a jsonpath-ng path selects at most one node (``@.a.b[0]``)."""
    if isinstance(node, Child):
        return _is_single(node.left) and _is_single(node.right)
    if isinstance(node, Fields):
        return len(node.fields) == 1 and node.fields[0] != "*"
    if isinstance(node, Index):
        return len(node.indices) == 1
    return isinstance(node, (This, Root))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if _is_number(value) or isinstance(value, str) else None
    except InvalidOperation:
        return None


def _jayway_equal(left: Any, right: Any) -> bool:
    if _is_number(left) and (_is_number(right) or isinstance(right, str)):
        other = _as_decimal(right)  # NumberNode.equals: the other side as a number
        return other is not None and other.is_finite() and Decimal(str(left)) == other
    if isinstance(left, str) and _is_number(right):
        return left == str(right)  # StringNode.equals: the number's text
    return type(left) is type(right) and bool(left == right)


def _jayway_order(left: Any, right: Any) -> int | None:
    if _is_number(left) and _is_number(right):
        return int(left > right) - int(left < right)
    if isinstance(left, str) and isinstance(right, str):
        a, b = left.encode("utf-16-be", "surrogatepass"), right.encode("utf-16-be", "surrogatepass")
        return (a > b) - (a < b)
    return None


def _ordered(test: Callable[[int], bool]) -> Callable[[Any, Any], bool]:
    def compare(left: Any, right: Any) -> bool:
        order = _jayway_order(left, right)
        return order is not None and test(order)

    return compare


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "==": _jayway_equal,
    "!=": lambda left, right: not _jayway_equal(left, right),
    "<": _ordered(lambda c: c < 0),
    "<=": _ordered(lambda c: c <= 0),
    ">": _ordered(lambda c: c > 0),
    ">=": _ordered(lambda c: c >= 0),
}


def _render(step: Step) -> str:
    kind = step[0]
    if kind == "prop":
        return "[" + ",".join(f"'{name}'" for name in step[1]) + "]"
    if kind == "index":
        return "[" + ",".join(map(str, step[1])) + "]"
    if kind == "slice":
        start, end, _ = step[1:]
        return f"[{'' if start is None else start}:{'' if end is None else end}]"
    if kind == "wild":
        return "[*]"
    if kind == "scan":
        return ".." + _render(step[1])
    return "[?]"


# --- evaluation (Jayway over Jackson nodes) ----------------------------------------------
# Jayway raises only while every step so far is definite ("upstream definite"); once a
# wildcard, slice, filter or scan was crossed, misses are skipped silently. AWS goes further:
# an indefinite path never raises at all (``Path.get`` starts its walk non-definite).
# AWS runs Jayway with Jackson's JsonProvider, whose ArrayNode.get(i) is null out of range:
# an index past either end reads as null instead of matching nothing.

_JAVA_CLASS = {str: "java.lang.String", int: "java.lang.Integer", float: "java.lang.Double",
               bool: "java.lang.Boolean", list: "com.fasterxml.jackson.databind.node.ArrayNode"}
_PROVIDER = "com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider"


def _walk(steps: tuple[Step, ...], i: int, value: JSON, at: str, definite: bool,
          out: list[JSON], root: JSON) -> None:
    if i == len(steps):
        out.append(value)
        return
    step = steps[i]
    for child, child_at, still_definite in _STEPS[step[0]](step, value, at, definite, i == len(steps) - 1, root):
        _walk(steps, i + 1, child, child_at, still_definite, out, root)


Children = Iterator[tuple[JSON, str, bool]]


def _prop(step: Step, value: JSON, at: str, definite: bool, leaf: bool, root: JSON) -> Children:
    names = step[1]
    if not isinstance(value, dict):
        if definite:
            fragment = _render(step)
            found = "null" if value is None else _JAVA_CLASS.get(type(value), "java.lang.Object")
            raise PathNotFound(at, f"Expected to find an object with property {fragment} in path {at} "
                                   f"but found '{found}'. This is not a json object according to the "
                                   f"JsonProvider: '{_PROVIDER}'.")
        return
    if len(names) > 1 and leaf:
        yield {name: value[name] for name in names if name in value}, at + _render(step), definite
        return
    token_definite = len(names) == 1
    for name in names:
        here = f"{at}['{name}']"
        if name in value:
            yield value[name], here, definite and token_definite
        elif not leaf and definite and token_definite:
            raise PathNotFound(here, f"Missing property in path {here}")


def _index(step: Step, value: JSON, at: str, definite: bool, leaf: bool, root: JSON) -> Children:
    if not isinstance(value, list):
        if definite:
            shown = value if isinstance(value, str) else dumps(value)
            detail = (f"The path {at} is null" if value is None else
                      f"Filter: {_render(step)} can only be applied to arrays. Current context is: {shown}")
            raise PathNotFound(at, detail)
        return
    single = len(step[1]) == 1
    for index in step[1]:
        position = index + len(value) if index < 0 else index
        # AWS: "$.rows[*][0]" on [[1], [], [2]] is [1, null, 2]; "$.matrix[2]" on [[1, 2]] is null.
        item = value[position] if 0 <= position < len(value) else None
        yield item, f"{at}[{index}]", definite and single


def _slice(step: Step, value: JSON, at: str, definite: bool, leaf: bool, root: JSON) -> Children:
    if not isinstance(value, list):
        return
    start, end, stride = step[1:]
    for position in range(len(value))[slice(start, end, stride)]:
        yield value[position], f"{at}[{position}]", False


def _wild(step: Step, value: JSON, at: str, definite: bool, leaf: bool, root: JSON) -> Children:
    if isinstance(value, dict):
        for key, item in value.items():
            yield item, f"{at}['{key}']", False
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield item, f"{at}[{position}]", False


def _filter(step: Step, value: JSON, at: str, definite: bool, leaf: bool, root: JSON) -> Children:
    expressions = step[1].expressions
    context = DatumInContext(root)

    def accepts(item: JSON) -> bool:
        datum = DatumInContext(item, context=context)
        try:
            return all(expression.find(datum) for expression in expressions)
        except TypeError:
            return False

    if isinstance(value, list):
        for position, item in enumerate(value):
            if accepts(item):
                yield item, f"{at}[{position}]", False
    elif isinstance(value, dict) and accepts(value):
        yield value, at, False


def _scan(step: Step, value: JSON, at: str, definite: bool, leaf: bool, root: JSON) -> Children:
    inner = step[1]
    for node, node_at in _nodes(value, at):
        yield from _STEPS[inner[0]](inner, node, node_at, False, leaf, root)


def _nodes(value: JSON, at: str) -> Iterator[tuple[JSON, str]]:
    """Every container under ``value`` (itself first), depth first, as Jayway's scan visits them."""
    if isinstance(value, dict):
        yield value, at
        for key, item in value.items():
            yield from _nodes(item, f"{at}['{key}']")
    elif isinstance(value, list):
        yield value, at
        for position, item in enumerate(value):
            yield from _nodes(item, f"{at}[{position}]")


_STEPS: dict[str, Callable[[Step, JSON, str, bool, bool, JSON], Children]] = {
    "prop": _prop, "index": _index, "slice": _slice, "wild": _wild, "filter": _filter, "scan": _scan,
}
