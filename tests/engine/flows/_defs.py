"""Small flow-definition builders shared by the flows tests."""
from __future__ import annotations

from typing import Any


def data(source: str, output: str, target: str, input_: str, name: str | None = None) -> dict[str, Any]:
    return {"name": name or f"{source}_{output}_{target}_{input_}", "source": source, "target": target,
            "type": "Data", "configuration": {"data": {"sourceOutput": output, "targetInput": input_}}}


def cond(source: str, condition: str, target: str, name: str | None = None) -> dict[str, Any]:
    return {"name": name or f"{source}_{condition}_{target}", "source": source, "target": target,
            "type": "Conditional", "configuration": {"conditional": {"condition": condition}}}


def inp(name: str = "In", type_: str = "String") -> dict[str, Any]:
    return {"name": name, "type": "Input", "configuration": {"input": {}},
            "outputs": [{"name": "document", "type": type_}]}


def out(name: str = "Out", type_: str = "String", expression: str = "$.data") -> dict[str, Any]:
    return {"name": name, "type": "Output", "configuration": {"output": {}},
            "inputs": [{"name": "document", "type": type_, "expression": expression}]}


def io(name: str, expression: str = "$.data", type_: str = "String") -> dict[str, Any]:
    return {"name": name, "type": type_, "expression": expression}


def code(name: str, source: str, inputs: list[dict[str, Any]], out_type: str = "String") -> dict[str, Any]:
    return {"name": name, "type": "InlineCode",
            "configuration": {"inlineCode": {"code": source, "language": "Python_3"}},
            "inputs": inputs, "outputs": [{"name": "response", "type": out_type}]}


def prompt(name: str, text: str, inputs: list[dict[str, Any]], model: str = "anthropic.claude-v2") -> dict[str, Any]:
    return {"name": name, "type": "Prompt", "inputs": inputs,
            "outputs": [{"name": "modelCompletion", "type": "String"}],
            "configuration": {"prompt": {"sourceConfiguration": {"inline": {
                "modelId": model, "templateType": "TEXT",
                "templateConfiguration": {"text": {"text": text}}}}}}}


def condition(name: str, inputs: list[dict[str, Any]], conditions: list[tuple[str, str | None]]) -> dict[str, Any]:
    return {"name": name, "type": "Condition", "inputs": inputs,
            "configuration": {"condition": {"conditions": [
                {"name": n} if e is None else {"name": n, "expression": e} for n, e in conditions]}}}


def passthrough() -> dict[str, Any]:
    """Input (String) -> Output."""
    return {"nodes": [inp(), out()], "connections": [data("In", "document", "Out", "document")]}
