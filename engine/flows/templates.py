"""Prompt templates: ``{{variable}}`` discovery and rendering, TEXT and CHAT templates.

Rendering [inferred, spec §2.5]: strings verbatim, numbers/booleans as JSON text, objects
and arrays as compact JSON. Unknown variables are left as written.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from engine.flows.model import thaw
from engine.types import JSON

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def inline_template(prompt_config: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``sourceConfiguration.inline`` member of a Prompt node configuration, if any."""
    source = prompt_config.get("sourceConfiguration") or {}
    inline = source.get("inline") if isinstance(source, Mapping) else None
    return inline if isinstance(inline, Mapping) else None


def _texts(template: Mapping[str, Any]) -> list[str]:
    config = template.get("templateConfiguration") or {}
    texts: list[str] = []
    text = config.get("text")
    if isinstance(text, Mapping) and isinstance(text.get("text"), str):
        texts.append(text["text"])
    chat = config.get("chat")
    if isinstance(chat, Mapping):
        for message in chat.get("messages") or ():
            texts.extend(c.get("text", "") for c in message.get("content") or () if isinstance(c, Mapping))
        texts.extend(s.get("text", "") for s in chat.get("system") or () if isinstance(s, Mapping))
    return texts


def template_variables(prompt_config: Mapping[str, Any]) -> tuple[str, ...]:
    """Variable names used by an inline prompt's template, in first-use order."""
    template = inline_template(prompt_config)
    if template is None:
        return ()
    names: dict[str, None] = {}
    for text in _texts(template):
        names.update((m.group(1), None) for m in _VARIABLE.finditer(text))
    return tuple(names)


def render_value(value: JSON) -> str:
    """How one variable value appears in the rendered text."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def render_text(text: str, values: Mapping[str, JSON]) -> str:
    """``text`` with every known ``{{name}}`` replaced."""
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        return render_value(values[name]) if name in values else match.group(0)
    return _VARIABLE.sub(substitute, text)


def converse_request(template: Mapping[str, Any], values: Mapping[str, JSON]) -> dict[str, Any]:
    """The Converse request a prompt template renders to (modelId, messages, system, inferenceConfig)."""
    config = template.get("templateConfiguration") or {}
    request: dict[str, Any] = {"modelId": template.get("modelId", "")}
    chat = config.get("chat")
    if isinstance(chat, Mapping):
        request["messages"] = [
            {"role": m.get("role", "user"),
             "content": [{"text": render_text(c.get("text", ""), values)} for c in m.get("content") or ()]}
            for m in chat.get("messages") or ()
        ]
        if chat.get("system"):
            request["system"] = [{"text": render_text(s.get("text", ""), values)} for s in chat["system"]]
    else:
        text = (config.get("text") or {}).get("text", "")
        request["messages"] = [{"role": "user", "content": [{"text": render_text(text, values)}]}]
    inference = (template.get("inferenceConfiguration") or {}).get("text")
    if isinstance(inference, Mapping):
        request["inferenceConfig"] = thaw(inference)
    return request


def rendered_prompt(request: Mapping[str, Any]) -> str:
    """The prompt text of a Converse request: the last user message's text."""
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            return "".join(c.get("text", "") for c in message.get("content") or [])
    return ""
