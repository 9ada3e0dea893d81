"""Prompt templates: variables and rendering."""
from __future__ import annotations

from engine.flows.templates import converse_request, render_text, rendered_prompt, template_variables


def _config(template: dict[str, object]) -> dict[str, object]:
    return {"sourceConfiguration": {"inline": template}}


def test_text_template_variables_in_first_use_order() -> None:
    config = _config({"templateType": "TEXT", "templateConfiguration": {"text": {"text": "{{b}} {{ a }} {{b}}"}}})
    assert template_variables(config) == ("b", "a")


def test_chat_template_variables_include_system() -> None:
    config = _config({"templateType": "CHAT", "templateConfiguration": {"chat": {
        "messages": [{"role": "user", "content": [{"text": "{{x}}"}]}], "system": [{"text": "{{y}}"}]}}})
    assert template_variables(config) == ("x", "y")


def test_render_values() -> None:
    assert render_text("{{s}}|{{n}}|{{b}}|{{o}}|{{u}}", {"s": "hi", "n": 3, "b": True, "o": {"k": [1, "é"]}}) == \
        'hi|3|true|{"k":[1,"é"]}|{{u}}'


def test_converse_request_text() -> None:
    template = {"modelId": "m", "templateConfiguration": {"text": {"text": "Tell {{who}}"}},
                "inferenceConfiguration": {"text": {"temperature": 0.5}}}
    request = converse_request(template, {"who": "me"})
    assert request == {"modelId": "m", "messages": [{"role": "user", "content": [{"text": "Tell me"}]}],
                       "inferenceConfig": {"temperature": 0.5}}
    assert rendered_prompt(request) == "Tell me"


def test_converse_request_chat_uses_last_user_message_as_prompt() -> None:
    template = {"modelId": "m", "templateConfiguration": {"chat": {"messages": [
        {"role": "user", "content": [{"text": "a {{v}}"}]},
        {"role": "assistant", "content": [{"text": "b"}]},
        {"role": "user", "content": [{"text": "c {{v}}"}]}], "system": [{"text": "sys"}]}}}
    request = converse_request(template, {"v": 1})
    assert request["system"] == [{"text": "sys"}]
    assert rendered_prompt(request) == "c 1"
