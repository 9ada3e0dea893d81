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
    # AWS's CSV rules: a short row gets empty strings, a long row's extra fields are skipped
    ("x,y,z\n1\n1,2,3,4\n", {"InputType": "CSV"}, [{"x": "1", "y": "", "z": ""}, {"x": "1", "y": "2", "z": "3"}]),
    # quotes wrap delimiters and newlines, "" keeps a quote, backslash escapes the delimiter and itself
    ('a,b\n"1,2","x\ny"\n"say ""hi""",c\\,d\\\\\n', {"InputType": "CSV"},
     [{"a": "1,2", "b": "x\ny"}, {"a": 'say "hi"', "b": "c,d\\"}]),
    ("1;2\r\n3;4\r\n", {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["p", "q"],
                         "CSVDelimiter": "SEMICOLON"}, [{"p": "1", "q": "2"}, {"p": "3", "q": "4"}]),
    ('{"inventory": {"products": {"featured": [1, 2]}}}',
     {"InputType": "JSON", "ItemsPointer": "/inventory/products/featured"}, [1, 2]),
    ('[[0], [1, 2]]', {"InputType": "JSON", "ItemsPointer": "/1"}, [1, 2]),
], ids=["json", "jsonl", "csv-first-row", "csv-given-pipe", "csv-short-long-rows", "csv-quotes-escapes",
        "csv-crlf-semicolon", "json-items-pointer", "json-pointer-index"])
def test_parse_items(text: str, config: dict[str, Any], items: list[Any]) -> None:
    assert parse_items(text, config) == items


@pytest.mark.parametrize(("text", "config", "cause"), [
    ('{"a": 1}', {"InputType": "JSON"}, "Attempting to map over non-iterable node."),
    ("", {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": []}, "The CSV header is empty"),
    ('{"a": {"b": 1}}', {"InputType": "JSON", "ItemsPointer": "/a/c"},
     "The ItemsPointer '/a/c' does not point to a node of the JSON file"),
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


INVENTORY_ROWS = ('"src","csvDataset/","0","2022-11-16T00:27:19.000Z"\n'
                  '"src","csvDataset/titles.csv","3399671","2022-11-16T00:29:32.000Z"\n')


def _inventory(root: Path) -> None:
    """An S3 inventory report in bucket ``inv``: manifest.json naming two CSV data files (no header rows)."""
    data = root / "inv" / "src" / "cfg" / "data"
    data.mkdir(parents=True)
    (data / "a.csv").write_text(INVENTORY_ROWS)
    (data / "b.csv").write_text('"src","imageDataset/pic.jpg","27034","2022-11-15T20:02:16.000Z"\n')
    (root / "inv" / "src" / "cfg" / "manifest.json").write_text(json.dumps({
        "sourceBucket": "src", "destinationBucket": "arn:aws:s3:::inv", "version": "2016-11-30",
        "creationTimestamp": "1668560400000", "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate",
        "files": [{"key": "src/cfg/data/a.csv", "size": 1, "MD5checksum": "x"},
                  {"key": "src/cfg/data/b.csv", "size": 1, "MD5checksum": "y"}]}))


def test_s3_inventory_manifest_given_headers(s3: Path) -> None:
    _inventory(s3)
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject",
                              "ReaderConfig": {"InputType": "MANIFEST", "CSVHeaderLocation": "GIVEN",
                                               "CSVHeaders": ["b", "k"]},
                              "Parameters": {"Bucket": "inv", "Key": "src/cfg/manifest.json"}})
    result = asl.run_sync(definition, "{}", registry=Integrations(TaskRegistry(), s3_dir=s3))
    assert json.loads(result.output)[1] == {"b": "src", "k": "csvDataset/titles.csv"}


@pytest.mark.parametrize("config", [{"InputType": "MANIFEST"}, {"ManifestType": "S3_INVENTORY"}])
def test_s3_inventory_manifest(s3: Path, config: dict[str, Any]) -> None:
    _inventory(s3)
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config,
                              "Parameters": {"Bucket": "inv", "Key": "src/cfg/manifest.json"}})
    result = asl.run_sync(definition, "{}", registry=Integrations(TaskRegistry(), s3_dir=s3))
    assert result.status == "SUCCEEDED", result.cause
    items = json.loads(result.output)
    assert items[1] == {"Bucket": "src", "Key": "csvDataset/titles.csv", "Size": "3399671",
                        "LastModifiedDate": "2022-11-16T00:29:32.000Z"}
    assert [i["Key"] for i in items] == ["csvDataset/", "csvDataset/titles.csv", "imageDataset/pic.jpg"]


def test_inventory_max_items_path_and_bad_manifest(s3: Path) -> None:
    _inventory(s3)
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject",
                              "ReaderConfig": {"InputType": "MANIFEST", "MaxItemsPath": "$.max"},
                              "Parameters": {"Bucket": "inv", "Key": "src/cfg/manifest.json"}})
    result = asl.run_sync(definition, '{"max": 2}', registry=Integrations(TaskRegistry(), s3_dir=s3))
    assert [i["Key"] for i in json.loads(result.output)] == ["csvDataset/", "csvDataset/titles.csv"]
    (s3 / "inv" / "bad.json").write_text('{"fileFormat": "ORC", "files": []}')
    bad = distributed({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "MANIFEST"},
                       "Parameters": {"Bucket": "inv", "Key": "bad.json"}})
    failed = asl.run_sync(bad, "{}", registry=Integrations(TaskRegistry(), s3_dir=s3))
    assert (failed.error, failed.cause) == (
        "States.ItemReaderFailed", "S3 inventory fileFormat 'ORC' is not supported; the inventory report must be CSV")


