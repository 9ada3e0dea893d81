"""Per-field value checks of the schema walk, one function per field in one table."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from engine.asl.validate._walk import (
    IN_CATCHER,
    JSONATA,
    JSONPATH,
    Check,
    StateContext,
    Walker,
    is_dynamic,
    is_expression,
)
from engine.types import JSON, Pointer

RETRIER_FIELDS: Final = frozenset({"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate",
                                    "MaxDelaySeconds", "JitterStrategy", "Comment"})
CATCHER_FIELDS: Final = {JSONPATH: frozenset({"ErrorEquals", "Next", "ResultPath", "Assign", "Comment"}),
                          JSONATA: frozenset({"ErrorEquals", "Next", "Output", "Assign", "Comment"})}

COMPARISONS: Final[Mapping[str, str]] = {
    **{f"String{op}": "STRING" for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals",
                                          "GreaterThanEquals", "Matches")},
    **{f"Numeric{op}": "NUMBER" for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals",
                                           "GreaterThanEquals")},
    "BooleanEquals": "BOOLEAN",
    **{f"Timestamp{op}": "TIMESTAMP" for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals",
                                                "GreaterThanEquals")},
    **{f"Is{kind}": "BOOLEAN" for kind in ("Null", "Present", "Numeric", "String", "Boolean", "Timestamp")},
}
PATH_COMPARISONS: Final = frozenset(
    f"{op}Path" for op in COMPARISONS if not op.startswith("Is") and op != "StringMatches")
OPERATORS: Final = frozenset(COMPARISONS) | PATH_COMPARISONS

RFC3339: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _string(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    w.expect(value, "STRING", at)


def _boolean(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    w.expect(value, "BOOLEAN", at)


def _query_language(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    w.enum(value, (JSONPATH, JSONATA), at)


def _io_path(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    w.path(value, at.rsplit("/", 1)[1], at, nullable=True)


def _result_path(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    w.path(value, "ResultPath", at, nullable=True, reference=True)


def _value_path(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    w.path(value, at.rsplit("/", 1)[1], at)


def _template(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    w.object_payload(value, at)


def _assign(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "OBJECT", at):
        return
    if ctx.jsonata:
        w.jsonata(value, at, ctx.result_scope)
    else:
        w.payload(value, at)


def _output(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    w.jsonata(value, at, ctx.result_scope)


def _arguments(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if is_expression(value) or w.expect(value, "OBJECT", at):
        w.jsonata(value, at)


def _items(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if is_expression(value) or w.expect(value, "ARRAY", at):
        w.jsonata(value, at)


def _resource(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "STRING", at):
        return
    if not _is_known_integration(value):
        # AWS: "The resource provided arn:aws:states:::dynamodb:query is not recognized. The value
        # is not a valid resource ARN, or the resource is not available in this region." (recorded)
        w.error(f"The resource provided {value} is not recognized. The value is not a valid resource ARN, "
                "or the resource is not available in this region.", at)
        return
    if w.machine_type != "EXPRESS":
        return
    # AWS (recorded): the .waitForTaskToken message ends with a space, the .sync one does not.
    if value.endswith(".waitForTaskToken"):
        w.error("Express state machine does not support '.waitForTaskToken' service integration ", at)
    elif _SYNC.search(value):
        w.error("Express state machine does not support '.sync' service integration", at)
    elif value.startswith("arn:") and ":activity:" in value:
        w.error("Express state machine does not support Activity ARN", at)


_SYNC: Final = re.compile(r"\.sync(:\d+)?$")
_OPTIMIZED: Final = re.compile(r"^arn:[^:]+:states:::([a-z0-9-]+):([A-Za-z0-9]+)(\.sync(:\d+)?|\.waitForTaskToken)?$")
# Optimized integrations whose actions AWS lists; a service not listed here is not checked.
_INTEGRATIONS: Final[Mapping[str, frozenset[str]]] = {
    "dynamodb": frozenset({"getItem", "putItem", "deleteItem", "updateItem"}),
    "lambda": frozenset({"invoke"}),
    "sns": frozenset({"publish"}),
    "sqs": frozenset({"sendMessage"}),
    "states": frozenset({"startExecution"}),
    "events": frozenset({"putEvents"}),
    "apigateway": frozenset({"invoke"}),
    "http": frozenset({"invoke"}),
    "glue": frozenset({"startJobRun"}),
    "batch": frozenset({"submitJob"}),
    "ecs": frozenset({"runTask"}),
}


def _is_known_integration(resource: str) -> bool:
    match = _OPTIMIZED.match(resource)
    if match is None:
        return True  # Lambda and activity ARNs, aws-sdk integrations, anything not optimized
    actions = _INTEGRATIONS.get(match.group(1))
    return actions is None or match.group(2) in actions


def _credentials(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "OBJECT", at):
        return
    # AWS (recorded): unknown keys are not reported, only the missing role.
    if "RoleArn" not in value and ("RoleArn.$" not in value or ctx.jsonata):
        w.error("The field 'RoleArn' is required but was missing", at)
        return
    if ctx.jsonata:
        w.jsonata(value, at)
    else:
        w.payload(value, at)


def _seconds(low: int, high: int) -> Check:
    def check(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
        w.jsonata_or(value, at, lambda: w.integer(value, at, low, high))
    return check


def _timestamp(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if ctx.jsonata and is_expression(value):
        w.jsonata(value, at)
    elif w.expect(value, "STRING", at) and not is_timestamp(value):
        # AWS: "String does not match RFC3339 timestamp" at the field (recorded).
        w.error("String does not match RFC3339 timestamp", at)


def is_timestamp(text: str) -> bool:
    """An RFC3339 date-time with a real date and time and an offset (Z or +hh:mm)."""
    if RFC3339.match(text) is None:
        return False
    try:
        datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _error_text(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    w.jsonata_or(value, at, lambda: w.expect(value, "STRING", at))


def _error_path(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if not is_dynamic(value):
        name = at.rsplit("/", 1)[1]
        w.error(f"The value for the field '{name}' must be a valid JSONPath or a valid intrinsic "
                "function call", at)


def _choices(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "ARRAY", at):
        return
    if not value:
        w.error("Value cannot be empty", at)
    for i, rule in enumerate(value):
        where = f"{at}[{i}]"
        if ctx.jsonata:
            _jsonata_rule(w, rule, where)
        else:
            _jsonpath_rule(w, rule, where, top=True)


def _jsonata_rule(w: Walker, rule: JSON, at: Pointer) -> None:
    if not w.expect(rule, "OBJECT", at):
        return
    w.required(rule, ("Condition", "Next"), at)
    w.keys(rule, frozenset({"Condition", "Next", "Output", "Assign", "Comment"}), at)
    for key, item in rule.items():
        where = f"{at}/{key}"
        if key in ("Next", "Comment"):
            w.expect(item, "STRING", where)
        elif key == "Condition":
            w.jsonata_or(item, where, lambda: w.expect(item, "BOOLEAN", where))
        elif key == "Assign":
            if w.expect(item, "OBJECT", where):
                w.jsonata(item, where)
        elif key == "Output":
            w.jsonata(item, where)


def _jsonpath_rule(w: Walker, rule: JSON, at: Pointer, *, top: bool) -> None:
    if not w.expect(rule, "OBJECT", at):
        return
    allowed = {"Variable", "And", "Or", "Not", "Comment"} | OPERATORS
    if top:
        allowed |= {"Next", "Assign"}
        w.required(rule, ("Next",), at)
    w.keys(rule, frozenset(allowed), at)
    operators = [key for key in rule if key in OPERATORS]
    combinators = [key for key in rule if key in ("And", "Or", "Not")]
    if len(operators) + len(combinators) != 1:
        w.error("A Choice Rule must have exactly one comparison operator or And, Or, Not", at)
    elif operators and "Variable" not in rule:
        w.error("These fields are required: [Variable]", at)
    for key, item in rule.items():
        where = f"{at}/{key}"
        if key in ("Next", "Comment"):
            w.expect(item, "STRING", where)
        elif key == "Variable":
            w.path(item, "Variable", where)
        elif key == "Assign":
            if w.expect(item, "OBJECT", where):
                w.payload(item, where)
        elif key in ("And", "Or"):
            if w.expect(item, "ARRAY", where):
                if not item:
                    w.error("Value cannot be empty", where)
                for i, sub in enumerate(item):
                    _jsonpath_rule(w, sub, f"{where}[{i}]", top=False)
        elif key == "Not":
            _jsonpath_rule(w, item, where, top=False)
        elif key in PATH_COMPARISONS:
            w.path(item, key, where)
        elif key in COMPARISONS:
            _comparison_value(w, COMPARISONS[key], item, where)


def _comparison_value(w: Walker, kind: str, value: JSON, at: Pointer) -> None:
    if kind == "TIMESTAMP":
        if w.expect(value, "STRING", at) and not is_timestamp(value):
            w.error("String does not match RFC3339 timestamp", at)
    else:
        w.expect(value, kind, at)


def _branches(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "ARRAY", at):
        return
    if not value:
        # AWS: "Value cannot be empty at /States/StateName/Branches" (recorded, TestState).
        w.error("Value cannot be empty", at)
    for i, branch in enumerate(value):
        w.machine(branch, f"{at}[{i}]", kind="branch")


def _processor(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    w.machine(value, at, kind="processor")


def _non_negative(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    # AWS (floci-measured): MaxConcurrency -1 is "Minimum value is 0" at the field.
    w.jsonata_or(value, at, lambda: w.integer(value, at, 0))


def _tolerated_percentage(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    w.jsonata_or(value, at, lambda: w.number(value, at, 0, 100))


def _item_selector(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if ctx.jsonata:
        if is_expression(value) or w.expect(value, "OBJECT", at):
            w.jsonata(value, at)
    else:
        w.object_payload(value, at)


def _item_reader(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "OBJECT", at):
        return
    fields = {"Resource", "ReaderConfig", "Comment", "Parameters" if not ctx.jsonata else "Arguments"}
    w.required(value, ("Resource",), at)
    _sub_object(w, ctx, value, at, frozenset(fields))
    config = value.get("ReaderConfig")
    if config is not None and w.expect(config, "OBJECT", f"{at}/ReaderConfig"):
        where = f"{at}/ReaderConfig"
        w.keys(config, frozenset({"InputType", "CSVHeaderLocation", "CSVHeaders", "MaxItems", "MaxItemsPath",
                                  "CSVDelimiter", "ManifestType", "Transformation", "ItemsPointer"}), where)
        if "InputType" in config:
            w.enum(config["InputType"], ("CSV", "JSON", "JSONL", "MANIFEST", "PARQUET"), f"{where}/InputType")
        if "Transformation" in config:
            w.enum(config["Transformation"], ("NONE", "LOAD_AND_FLATTEN"), f"{where}/Transformation")
        if "ManifestType" in config:
            w.enum(config["ManifestType"], ("ATHENA_DATA", "S3_INVENTORY"), f"{where}/ManifestType")
        if "ItemsPointer" in config:
            w.expect(config["ItemsPointer"], "STRING", f"{where}/ItemsPointer")


def _result_writer(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "OBJECT", at):
        return
    fields = {"Resource", "WriterConfig", "Comment", "Parameters" if not ctx.jsonata else "Arguments"}
    _sub_object(w, ctx, value, at, frozenset(fields))


def _item_batcher(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "OBJECT", at):
        return
    fields = {"MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"}
    if not ctx.jsonata:
        fields |= {"MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"}
    w.keys(value, frozenset(fields), at)
    for key in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
        if key in value:
            _non_negative(w, ctx, value[key], f"{at}/{key}")


def _sub_object(w: Walker, ctx: StateContext, value: dict[str, Any], at: Pointer,
                fields: frozenset[str]) -> None:
    w.keys(value, fields, at)
    if "Resource" in value:
        w.expect(value["Resource"], "STRING", f"{at}/Resource")
    if "Parameters" in value and not ctx.jsonata:
        w.object_payload(value["Parameters"], f"{at}/Parameters")
    if "Arguments" in value and ctx.jsonata:
        w.jsonata(value["Arguments"], f"{at}/Arguments")


def _retry(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "ARRAY", at):
        return
    for i, retrier in enumerate(value):
        where = f"{at}[{i}]"
        if not w.expect(retrier, "OBJECT", where):
            continue
        w.required(retrier, ("ErrorEquals",), where)
        w.keys(retrier, RETRIER_FIELDS, where)
        _error_equals(w, retrier, where, last=i == len(value) - 1, what="Retrier")
        for key, item in retrier.items():
            spot = f"{where}/{key}"
            if key == "IntervalSeconds" or key == "MaxDelaySeconds":
                w.integer(item, spot, 1, 99999999)
            elif key == "MaxAttempts":
                w.integer(item, spot, 0, 99999999)
            elif key == "BackoffRate":
                w.number(item, spot, 1.0)
            elif key == "JitterStrategy":
                w.enum(item, ("FULL", "NONE"), spot)
            elif key == "Comment":
                w.expect(item, "STRING", spot)


def _catch(w: Walker, ctx: StateContext, value: JSON, at: Pointer) -> None:
    if not w.expect(value, "ARRAY", at):
        return
    for i, catcher in enumerate(value):
        where = f"{at}[{i}]"
        if not w.expect(catcher, "OBJECT", where):
            continue
        w.required(catcher, ("ErrorEquals", "Next"), where)
        w.keys(catcher, CATCHER_FIELDS[ctx.language], where)
        _error_equals(w, catcher, where, last=i == len(value) - 1, what="Catcher")
        for key, item in catcher.items():
            spot = f"{where}/{key}"
            if key in ("Next", "Comment"):
                w.expect(item, "STRING", spot)
            elif key == "ResultPath" and not ctx.jsonata:
                w.path(item, "ResultPath", spot, nullable=True, reference=True)
            elif key == "Output" and ctx.jsonata:
                w.jsonata(item, spot, IN_CATCHER)
            elif key == "Assign" and w.expect(item, "OBJECT", spot):
                if ctx.jsonata:
                    w.jsonata(item, spot, IN_CATCHER)
                else:
                    w.payload(item, spot)


def _error_equals(w: Walker, raw: dict[str, Any], at: Pointer, *, last: bool, what: str) -> None:
    names = raw.get("ErrorEquals")
    where = f"{at}/ErrorEquals"
    if "ErrorEquals" not in raw or not w.expect(names, "ARRAY", where) or not isinstance(names, list):
        return
    if not names:
        w.error("Value cannot be empty", where)
    for i, name in enumerate(names):
        w.expect(name, "STRING", f"{where}[{i}]")
    # ASL: "The reserved name "States.ALL" ... MUST appear alone in the ErrorEquals array and
    # MUST appear in the last Retrier/Catcher".
    if "States.ALL" in names:
        if len(names) > 1:
            w.error("States.ALL must appear alone in the ErrorEquals array", where)
        elif not last:
            w.error(f"A {what} with States.ALL must be the last {what}", where)


CHECKS: Final[Mapping[str, Check]] = {
    "Comment": _string,
    "QueryLanguage": _query_language,
    "Next": _string,
    "End": _boolean,
    "InputPath": _io_path,
    "OutputPath": _io_path,
    "ResultPath": _result_path,
    "Parameters": _template,
    "ResultSelector": _template,
    "Assign": _assign,
    "Output": _output,
    "Arguments": _arguments,
    "Resource": _resource,
    "Credentials": _credentials,
    "TimeoutSeconds": _seconds(1, 99999999),
    "HeartbeatSeconds": _seconds(1, 99999999),
    "TimeoutSecondsPath": _value_path,
    "HeartbeatSecondsPath": _value_path,
    "Seconds": _seconds(0, 99999999),
    "SecondsPath": _value_path,
    "Timestamp": _timestamp,
    "TimestampPath": _value_path,
    "Error": _error_text,
    "Cause": _error_text,
    "ErrorPath": _error_path,
    "CausePath": _error_path,
    "Choices": _choices,
    "Default": _string,
    "Branches": _branches,
    "ItemProcessor": _processor,
    "Iterator": _processor,
    "ItemsPath": _value_path,
    "Items": _items,
    "ItemSelector": _item_selector,
    "ItemReader": _item_reader,
    "ItemBatcher": _item_batcher,
    "ResultWriter": _result_writer,
    "MaxConcurrency": _non_negative,
    "MaxConcurrencyPath": _value_path,
    "ToleratedFailureCount": _non_negative,
    "ToleratedFailureCountPath": _value_path,
    "ToleratedFailurePercentage": _tolerated_percentage,
    "ToleratedFailurePercentagePath": _value_path,
    "Label": _string,
    "Retry": _retry,
    "Catch": _catch,
}

