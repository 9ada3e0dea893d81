"""The dataflow scheduler and node behaviours, run in-process."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.flows import FlowEnv, FlowFailure, FlowRun, MockBook, parse
from engine.tasks.registry import TaskRegistry
from tests.engine.flows._defs import cond, condition, data, inp, io, out, passthrough, prompt

Def = dict[str, Any]


async def _run(definition: Def, content: Any, *, mocks: dict[str, Any] | None = None, trace: bool = False,
               **env: Any) -> tuple[list[dict[str, Any]], FlowRun]:
    events: list[dict[str, Any]] = []
    run = FlowRun(parse(definition), FlowEnv(mocks=MockBook(mocks or {}), **env), events.append, trace=trace)
    await run.start(content)
    return events, run


def _outputs(events: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(e["flowOutputEvent"]["nodeName"], e["flowOutputEvent"]["content"]["document"])
            for e in events if "flowOutputEvent" in e]


def _traces(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(kind, body["nodeName"]) for e in events if "flowTraceEvent" in e
            for kind, body in e["flowTraceEvent"]["trace"].items()]


async def test_passthrough() -> None:
    events, _ = await _run(passthrough(), "hi")
    assert events == [
        {"flowOutputEvent": {"nodeName": "Out", "nodeType": "FlowOutputNode", "content": {"document": "hi"}}},
        {"flowCompletionEvent": {"completionReason": "SUCCESS"}},
    ]


async def test_flow_input_type_mismatch() -> None:
    with pytest.raises(FlowFailure) as info:
        await _run(passthrough(), {"a": 1})
    assert (info.value.code, info.value.message) == (
        "validationException", "Expected type for Node Output document of Node In to be STRING. Actual type is OBJECT.")


async def test_node_input_type_mismatch_after_expression() -> None:
    definition = {"nodes": [inp(type_="Object"), out(type_="Number", expression="$.data.count")],
                  "connections": [data("In", "document", "Out", "document")]}
    with pytest.raises(FlowFailure) as info:
        await _run(definition, {"count": "five"})
    assert info.value.message == "Expected type for Node Input document of Node Out to be NUMBER. Actual type is STRING."


async def test_expression_without_match_fails() -> None:
    definition = {"nodes": [inp(type_="Object"), out(expression="$.data.missing")],
                  "connections": [data("In", "document", "Out", "document")]}
    with pytest.raises(FlowFailure) as info:
        await _run(definition, {"a": "x"})
    assert info.value.message == ("The expression $.data.missing of Node Input document of Node Out selects "
                                  "nothing from the input.")


def _gated(conditions: list[tuple[str, str | None]]) -> Def:
    return {"nodes": [inp(), condition("C", [io("x")], conditions), out("A"), out("B")],
            "connections": [data("In", "document", "C", "x"), data("In", "document", "A", "document"),
                            data("In", "document", "B", "document"), cond("C", "isA", "A"),
                            cond("C", conditions[-1][0], "B")]}


async def test_condition_gates_and_prunes_with_trace() -> None:
    events, _ = await _run(_gated([("isA", 'x == "a"'), ("default", None)]), "a", trace=True)
    assert _outputs(events) == [("A", "a")]
    assert _traces(events) == [("nodeOutputTrace", "In"), ("nodeInputTrace", "C"),
                               ("conditionNodeResultTrace", "C"), ("nodeInputTrace", "A")]
    result = next(e["flowTraceEvent"]["trace"]["conditionNodeResultTrace"] for e in events
                  if "conditionNodeResultTrace" in e.get("flowTraceEvent", {}).get("trace", {}))
    assert result["satisfiedConditions"] == [{"conditionName": "isA"}]


async def test_condition_default_branch() -> None:
    events, _ = await _run(_gated([("isA", 'x == "a"'), ("default", None)]), "b")
    assert _outputs(events) == [("B", "b")]


async def test_condition_no_match_and_no_default_runs_no_branch() -> None:
    events, _ = await _run(_gated([("isA", 'x == "a"'), ("isB", 'x == "b"')]), "z")
    assert events == [{"flowCompletionEvent": {"completionReason": "SUCCESS"}}]


async def test_condition_type_error_fails_the_node() -> None:
    with pytest.raises(FlowFailure) as info:
        await _run(_gated([("isA", "x > 1"), ("default", None)]), "a")
    assert info.value.message == ("Condition 'isA' of Node C cannot be evaluated: Operator '>' needs two Number "
                                  "operands, got STRING and NUMBER.")


def _iterate(with_collector: bool) -> Def:
    nodes = [inp(type_="Array"),
             {"name": "It", "type": "Iterator", "configuration": {"iterator": {}}, "inputs": [io("array", type_="Array")],
              "outputs": [{"name": "arrayItem", "type": "String"}, {"name": "arraySize", "type": "Number"}]},
             prompt("P", "Say {{item}}", [io("item")])]
    connections = [data("In", "document", "It", "array"), data("It", "arrayItem", "P", "item")]
    if with_collector:
        nodes += [{"name": "Col", "type": "Collector", "configuration": {"collector": {}},
                   "inputs": [io("arrayItem"), io("arraySize", type_="Number")],
                   "outputs": [{"name": "collectedArray", "type": "Array"}]}, out(type_="Array")]
        connections += [data("P", "modelCompletion", "Col", "arrayItem"), data("It", "arraySize", "Col", "arraySize"),
                        data("Col", "collectedArray", "Out", "document")]
    else:
        nodes.append(out())
        connections.append(data("P", "modelCompletion", "Out", "document"))
    return {"nodes": nodes, "connections": connections}


async def test_iterator_collector_through_registry() -> None:
    registry = TaskRegistry()
    seen: list[str] = []

    @registry.task("anthropic.claude-v2")
    async def model(request: dict[str, Any]) -> dict[str, Any]:
        text = request["messages"][0]["content"][0]["text"]
        seen.append(text)
        return {"output": {"message": {"role": "assistant", "content": [{"text": text.upper()}]}}}

    events, _ = await _run(_iterate(True), ["a", "b", "c"], registry=registry)
    assert _outputs(events) == [("Out", ["SAY A", "SAY B", "SAY C"])]
    assert seen == ["Say a", "Say b", "Say c"]


async def test_iterator_empty_array_collects_nothing() -> None:
    events, _ = await _run(_iterate(True), [], mocks={"P": "x"})
    assert _outputs(events) == [("Out", [])]


async def test_iterator_without_collector_outputs_each_item_with_execution_chain() -> None:
    events, _ = await _run(_iterate(False), ["a", "b"], mocks={"P": {"$sequence": ["1", "2"]}}, trace=True)
    assert _outputs(events) == [("Out", "1"), ("Out", "2")]
    chains = [f["executionChain"] for e in events if "nodeInputTrace" in e.get("flowTraceEvent", {}).get("trace", {})
              for f in e["flowTraceEvent"]["trace"]["nodeInputTrace"]["fields"] if e["flowTraceEvent"]["trace"]["nodeInputTrace"]["nodeName"] == "Out"]
    assert chains == [[{"nodeName": "It", "type": "Iterator", "index": 0}], [{"nodeName": "It", "type": "Iterator", "index": 1}]]


async def test_prompt_without_any_model_names_the_model_id() -> None:
    definition = {"nodes": [inp(), prompt("P", "{{q}}", [io("q")], model="amazon.nova-lite-v1:0"), out()],
                  "connections": [data("In", "document", "P", "q"), data("P", "modelCompletion", "Out", "document")]}
    with pytest.raises(FlowFailure) as info:
        await _run(definition, "hello")
    assert info.value.code == "dependencyFailedException"
    assert info.value.resource_name == "amazon.nova-lite-v1:0"
    assert info.value.message == (
        "No model is configured for 'amazon.nova-lite-v1:0' (node 'P'). Register a handler for this model id in the "
        "task registry, start statesim with --model-endpoint URL (an OpenAI-compatible server such as Ollama, "
        "llama.cpp or vLLM) or --bedrock (real Amazon Bedrock), or give a flow mock file (statesim serve "
        "--flow-mocks FILE) with an answer for this node.")


async def test_prompt_action_trace_shows_converse_request() -> None:
    definition = {"nodes": [inp(), prompt("P", "Q: {{q}}", [io("q")]), out()],
                  "connections": [data("In", "document", "P", "q"), data("P", "modelCompletion", "Out", "document")]}
    events, _ = await _run(definition, "why", mocks={"P": "because"}, trace=True)
    action = next(e["flowTraceEvent"]["trace"]["nodeActionTrace"] for e in events
                  if "nodeActionTrace" in e.get("flowTraceEvent", {}).get("trace", {}))
    assert (action["serviceName"], action["operationName"]) == ("bedrock", "Converse")
    assert action["operationRequest"]["messages"] == [{"role": "user", "content": [{"text": "Q: why"}]}]
    assert _traces(events) == [("nodeOutputTrace", "In"), ("nodeInputTrace", "P"), ("nodeActionTrace", "P"),
                               ("nodeOutputTrace", "P"), ("nodeInputTrace", "Out")]


async def test_mock_error_and_exhausted_sequence() -> None:
    definition = {"nodes": [inp(), prompt("P", "{{q}}", [io("q")]), out()],
                  "connections": [data("In", "document", "P", "q"), data("P", "modelCompletion", "Out", "document")]}
    with pytest.raises(FlowFailure) as info:
        await _run(definition, "x", mocks={"P": {"$error": {"code": "ThrottlingException", "message": "slow down"}}})
    assert (info.value.code, info.value.message) == ("throttlingException", "slow down")
    with pytest.raises(FlowFailure) as info:
        await _run(definition, "x", mocks={"P": {"$sequence": []}})
    assert info.value.message == "The mock of node 'P' has 0 answers; call 1 has none."


def _code_flow(source: str, out_type: str = "String") -> Def:
    node = {"name": "Code", "type": "InlineCode", "configuration": {"inlineCode": {"code": source, "language": "Python_3"}},
            "inputs": [io("text")], "outputs": [{"name": "response", "type": out_type}]}
    return {"nodes": [inp(), node, out(type_=out_type)],
            "connections": [data("In", "document", "Code", "text"), data("Code", "response", "Out", "document")]}


async def test_inline_code_runs_python() -> None:
    events, _ = await _run(_code_flow("print('ignored')\ntext.upper() + '!'"), "hey")
    assert _outputs(events) == [("Out", "HEY!")]


async def test_inline_code_exception_fails_the_node() -> None:
    with pytest.raises(FlowFailure) as info:
        await _run(_code_flow("int(text)"), "abc")
    assert info.value.message == ("Inline code of Node Code failed: ValueError: invalid literal for int() "
                                  "with base 10: 'abc'")


async def test_inline_code_infinite_loop_is_killed() -> None:
    with pytest.raises(FlowFailure) as info:
        await _run(_code_flow("while True:\n    pass"), "x", inline_timeout=0.5)
    assert info.value.message == "Inline code of Node Code failed: TimeoutError: The code did not finish within 0.5 seconds."


async def test_node_output_type_is_checked() -> None:
    with pytest.raises(FlowFailure) as info:
        await _run(_code_flow("len(text)"), "abc")
    assert info.value.message == "Expected type for Node Output response of Node Code to be STRING. Actual type is NUMBER."


async def test_lambda_event_shape() -> None:
    registry = TaskRegistry()
    events_seen: list[Any] = []

    @registry.task("arn:aws:lambda:us-east-1:123456789012:function:f")
    def handler(event: dict[str, Any]) -> Any:
        events_seen.append(event)
        return {"n": event["node"]["inputs"][0]["value"] * 2}

    node = {"name": "Fn", "type": "LambdaFunction",
            "configuration": {"lambdaFunction": {"lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:f"}},
            "inputs": [io("codeHookInput", "$.data[1]", "Number")], "outputs": [{"name": "functionResponse", "type": "Object"}]}
    definition = {"nodes": [inp(type_="Array"), node, out(type_="Object")],
                  "connections": [data("In", "document", "Fn", "codeHookInput"), data("Fn", "functionResponse", "Out", "document")]}
    events, _ = await _run(definition, [1, 2, 3], registry=registry, flow_arn="F", alias_arn="A")
    assert _outputs(events) == [("Out", {"n": 4})]
    assert events_seen == [{"messageVersion": "1.0", "flow": {"flowArn": "F", "flowAliasArn": "A"},
                            "node": {"name": "Fn", "inputs": [{"name": "codeHookInput", "type": "Number",
                                                               "expression": "$.data[1]", "value": 2}]}}]


def _agent_flow() -> Def:
    agent = {"name": "Ag", "type": "Agent", "configuration": {"agent": {"agentAliasArn": "arn:aws:bedrock:us-east-1:1:agent-alias/A/B"}},
             "inputs": [io("agentInputText")], "outputs": [{"name": "agentResponse", "type": "String"}]}
    return {"nodes": [inp(), agent, out()],
            "connections": [data("In", "document", "Ag", "agentInputText"), data("Ag", "agentResponse", "Out", "document")]}


async def test_agent_multi_turn_pause_and_resume() -> None:
    events, run = await _run(_agent_flow(), "plan", mocks={"Ag": {"$sequence": [{"$inputRequired": "How many?"}, "Done"]}})
    assert events == [
        {"flowMultiTurnInputRequestEvent": {"nodeName": "Ag", "nodeType": "AgentNode", "content": {"document": "How many?"}}},
        {"flowCompletionEvent": {"completionReason": "INPUT_REQUIRED"}},
    ]
    events.clear()
    assert await run.resume("Ag", "agentInputText", "three") == "SUCCESS"
    assert _outputs(events) == [("Out", "Done")]
    with pytest.raises(FlowFailure) as info:
        await run.resume("Ag", "agentInputText", "again")
    assert info.value.message.startswith("Error retrieving session context")


async def test_lex_mock() -> None:
    lex = {"name": "Bot", "type": "Lex", "configuration": {"lex": {"botAliasArn": "arn:aws:lex:us-east-1:1:bot-alias/B/A", "localeId": "en_US"}},
           "inputs": [io("inputText")], "outputs": [{"name": "predictedIntent", "type": "String"}]}
    definition = {"nodes": [inp(), lex, out()],
                  "connections": [data("In", "document", "Bot", "inputText"), data("Bot", "predictedIntent", "Out", "document")]}
    events, _ = await _run(definition, "book a hotel", mocks={"Bot": "BookHotel"})
    assert _outputs(events) == [("Out", "BookHotel")]


async def test_storage_then_retrieval_in_a_local_directory(tmp_path: Path) -> None:
    s3 = {"serviceConfiguration": {"s3": {"bucketName": "bkt"}}}
    store = {"name": "Put", "type": "Storage", "configuration": {"storage": s3},
             "inputs": [io("content"), io("objectKey", "$.data")], "outputs": [{"name": "s3Uri", "type": "String"}]}
    get = {"name": "Get", "type": "Retrieval", "configuration": {"retrieval": s3},
           "inputs": [io("objectKey")], "outputs": [{"name": "s3Content", "type": "String"}]}
    code = {"name": "Key", "type": "InlineCode", "configuration": {"inlineCode": {"code": "uri.rsplit('/', 1)[1]", "language": "Python_3"}},
            "inputs": [io("uri")], "outputs": [{"name": "response", "type": "String"}]}
    definition = {"nodes": [inp(), store, code, get, out(), out("Uri")],
                  "connections": [data("In", "document", "Put", "content"), data("In", "document", "Put", "objectKey"),
                                  data("Put", "s3Uri", "Uri", "document"), data("Put", "s3Uri", "Key", "uri"),
                                  data("Key", "response", "Get", "objectKey"), data("Get", "s3Content", "Out", "document")]}
    events, _ = await _run(definition, "hello.txt", s3_dir=tmp_path)
    assert (tmp_path / "bkt" / "hello.txt").read_text() == "hello.txt"
    assert sorted(_outputs(events)) == [("Out", "hello.txt"), ("Uri", "s3://bkt/hello.txt")]


async def test_storage_without_s3_dir_says_how_to_configure() -> None:
    s3 = {"serviceConfiguration": {"s3": {"bucketName": "bkt"}}}
    store = {"name": "Put", "type": "Storage", "configuration": {"storage": s3},
             "inputs": [io("content"), io("objectKey")], "outputs": [{"name": "s3Uri", "type": "String"}]}
    definition = {"nodes": [inp(), store, out()],
                  "connections": [data("In", "document", "Put", "content"), data("In", "document", "Put", "objectKey"),
                                  data("Put", "s3Uri", "Out", "document")]}
    with pytest.raises(FlowFailure) as info:
        await _run(definition, "k")
    assert info.value.message == ("No S3 is configured for bucket 'bkt' (node 'Put'). Start statesim with --s3-dir DIR "
                                  "to keep buckets in a local directory.")


async def test_knowledge_base_local_folder(tmp_path: Path) -> None:
    (tmp_path / "flows.md").write_text("Flows connect nodes with connections.\n\nUnrelated paragraph about cats.")
    (tmp_path / "other.txt").write_text("Nothing relevant here at all.")
    kb = {"name": "KB", "type": "KnowledgeBase", "configuration": {"knowledgeBase": {"knowledgeBaseId": "KB12345678"}},
          "inputs": [io("retrievalQuery")], "outputs": [{"name": "retrievalResults", "type": "Array"}]}
    definition = {"nodes": [inp(), kb, out(type_="Array")],
                  "connections": [data("In", "document", "KB", "retrievalQuery"), data("KB", "retrievalResults", "Out", "document")]}
    events, _ = await _run(definition, "how do flows connect nodes", knowledge_bases={"KB12345678": tmp_path})
    [(_, results)] = _outputs(events)
    assert results[0]["content"]["text"].startswith("Flows connect nodes")
    assert results[0]["location"] == {"type": "S3", "s3Location": {"uri": f"s3://{tmp_path.name}/flows.md"}}
    assert results[0]["score"] == 0.6


def _loop_flow(expression: str, max_iterations: int = 10) -> Def:
    body = {"nodes": [
        {"name": "Start", "type": "LoopInput", "configuration": {"loopInput": {}}, "outputs": [{"name": "n", "type": "Number"}]},
        {"name": "Inc", "type": "InlineCode", "configuration": {"inlineCode": {"code": "n + 1", "language": "Python_3"}},
         "inputs": [io("n", type_="Number")], "outputs": [{"name": "response", "type": "Number"}]},
        {"name": "Ctl", "type": "LoopController",
         "configuration": {"loopController": {"continueCondition": {"name": "go", "expression": expression},
                                              "maxIterations": max_iterations}},
         "inputs": [{**io("count", type_="Number"), "category": "LoopCondition"},
                    {**io("n", type_="Number"), "category": "ReturnValueToLoopStart"},
                    {**io("total", type_="Number"), "category": "ExitLoop"}]}],
        "connections": [data("Start", "n", "Inc", "n"), data("Inc", "response", "Ctl", "count"),
                        data("Inc", "response", "Ctl", "n"), data("Inc", "response", "Ctl", "total")]}
    loop = {"name": "L", "type": "Loop", "configuration": {"loop": {"definition": body}},
            "inputs": [io("n", type_="Number")], "outputs": [{"name": "total", "type": "Number"}]}
    return {"nodes": [inp(type_="Number"), loop, out(type_="Number")],
            "connections": [data("In", "document", "L", "n"), data("L", "total", "Out", "document")]}


async def test_loop_continues_while_condition_holds() -> None:
    events, _ = await _run(_loop_flow("count < 3"), 0)
    assert _outputs(events) == [("Out", 3)]


async def test_loop_stops_at_max_iterations() -> None:
    events, _ = await _run(_loop_flow("count < 100", 4), 0)
    assert _outputs(events) == [("Out", 4)]


async def test_loop_exit_when_true_reading() -> None:
    events, _ = await _run(_loop_flow("count < 3"), 0, exit_when_true=True)
    assert _outputs(events) == [("Out", 1)]


async def test_knowledge_base_with_model_generates_from_local_results(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("The capital of Wales is Cardiff.")
    registry = TaskRegistry()
    prompts: list[str] = []

    @registry.task("anthropic.claude-v2")
    def model(request: dict[str, Any]) -> str:
        prompts.append(request["messages"][0]["content"][0]["text"])
        return "Cardiff"

    kb = {"name": "KB", "type": "KnowledgeBase", "inputs": [io("retrievalQuery")],
          "configuration": {"knowledgeBase": {"knowledgeBaseId": "KB12345678", "modelId": "anthropic.claude-v2"}},
          "outputs": [{"name": "outputText", "type": "String"}]}
    definition = {"nodes": [inp(), kb, out()],
                  "connections": [data("In", "document", "KB", "retrievalQuery"), data("KB", "outputText", "Out", "document")]}
    events, _ = await _run(definition, "capital of Wales", knowledge_bases={"KB12345678": tmp_path}, registry=registry)
    assert _outputs(events) == [("Out", "Cardiff")]
    assert prompts == ["Answer the question using only the search results below.\n\nSearch results:\n"
                       "[1] The capital of Wales is Cardiff.\n\nQuestion: capital of Wales"]


async def test_nested_iterators_collect_per_outer_item() -> None:
    def iterator(name: str) -> Def:
        return {"name": name, "type": "Iterator", "configuration": {"iterator": {}}, "inputs": [io("array", type_="Array")],
                "outputs": [{"name": "arrayItem", "type": "Array" if name == "Outer" else "Number"},
                            {"name": "arraySize", "type": "Number"}]}

    def collector(name: str, item_type: str) -> Def:
        return {"name": name, "type": "Collector", "configuration": {"collector": {}},
                "inputs": [io("arrayItem", type_=item_type), io("arraySize", type_="Number")],
                "outputs": [{"name": "collectedArray", "type": "Array"}]}

    double = {"name": "Double", "type": "InlineCode", "configuration": {"inlineCode": {"code": "n * 2", "language": "Python_3"}},
              "inputs": [io("n", type_="Number")], "outputs": [{"name": "response", "type": "Number"}]}
    definition = {"nodes": [inp(type_="Array"), iterator("Outer"), iterator("Inner"), double,
                            collector("InnerCol", "Number"), collector("OuterCol", "Array"), out(type_="Array")],
                  "connections": [data("In", "document", "Outer", "array"), data("Outer", "arrayItem", "Inner", "array"),
                                  data("Inner", "arrayItem", "Double", "n"), data("Double", "response", "InnerCol", "arrayItem"),
                                  data("Inner", "arraySize", "InnerCol", "arraySize"),
                                  data("InnerCol", "collectedArray", "OuterCol", "arrayItem"),
                                  data("Outer", "arraySize", "OuterCol", "arraySize"),
                                  data("OuterCol", "collectedArray", "Out", "document")]}
    events, _ = await _run(definition, [[1, 2], [], [3]])
    assert _outputs(events) == [("Out", [[2, 4], [], [6]])]


async def test_a_node_without_connections_never_runs() -> None:
    definition = passthrough()
    definition["nodes"].append(prompt("Lonely", "static text", []))
    events, _ = await _run(definition, "x", mocks={"Lonely": "should not be called"}, trace=True)
    assert "Lonely" not in {name for _, name in _traces(events)}
    assert _outputs(events) == [("Out", "x")]


async def test_agent_registry_handler_keeps_one_session_across_turns() -> None:
    registry = TaskRegistry()
    seen: list[tuple[str, str]] = []

    @registry.task("arn:aws:bedrock:us-east-1:1:agent-alias/*")
    def agent(request: dict[str, Any]) -> Any:
        seen.append((request["sessionId"], request["inputText"]))
        return {"$inputRequired": "More?"} if len(seen) == 1 else "thanks"

    events, run = await _run(_agent_flow(), "hi", registry=registry, execution_arn="exec-1")
    assert events[-1] == {"flowCompletionEvent": {"completionReason": "INPUT_REQUIRED"}}
    await run.resume("Ag", "agentInputText", "yes")
    assert seen == [("exec-1", "hi"), ("exec-1", "yes")]


async def test_lambda_handler_exception_is_dependency_failed_naming_the_function() -> None:
    registry = TaskRegistry()
    arn = "arn:aws:lambda:us-east-1:123456789012:function:broken"

    @registry.task(arn)
    def handler(event: dict[str, Any]) -> Any:
        raise ValueError("bad payload")

    node = {"name": "Fn", "type": "LambdaFunction", "configuration": {"lambdaFunction": {"lambdaArn": arn}},
            "inputs": [io("codeHookInput")], "outputs": [{"name": "functionResponse", "type": "String"}]}
    definition = {"nodes": [inp(), node, out()],
                  "connections": [data("In", "document", "Fn", "codeHookInput"), data("Fn", "functionResponse", "Out", "document")]}
    with pytest.raises(FlowFailure) as info:
        await _run(definition, "x", registry=registry)
    assert (info.value.code, info.value.message, info.value.resource_name) == (
        "dependencyFailedException", "ValueError: bad payload", arn)
