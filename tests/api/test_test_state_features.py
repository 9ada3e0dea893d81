"""TestState as AWS documents it: validation, variables, context, JSONata inspection, stateConfiguration,
Map and Parallel mocks, HTTP inspection at TRACE (real boto3 clients against the real server)."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ROLE

JSONATA_TASK = {"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "foo", "Payload": "{% $states.input.v %}"}, "End": True}
RETRY_TASK = {"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Arguments": {"FunctionName": "foo", "Payload": "bar"},
              "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5,
                         "BackoffRate": 2.0}], "End": True}
MAP = {"Type": "Map", "ItemsPath": "$.Values", "MaxConcurrency": 2,
       "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
       "ItemProcessor": {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "End": True}}},
       "ResultPath": "$.results", "End": True}
PARALLEL = {"Type": "Parallel", "Branches": [
    {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": True}}},
    {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": True}}}], "End": True}
MOCK_ERROR = {"errorOutput": {"error": "MockException", "cause": "mocked cause"}}


def _error(sfn: Any, **kw: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as excinfo:
        sfn.test_state(**kw)
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


@pytest.mark.parametrize(("kw", "message"), [
    ({"definition": json.dumps(JSONATA_TASK), "mock": {"result": "{}", **MOCK_ERROR}},
     "A test mock should have only one of the following fields: [result, errorOutput]."),
    ({"definition": json.dumps({"Type": "Pass", "End": True}), "mock": {"result": "{}"}},
     "State type 'Pass' is not supported when a mock is specified"),
    ({"definition": json.dumps({"Type": "Fail", "Error": "E"}), "mock": MOCK_ERROR},
     "State type 'Fail' is not supported when a mock is specified"),
    ({"definition": json.dumps({"Type": "Succeed"}), "mock": {"result": "{}"}},
     "State type 'Succeed' is not supported when a mock is specified"),
    ({"definition": json.dumps(JSONATA_TASK), "mock": {"result": "{}"}, "revealSecrets": True},
     "TestState does not support RevealSecrets when a mock is specified."),
    ({"definition": json.dumps(MAP), "roleArn": ROLE, "stateConfiguration": {"mapIterationFailureCount": 0}},
     "TestState does not support MapIterationFailureCount when a mock is not specified."),
    ({"definition": json.dumps(JSONATA_TASK)}, "RoleArn must be specified when testing a Task state"),
    ({"definition": json.dumps(MAP), "mock": {"result": '{"not": "an array"}'}}, "Mocked result must be an array."),
    ({"definition": json.dumps(dict(MAP, ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                                                       "Parameters": {"Bucket": "b", "Prefix": "p"}})),
      "mock": {"result": "[1]"}}, "Mocked result must be a JSON object."),
    ({"definition": json.dumps(PARALLEL), "mock": {"result": '{"a": 1}'}}, "Mocked result must be an array."),
    ({"definition": json.dumps(PARALLEL), "mock": {"result": "[1]"}},
     "Mocked result must contain the same number of items as number of Parallel branches."),
    ({"definition": json.dumps(MAP), "input": '{"Values": [1, 2, 3]}', "mock": {"result": "[1, 1, 1]"},
      "stateConfiguration": {"mapIterationFailureCount": 4}},
     "Map iteration failure count must be less than or equal to the number of Map iterations"),
])
def test_validation_errors(sfn: Any, kw: dict[str, Any], message: str) -> None:
    assert _error(sfn, **kw) == ("ValidationException", message)


@pytest.mark.parametrize("state", [MAP, PARALLEL])
def test_map_and_parallel_need_a_mock(sfn: Any, state: dict[str, Any]) -> None:
    assert _error(sfn, definition=json.dumps(state), roleArn=ROLE) == (
        "InvalidDefinition", "TestState API does not support Map or Parallel states. "
                             "Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]")


def test_mock_makes_the_role_optional(sfn: Any) -> None:
    response = sfn.test_state(definition=json.dumps(JSONATA_TASK), input='{"v": 1}', mock={"result": '{"ok": 1}'})
    assert (response["status"], json.loads(response["output"])) == ("SUCCEEDED", {"ok": 1})


def test_reveal_secrets_is_accepted_without_mock(sfn: Any) -> None:
    response = sfn.test_state(definition=json.dumps({"Type": "Pass", "End": True}), input='{"a": 1}',
                              revealSecrets=True, inspectionLevel="TRACE")
    assert response["status"] == "SUCCEEDED"


def test_jsonata_task_inspection(sfn: Any) -> None:
    response = sfn.test_state(definition=json.dumps(JSONATA_TASK), input='{"v": "x"}', inspectionLevel="DEBUG",
                              mock={"result": '{"StatusCode": 200, "Payload": "done"}'}, roleArn=ROLE)
    data = response["inspectionData"]
    assert json.loads(data["afterArguments"]) == {"FunctionName": "foo", "Payload": "x"}
    assert json.loads(data["result"]) == {"StatusCode": 200, "Payload": "done"}
    assert "afterInputPath" not in data and "afterParameters" not in data
    info = sfn.test_state(definition=json.dumps(JSONATA_TASK), input='{"v": "x"}',
                          mock={"result": '{"Payload": "done"}'})
    assert "inspectionData" not in info


def test_variables_seed_the_state_and_are_inspected(sfn: Any) -> None:
    state = {"Type": "Pass", "Parameters": {"greeting.$": "$who"}, "Assign": {"seen.$": "$.greeting"},
             "End": True}
    response = sfn.test_state(definition=json.dumps(state), input='{"n": 7}', variables='{"who": "world"}',
                              inspectionLevel="DEBUG")
    assert json.loads(response["output"]) == {"greeting": "world"}
    assert json.loads(response["inspectionData"]["variables"]) == {"who": "world", "seen": "world"}
    assert json.loads(response["inspectionData"]["afterParameters"]) == {"greeting": "world"}


def test_jsonata_variables(sfn: Any) -> None:
    state = {"QueryLanguage": "JSONata", "Type": "Pass", "Output": "{% $base + $states.input.n %}",
             "Assign": {"total": "{% $base * 2 %}"}, "Next": "After"}
    response = sfn.test_state(definition=json.dumps(state), input='{"n": 1}', variables='{"base": 10}',
                              inspectionLevel="TRACE")
    assert (json.loads(response["output"]), response["nextState"]) == (11, "After")
    assert json.loads(response["inspectionData"]["variables"]) == {"base": 10, "total": 20}


def test_context_object_with_a_mock(sfn: Any) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"},
             "ResultSelector": {"name.$": "$$.Execution.Name", "machine.$": "$$.StateMachine.Name",
                                "payload.$": "$.Payload"}, "End": True}
    context = {"Execution": {"Name": "my-execution", "Id": "arn:aws:states:us-east-1:123456789012:execution:M:x"},
               "StateMachine": {"Name": "MyMachine"}}
    response = sfn.test_state(definition=json.dumps(state), context=json.dumps(context),
                              mock={"result": '{"Payload": 3}'}, inspectionLevel="DEBUG")
    assert json.loads(response["output"]) == {"name": "my-execution", "machine": "MyMachine", "payload": 3}
    assert json.loads(response["inspectionData"]["afterResultSelector"]) == json.loads(response["output"])


def test_retrier_retry_count(sfn: Any) -> None:
    below = sfn.test_state(definition=json.dumps(RETRY_TASK), mock=MOCK_ERROR, inspectionLevel="DEBUG",
                           stateConfiguration={"retrierRetryCount": 4})
    assert (below["status"], below["error"], below["cause"]) == ("RETRIABLE", "MockException", "mocked cause")
    assert below["inspectionData"]["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 16}
    assert "nextState" not in below and "output" not in below
    exhausted = sfn.test_state(definition=json.dumps(RETRY_TASK), mock=MOCK_ERROR, inspectionLevel="DEBUG",
                               stateConfiguration={"retrierRetryCount": 5})
    assert exhausted["status"] == "FAILED"
    assert exhausted["inspectionData"]["errorDetails"] == {"retryIndex": 0}
    assert json.loads(exhausted["inspectionData"]["afterArguments"]) == {"FunctionName": "foo", "Payload": "bar"}


def test_retry_wins_over_catch_until_exhausted(sfn: Any) -> None:
    state = dict(RETRY_TASK, Retry=[{"ErrorEquals": ["MockException"], "MaxAttempts": 1}],
                 Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handler"}])
    retriable = sfn.test_state(definition=json.dumps(state), mock=MOCK_ERROR)
    assert retriable["status"] == "RETRIABLE"
    caught = sfn.test_state(definition=json.dumps(state), mock=MOCK_ERROR, inspectionLevel="DEBUG",
                            stateConfiguration={"retrierRetryCount": 1})
    assert (caught["status"], caught["nextState"]) == ("CAUGHT_ERROR", "Handler")
    assert caught["inspectionData"]["errorDetails"] == {"catchIndex": 0}


def test_mocked_map_state(sfn: Any) -> None:
    response = sfn.test_state(definition=json.dumps(MAP), input='{"Values": ["a", "b"]}', inspectionLevel="DEBUG",
                              mock={"result": '["A", "B"]'})
    assert response["status"] == "SUCCEEDED"
    assert json.loads(response["output"]) == {"Values": ["a", "b"], "results": ["A", "B"]}
    data = response["inspectionData"]
    assert data["maxConcurrency"] == 2
    assert json.loads(data["afterInputPath"]) == {"Values": ["a", "b"]}
    assert json.loads(data["afterItemsPath"]) == ["a", "b"]
    assert json.loads(data["afterItemSelector"]) == [{"value": "a", "index": 0}, {"value": "b", "index": 1}]


def test_map_iteration_failure_count(sfn: Any) -> None:
    state = dict(MAP, ToleratedFailureCount=1,
                 Catch=[{"ErrorEquals": ["MockException"], "Next": "Other"},
                        {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "HandleThreshold"}])
    kw: dict[str, Any] = {"definition": json.dumps(state), "input": '{"Values": [1, 2, 3]}',
                          "mock": {"result": "[1, 0, 0]"}, "inspectionLevel": "DEBUG"}
    below = sfn.test_state(stateConfiguration={"mapIterationFailureCount": 1}, **kw)
    assert below["status"] == "SUCCEEDED"
    assert below["inspectionData"]["toleratedFailureCount"] == 1
    exceeded = sfn.test_state(stateConfiguration={"mapIterationFailureCount": 2}, **kw)
    assert (exceeded["status"], exceeded["nextState"], exceeded["error"], exceeded["cause"]) == (
        "CAUGHT_ERROR", "HandleThreshold", "States.ExceedToleratedFailureThreshold",
        "The specified tolerated failure threshold was exceeded")
    assert exceeded["inspectionData"]["errorDetails"] == {"catchIndex": 1}
    retried = dict(state, Retry=[{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 2}])
    response = sfn.test_state(**dict(kw, definition=json.dumps(retried)),
                              stateConfiguration={"mapIterationFailureCount": 3})
    assert response["status"] == "RETRIABLE"
    assert response["inspectionData"]["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 1}


def test_mocked_map_error_and_error_caused_by_state(sfn: Any) -> None:
    response = sfn.test_state(definition=json.dumps(MAP), input='{"Values": [1]}', mock=MOCK_ERROR,
                              stateConfiguration={"errorCausedByState": "Inner"})
    assert (response["status"], response["error"], response["cause"]) == ("FAILED", "MockException", "mocked cause")


def test_mocked_parallel_state(sfn: Any) -> None:
    state = {k: v for k, v in PARALLEL.items() if k != "End"}
    state.update(ResultSelector={"first.$": "$[0]"}, Next="After")
    response = sfn.test_state(definition=json.dumps(state), input="{}", mock={"result": '[{"x": 1}, {"y": 2}]'})
    assert (response["status"], json.loads(response["output"]), response["nextState"]) == (
        "SUCCEEDED", {"first": {"x": 1}}, "After")


def test_state_of_a_full_jsonata_machine(sfn: Any) -> None:
    machine = {"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"}, "Next": "C"},
        "C": {"Type": "Succeed"}}}
    response = sfn.test_state(definition=json.dumps(machine), stateName="B", input='{"k": 1}',
                              mock={"result": '{"Payload": 2}'}, inspectionLevel="DEBUG")
    assert (response["status"], response["nextState"]) == ("SUCCEEDED", "C")
    assert json.loads(response["inspectionData"]["afterArguments"]) == {"FunctionName": "f", "Payload": {"k": 1}}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length", 0))
        body = json.dumps({"echo": json.loads(self.rfile.read(length) or b"null")}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def http_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_http_task_trace(sfn: Any, http_api: str) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
             "Parameters": {"ApiEndpoint": http_api + "/items", "Method": "POST", "QueryParameters": {"q": "1"},
                            "Headers": {"X-Test": "yes"}, "RequestBody": {"name.$": "$.name"},
                            "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/c/x"}},
             "End": True}
    kw: dict[str, Any] = {"definition": json.dumps(state), "roleArn": ROLE, "input": '{"name": "n"}'}
    response = sfn.test_state(inspectionLevel="TRACE", revealSecrets=True, **kw)
    assert response["status"] == "SUCCEEDED"
    request, answer = response["inspectionData"]["request"], response["inspectionData"]["response"]
    assert (request["protocol"], request["method"], request["url"]) == ("http", "POST", http_api + "/items?q=1")
    assert json.loads(request["headers"]) == {"X-Test": "yes"} and json.loads(request["body"]) == {"name": "n"}
    assert (answer["statusCode"], answer["statusMessage"]) == ("201", "Created")
    assert json.loads(answer["body"]) == {"echo": {"name": "n"}}
    debug = sfn.test_state(inspectionLevel="DEBUG", **kw)
    assert "request" not in debug["inspectionData"] and "response" not in debug["inspectionData"]


def test_inspection_keys_per_state_kind(sfn: Any) -> None:
    def keys(state: dict[str, Any], **kw: Any) -> set[str]:
        response = sfn.test_state(definition=json.dumps(state), inspectionLevel="DEBUG", **kw)
        return set(response["inspectionData"])

    result_pass = {"Type": "Pass", "InputPath": "$.a", "Result": {"r": 1}, "ResultPath": "$.m", "End": True}
    assert keys(result_pass, input='{"a": {}}') == {"input", "result", "afterResultSelector", "afterResultPath"}
    assert keys({"Type": "Fail", "Error": "E"}) == {"input", "afterInputPath"}
    jsonata_pass = {"QueryLanguage": "JSONata", "Type": "Pass", "Output": "{% $states.input %}", "End": True}
    assert keys(jsonata_pass, input='{"a": 1}') == {"input"}
    assert keys(jsonata_pass, input='{"a": 1}', variables="{}") == {"input"}
    parallel = dict(PARALLEL, ResultSelector={"first.$": "$[0]"}, ResultPath="$.r")
    response = sfn.test_state(definition=json.dumps(parallel), input='{"k": 0}', inspectionLevel="DEBUG",
                              mock={"result": "[1, 2]"})
    data = response["inspectionData"]
    assert set(data) == {"input", "afterResultSelector", "afterResultPath"}
    assert json.loads(data["afterResultSelector"]) == {"first": 1}
    assert json.loads(data["afterResultPath"]) == {"k": 0, "r": {"first": 1}}


def test_context_role_arn_is_null_without_a_role(sfn: Any) -> None:
    state = {"QueryLanguage": "JSONata", "Type": "Pass", "Output": "{% $states.context.Execution %}", "End": True}
    response = sfn.test_state(definition=json.dumps(state))
    execution = json.loads(response["output"])
    assert execution["RoleArn"] is None and execution["Id"].split(":")[5] == "express"


def test_whole_machine_is_validated(sfn: Any) -> None:
    machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}, "Broken": {"Type": "Nope", "End": True}}}
    code, message = _error(sfn, definition=json.dumps(machine), stateName="A")
    assert code == "InvalidDefinition"
    assert message.startswith("Invalid State Machine Definition: ") and "/States/Broken/Type" in message


@pytest.mark.parametrize(("context", "message"), [
    ({"Execution": {"Id": 1}}, "Invalid Context object provided: Execution.Id must be a string"),
    ({"Map": {}}, "Invalid Context object provided: 'Map' field is not supported when mocking a Context object"),
    ({"Execution": {"pokemon": "squirtle"}}, "Invalid Context object provided: Field 'pokemon' is not allowed"),
    ({"Pokedex": {}}, "Invalid Context object provided: Field 'Pokedex' is not allowed"),
    ({"Task": {"Token": "abc"}}, "Invalid Context object provided: Context object contains 'Task' when state is "
                                 "not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern"),
])
def test_context_validation(sfn: Any, context: dict[str, Any], message: str) -> None:
    kw = {"definition": json.dumps(JSONATA_TASK), "input": '{"v": 1}', "mock": {"result": "{}"},
          "context": json.dumps(context)}
    assert _error(sfn, **kw) == ("ValidationException", message)


def test_context_with_task_token_for_a_callback_task(sfn: Any) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
             "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
             "ResultPath": "$.SQS", "End": True}
    context = {"Execution": {"Name": "e"}, "Task": {"Token": "abcd123"}}
    response = sfn.test_state(definition=json.dumps(state), input="{}", context=json.dumps(context),
                              mock={"result": '{"ok": true}'}, inspectionLevel="DEBUG")
    assert (response["status"], json.loads(response["output"])) == ("SUCCEEDED", {"SQS": {"ok": True}})


def _task(resource: str, **parameters: Any) -> str:
    return json.dumps({"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True})


PUT_EVENTS = _task("arn:aws:states:::events:putEvents", Entries=[{"Detail": "d", "DetailType": "t", "Source": "s"}])
START_EXECUTION = _task("arn:aws:states:::states:startExecution", StateMachineArn="arn")


@pytest.mark.parametrize(("definition", "result", "message"), [
    (PUT_EVENTS, {"Entries": "not a list"}, "Field 'Entries' must be an array"),
    (PUT_EVENTS, {"Entries": [{"EventId": "ok"}, {"EventId": ["wrong"]}]}, "Field 'EventId' must be a string"),
    (START_EXECUTION, {}, "Required field 'ExecutionArn' is missing"),
    (START_EXECUTION, {"executionArn": "a", "startDate": "d"}, "Required field 'ExecutionArn' is missing"),
    (START_EXECUTION, {"ExecutionArn": "a", "StartDate": True}, "Field 'StartDate' must be a string"),
    (START_EXECUTION, {"ExecutionArn": "a", "StartDate": 1764103483}, "Field 'StartDate' must be a string"),
    (_task("arn:aws:states:::lambda:invoke", FunctionName="f"), {"StatusCode": "200"},
     "Field 'StatusCode' must be a number"),
    (_task("arn:aws:states:::dynamodb:getItem", TableName="t", Key={}), {"ConsumedCapacity": {"CapacityUnits": "1.5"}},
     "Field 'CapacityUnits' must be a number"),
    (_task("arn:aws:states:::aws-sdk:s3:getObject", Bucket="b", Key="k"), {"ContentLength": "12"},
     "Field 'ContentLength' must be a number"),
    (_task("arn:aws:states:::aws-sdk:s3:getObject", Bucket="b", Key="k"), {"StorageClass": "NOPE"},
     "Field 'StorageClass' is not an expected value"),
    (_task("arn:aws:states:::aws-sdk:kms:encrypt", KeyId="k", Plaintext="p"), {"CiphertextBlob": 123},
     "Field 'CiphertextBlob' must be a string"),
    (_task("arn:aws:states:::aws-sdk:kms:encrypt", KeyId="k", Plaintext="p"), {"CiphertextBlob": ""},
     "Field 'CiphertextBlob' is smaller than the minimum length"),
    (_task("arn:aws:states:::aws-sdk:lambda:getFunction", FunctionName="f"),
     {"Configuration": {"MemorySize": 1}}, "Field 'MemorySize' is less than the minimum value"),
    (_task("arn:aws:states:::aws-sdk:lambda:getFunction", FunctionName="f"),
     {"Configuration": {"MemorySize": 32769}}, "Field 'MemorySize' exceeds the maximum value"),
])
def test_mock_field_validation_strict(sfn: Any, definition: str, result: Any, message: str) -> None:
    code, text = _error(sfn, definition=definition, input="{}", mock={"result": json.dumps(result)})
    assert (code, text) == ("ValidationException", "Mock result schema validation error: " + message)


def test_mock_field_validation_modes(sfn: Any) -> None:
    for result in ({"random": "json"}, {}):  # fields outside the model are not checked; PutEvents requires none
        response = sfn.test_state(definition=PUT_EVENTS, mock={"result": json.dumps(result)})
        assert (response["status"], json.loads(response["output"])) == ("SUCCEEDED", result)
    mock = {"result": json.dumps({"StartDate": "2025-01-01T00:00:00Z"})}
    assert _error(sfn, definition=START_EXECUTION, mock=mock)[1].endswith("Required field 'ExecutionArn' is missing")
    present = sfn.test_state(definition=START_EXECUTION, mock=dict(mock, fieldValidationMode="PRESENT"))
    assert present["status"] == "SUCCEEDED"
    wrong = {"result": json.dumps({"StartDate": 5})}
    assert _error(sfn, definition=START_EXECUTION, mock=dict(wrong, fieldValidationMode="PRESENT"))[1].endswith(
        "Field 'StartDate' must be a string")
    anything = sfn.test_state(definition=START_EXECUTION, mock=dict(wrong, fieldValidationMode="NONE"))
    assert json.loads(anything["output"]) == {"StartDate": 5}
    lambda_json = sfn.test_state(definition=_task("arn:aws:states:::lambda:invoke", FunctionName="f"),
                                 mock={"result": json.dumps({"StatusCode": 200, "Payload": {"any": ["json"]}})})
    assert lambda_json["status"] == "SUCCEEDED"


def test_map_item_reader_data(sfn: Any) -> None:
    state = {"Type": "Map", "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                                           "ReaderConfig": {"InputType": "JSON"},
                                           "Parameters": {"Bucket.$": "$.Bucket", "Key.$": "$.Key"}},
             "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                               "StartAt": "Square", "States": {"Square": {"Type": "Pass", "End": True}}},
             "ToleratedFailurePercentage": 50, "End": True}
    kw: dict[str, Any] = {"definition": json.dumps(state), "input": '{"Bucket": "b", "Key": "k"}',
                          "mock": {"result": "[1, 4, 9]"}, "inspectionLevel": "DEBUG"}
    response = sfn.test_state(stateConfiguration={"mapItemReaderData": "[1, 2, 3]", "mapIterationFailureCount": 1},
                              **kw)
    assert (response["status"], json.loads(response["output"])) == ("SUCCEEDED", [1, 4, 9])
    assert response["inspectionData"]["toleratedFailurePercentage"] == 50.0
    exceeded = sfn.test_state(stateConfiguration={"mapItemReaderData": "[1, 2, 3]", "mapIterationFailureCount": 2},
                              **kw)
    assert (exceeded["status"], exceeded["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert _error(sfn, stateConfiguration={"mapItemReaderData": "[1, 2, 3]", "mapIterationFailureCount": 4},
                  **kw)[1] == "Map iteration failure count must be less than or equal to the number of Map iterations"


def test_mocked_result_text_is_echoed_unchanged(sfn: Any) -> None:
    state = {"Type": "Parallel", "Branches": PARALLEL["Branches"], "End": True}
    text = '[{"branch1": "result"}, {"branch2": "result"}]'
    response = sfn.test_state(definition=json.dumps(state), input="{}", mock={"result": text},
                              inspectionLevel="DEBUG")
    assert response["output"] == text and response["inspectionData"]["afterResultSelector"] == text
    task = sfn.test_state(definition=json.dumps(JSONATA_TASK), input='{"v": 1}', mock={"result": '{"a": [1, 2]}'},
                          inspectionLevel="DEBUG")
    assert task["output"] == '{"a": [1, 2]}' and task["inspectionData"]["result"] == '{"a": [1, 2]}'


def test_wait_state_does_not_wait(sfn: Any) -> None:
    state = {"Type": "Wait", "Seconds": 3600, "Next": "Later"}
    response = sfn.test_state(definition=json.dumps(state), input='{"a": 1}', inspectionLevel="DEBUG")
    assert (response["status"], response["nextState"], json.loads(response["output"])) == (
        "SUCCEEDED", "Later", {"a": 1})
    assert set(response["inspectionData"]) == {"input", "afterInputPath"}