def test_max_items_path_must_be_a_count(s3: Path) -> None:
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "data",
                              "Key": "in/rows.csv"}, "ReaderConfig": {"InputType": "CSV", "MaxItemsPath": "$.max"}})
    result = asl.run_sync(definition, '{"max": "two"}', registry=Integrations(TaskRegistry(), s3_dir=s3))
    assert (result.error, result.status) == ("States.Runtime", "FAILED")
    assert 'The MaxItemsPath field refers to value "two"' in (result.cause or "")


def test_athena_manifest(s3: Path) -> None:
    (s3 / "data" / "athena").mkdir()
    (s3 / "data" / "athena" / "part-1.jsonl").write_text('{"n": 1}\n{"n": 2}\n')
    (s3 / "data" / "athena" / "part-2.jsonl").write_text('{"n": 3}\n')
    (s3 / "data" / "athena" / "q-manifest.csv").write_text(
        "s3://data/athena/part-1.jsonl\ns3://data/athena/part-2.jsonl\n")
    definition = distributed({"Resource": "arn:aws:states:::s3:getObject",
                              "ReaderConfig": {"ManifestType": "ATHENA_DATA", "InputType": "JSONL"},
                              "Parameters": {"Bucket": "data", "Key": "athena/q-manifest.csv"}})
    result = asl.run_sync(definition, "{}", registry=Integrations(TaskRegistry(), s3_dir=s3))
    assert json.loads(result.output) == [{"n": 1}, {"n": 2}, {"n": 3}]


class _Params:
    """Already-rendered ItemReader Parameters (read_items called directly: the definition validator
    does not know ReaderConfig.Transformation yet)."""

    jsonata = False

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def render(self, config: Any, what: str) -> dict[str, Any]:
        return dict(self.params)


def test_list_objects_load_and_flatten(s3: Path) -> None:
    import anyio

    from engine.tasks.distributed import read_items
    from engine.tasks.registry import TaskContext
    (s3 / "data" / "logs").mkdir()
    (s3 / "data" / "logs" / "h1.csv").write_text("id,v\n1,a\n")
    (s3 / "data" / "logs" / "h2.csv").write_text("id,v\n2,b\n3,c\n")
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2",
              "ReaderConfig": {"InputType": "CSV", "Transformation": "LOAD_AND_FLATTEN"}}
    registry = Integrations(TaskRegistry(), s3_dir=s3)
    ctx = TaskContext(resource="arn:aws:states:::s3")

    async def read(config: dict[str, Any]) -> Any:
        return await read_items({**reader, "ReaderConfig": {**reader["ReaderConfig"], **config}},
                                _Params({"Bucket": "data", "Prefix": "logs/"}), registry, ctx)  # type: ignore[arg-type]

    assert anyio.run(read, {}) == [{"id": "1", "v": "a"}, {"id": "2", "v": "b"}, {"id": "3", "v": "c"}]
    assert anyio.run(read, {"MaxItems": 2}) == [{"id": "1", "v": "a"}, {"id": "2", "v": "b"}]


def test_gzip_body_from_a_registered_handler() -> None:
    import gzip
    registry = TaskRegistry()

    @registry.task("arn:aws:states:::s3:getObject")
    def get_object(params: Any) -> Any:
        return {"Body": gzip.compress(b'{"a": 1}\n{"a": 2}\n')}

    definition = distributed({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
                              "Parameters": {"Bucket": "b", "Key": "k.jsonl.gz"}})
    result = asl.run_sync(definition, "{}", registry=Integrations(registry))
    assert json.loads(result.output) == [{"a": 1}, {"a": 2}]


def test_jsonata_max_items(s3: Path) -> None:
    definition = json.dumps({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "CSV", "MaxItems": "{% $states.input.n %}"},
                       "Arguments": {"Bucket": "data", "Key": "in/rows.csv"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "P",
                          "States": {"P": {"Type": "Pass", "Output": "{% $states.input.name %}", "End": True}}}}}})
    result = asl.run_sync(definition, '{"n": 2}', registry=Integrations(TaskRegistry(), s3_dir=s3))
    assert (result.status, result.error, result.cause) == ("SUCCEEDED", None, None)
    assert json.loads(result.output) == ["a", "b"]


def test_list_objects_reads_every_page() -> None:
    registry = TaskRegistry()
    asked: list[Any] = []

    @registry.task("arn:aws:states:::s3:listObjectsV2")
    def list_objects(params: Any) -> Any:
        asked.append(params.get("ContinuationToken"))
        page = int(params.get("ContinuationToken") or 0)
        more = page < 2
        return {"Contents": [{"Key": f"k{page}-{i}"} for i in range(2)], "IsTruncated": more,
                **({"NextContinuationToken": str(page + 1)} if more else {})}

    definition = distributed({"Resource": "arn:aws:states:::s3:listObjectsV2",
                              "Parameters": {"Bucket": "b", "Prefix": "k"}})
    result = asl.run_sync(definition, "{}", registry=Integrations(registry))
    assert [i["Key"] for i in json.loads(result.output)] == ["k0-0", "k0-1", "k1-0", "k1-1", "k2-0", "k2-1"]
    assert asked == [None, "1", "2"]
