"""engine/tasks/distributed.py: ItemReader parsing and ResultWriter layout, in process over --s3-dir."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import engine.asl as asl
from engine.errors import StatesError
from engine.tasks.builtin import Integrations
from engine.tasks.distributed import map_config, parse_items
from engine.tasks.registry import TaskRegistry


@pytest.mark.parametrize(("text", "config", "items"), [
    ('[{"a": 1}, 2]', {"InputType": "JSON"}, [{"a": 1}, 2]),
    ('{"a": 1}\n\n{"a": 2}\n', {"InputType": "JSONL"}, [{"a": 1}, {"a": 2}]),
    ("x,y\n1,2\n3,4\n", {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}, [{"x": "1", "y": "2"},
                                                                                 {"x": "3", "y": "4"}]),
    ("1|2\n", {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["p", "q"], "CSVDelimiter": "PIPE"},
     [{"p": "1", "q": "2"}]),
], ids=["json", "jsonl", "csv-first-row", "csv-given-pipe"])
def test_parse_items(text: str, config: dict[str, Any], items: list[Any]) -> None:
    assert parse_items(text, config) == items


@pytest.mark.parametrize(("text", "config", "cause"), [
    ('{"a": 1}', {"InputType": "JSON"}, "Attempting to map over non-iterable node."),
    ("x,y\n1\n", {"InputType": "CSV"}, "The number of fields in a row (1) does not match the headers (2)"),
    ("", {"InputType": "PARQUET"}, "InputType 'PARQUET' is not supported"),
])
def test_parse_errors(text: str, config: dict[str, Any], cause: str) -> None:
    with pytest.raises(StatesError) as caught:
        parse_items(text, config)
    assert (caught.value.error, caught.value.cause) == ("States.ItemReaderFailed", cause)


def test_map_config_finds_nested_maps() -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemReader": {"Resource": "r"}, "End": True}}}]}}}
    assert map_config(definition, "M") == ({"Resource": "r"}, None)
    assert map_config(definition, "P") == (None, None)


def distributed(reader: dict[str, Any], writer: dict[str, Any] | None = None, **extra: Any) -> str:
    state: dict[str, Any] = {"Type": "Map", "ItemReader": reader, "End": True, **extra, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": True}}}}
    if writer is not None:
        state["ResultWriter"] = writer
    return json.dumps({"StartAt": "M", "States": {"M": state}})


@pytest.fixture
def s3(tmp_path: Path) -> Path:
    (tmp_path / "data" / "in").mkdir(parents=True)
    (tmp_path / "data" / "in" / "rows.csv").write_text("id,name\n1,a\n2,b\n3,c\n")
    (tmp_path / "out").mkdir()
    return tmp_path


def test_csv_reader_with_max_items_and_selector(s3: Path) -> None:
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "data",
                              "Key": "in/rows.csv"}, "ReaderConfig": {"InputType": "CSV", "MaxItems": 2}},
                             ItemSelector={"n.$": "$$.Map.Item.Value.name", "i.$": "$$.Map.Item.Index"})
    result = asl.run_sync(definition, "{}", registry=Integrations(TaskRegistry(), s3_dir=s3))
    assert json.loads(result.output) == [{"n": "a", "i": 0}, {"n": "b", "i": 1}]


def test_list_objects_reader(s3: Path) -> None:
    definition = distributed({"Resource": "arn:aws:states:::s3:listObjectsV2",
                              "Parameters": {"Bucket": "data", "Prefix": "in/"}})
    result = asl.run_sync(definition, "{}", registry=Integrations(TaskRegistry(), s3_dir=s3))
    [listed] = json.loads(result.output)
    assert (listed["Key"], listed["Size"], listed["StorageClass"]) == ("in/rows.csv", 20, "STANDARD")
    assert listed["Etag"].startswith('"') and isinstance(listed["LastModified"], int)


def test_result_writer_layout(s3: Path) -> None:
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "data",
                              "Key": "in/rows.csv"}, "ReaderConfig": {"InputType": "CSV"}},
                             {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out",
                                                                                         "Prefix": "runs"}})
    result = asl.run_sync(definition, "{}", registry=Integrations(TaskRegistry(), s3_dir=s3))
    output = json.loads(result.output)
    run_id = output["MapRunArn"].rsplit(":", 1)[1]
    assert output["ResultWriterDetails"] == {"Bucket": "out", "Key": f"runs/{run_id}/manifest.json"}
    manifest = json.loads((s3 / "out" / "runs" / run_id / "manifest.json").read_text())
    assert manifest["ResultFiles"]["FAILED"] == [] and manifest["DestinationBucket"] == "out"
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    entries = json.loads((s3 / "out" / succeeded["Key"]).read_text())
    assert [json.loads(e["Output"]) for e in entries] == [{"id": "1", "name": "a"}, {"id": "2", "name": "b"},
                                                          {"id": "3", "name": "c"}]
    assert {e["Status"] for e in entries} == {"SUCCEEDED"}


def test_missing_object_is_item_reader_failed(s3: Path) -> None:
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject",
                              "Parameters": {"Bucket": "data", "Key": "nope.json"}})
    result = asl.run_sync(definition, "{}", registry=Integrations(TaskRegistry(), s3_dir=s3))
    assert (result.status, result.error) == ("FAILED", "States.ItemReaderFailed")
    assert result.cause == "S3.NoSuchKeyException: The specified key does not exist. (Key: nope.json)"


def test_reader_without_s3_names_the_resource() -> None:
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"}})
    result = asl.run_sync(definition, "{}", registry=Integrations(TaskRegistry()))
    assert result.error == "States.ItemReaderFailed"
    assert "arn:aws:states:::s3:getObject" in (result.cause or "")


def test_jsonata_arguments(s3: Path) -> None:
    definition = json.dumps({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV"},
                       "Arguments": {"Bucket": "{% $states.input.bucket %}", "Key": "{% 'in/' & 'rows.csv' %}"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "P",
                          "States": {"P": {"Type": "Pass", "Output": "{% $states.input.name %}", "End": True}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Arguments": {"Bucket": "out", "Prefix": "{% $states.input.prefix %}"}}}}})
    result = asl.run_sync(definition, '{"bucket": "data", "prefix": "j"}',
                          registry=Integrations(TaskRegistry(), s3_dir=s3))
    details = json.loads(result.output)["ResultWriterDetails"]
    assert details["Key"].startswith("j/") and details["Bucket"] == "out"
    manifest = json.loads((s3 / "out" / details["Key"]).read_text())
    entries = json.loads((s3 / "out" / manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]).read_text())
    assert [json.loads(e["Output"]) for e in entries] == ["a", "b", "c"]


def _pairs_machine(writer: dict[str, Any]) -> str:
    return json.dumps({"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ResultWriter": writer,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV"},
                       "Parameters": {"Bucket": "data", "Key": "in/rows.csv"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "P",
                          "States": {"P": {"Type": "Pass", "Parameters": {"pair.$": "States.Array($.id, $.name)"},
                                           "OutputPath": "$.pair", "End": True}}}}}})


def test_writer_config_preview_without_export(s3: Path) -> None:
    registry = Integrations(TaskRegistry(), s3_dir=s3)
    flat = asl.run_sync(_pairs_machine({"WriterConfig": {"Transformation": "FLATTEN"}}), "{}", registry=registry)
    assert json.loads(flat.output) == ["1", "a", "2", "b", "3", "c"]
    compact = asl.run_sync(_pairs_machine({"WriterConfig": {"Transformation": "COMPACT"}}), "{}", registry=registry)
    assert json.loads(compact.output) == [["1", "a"], ["2", "b"], ["3", "c"]]


def test_writer_config_jsonl_export(s3: Path) -> None:
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "l"},
              "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}
    result = asl.run_sync(_pairs_machine(writer), "{}", registry=Integrations(TaskRegistry(), s3_dir=s3))
    details = json.loads(result.output)["ResultWriterDetails"]
    manifest = json.loads((s3 / "out" / details["Key"]).read_text())
    text = (s3 / "out" / manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]).read_text()
    assert text == '["1","a"]\n["2","b"]\n["3","c"]\n'


def _failing_machine(writer: dict[str, Any], tolerated: int = 1) -> str:
    """Rows a, b, c; row b fails (error Bad, cause 'row b'), the others answer their name."""
    return json.dumps({"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ResultWriter": writer, "ToleratedFailureCount": tolerated,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV"},
                       "Parameters": {"Bucket": "data", "Key": "in/rows.csv"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "C",
                          "States": {
                              "C": {"Type": "Choice", "Default": "Ok",
                                    "Choices": [{"Variable": "$.name", "StringEquals": "b", "Next": "Bad"}]},
                              "Bad": {"Type": "Fail", "Error": "Bad", "Cause": "row b"},
                              "Ok": {"Type": "Pass", "InputPath": "$.name", "End": True}}}}}})


def _exported(s3: Path, writer: dict[str, Any]) -> tuple[dict[str, Any], str]:
    result = asl.run_sync(_failing_machine(writer), "{}", registry=Integrations(TaskRegistry(), s3_dir=s3))
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    details = json.loads(result.output)["ResultWriterDetails"]
    return json.loads((s3 / "out" / details["Key"]).read_text()), details["Key"].rsplit("/", 1)[0]


def test_result_writer_writes_tolerated_failures_to_failed_files(s3: Path) -> None:
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "f"}}
    manifest, folder = _exported(s3, writer)
    [failed_file] = manifest["ResultFiles"]["FAILED"]
    [succeeded_file] = manifest["ResultFiles"]["SUCCEEDED"]
    assert failed_file["Key"] == f"{folder}/FAILED_0.json"
    assert succeeded_file["Key"] == f"{folder}/SUCCEEDED_0.json"
    body = (s3 / "out" / failed_file["Key"]).read_text()
    assert failed_file["Size"] == len(body.encode())
    [failed] = json.loads(body)
    assert {k: failed[k] for k in ("Input", "Error", "Cause", "Status")} == {
        "Input": '{"id":"2","name":"b"}', "Error": "Bad", "Cause": "row b", "Status": "FAILED"}
    assert "Output" not in failed and failed["ExecutionArn"].endswith(":" + failed["Name"])
    succeeded = json.loads((s3 / "out" / succeeded_file["Key"]).read_text())
    assert [(json.loads(e["Output"]), e["Status"]) for e in succeeded] == [("a", "SUCCEEDED"), ("c", "SUCCEEDED")]


def test_failed_records_ignore_the_transformation(s3: Path) -> None:
    # AWS: "If a child workflow execution fails, Step Functions returns its execution result
    # unchanged", as with Transformation NONE.
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "c"},
              "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}
    manifest, _ = _exported(s3, writer)
    succeeded = (s3 / "out" / manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]).read_text()
    assert succeeded == '"a"\n"c"\n'
    [line] = (s3 / "out" / manifest["ResultFiles"]["FAILED"][0]["Key"]).read_text().splitlines()
    assert (json.loads(line)["Error"], json.loads(line)["Status"]) == ("Bad", "FAILED")


def test_preview_keeps_failed_items_in_place(s3: Path) -> None:
    result = asl.run_sync(_failing_machine({"WriterConfig": {"Transformation": "COMPACT"}}), "{}",
                          registry=Integrations(TaskRegistry(), s3_dir=s3))
    first, failed, last = json.loads(result.output)
    assert (first, last) == ("a", "c")
    assert (failed["Error"], failed["Cause"], failed["Status"]) == ("Bad", "row b", "FAILED")


def test_no_failed_file_without_failures(s3: Path) -> None:
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "n"}}
    result = asl.run_sync(_pairs_machine(writer), "{}", registry=Integrations(TaskRegistry(), s3_dir=s3))
    key = json.loads(result.output)["ResultWriterDetails"]["Key"]
    manifest = json.loads((s3 / "out" / key).read_text())
    assert manifest["ResultFiles"]["FAILED"] == []
    assert sorted(p.name for p in (s3 / "out" / key).parent.iterdir()) == ["SUCCEEDED_0.json", "manifest.json"]
