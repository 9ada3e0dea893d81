"""ItemReader's ReaderConfig: the fields AWS documents are accepted, their enums checked."""
from __future__ import annotations

from typing import Any

import pytest

from engine.asl.validate import validate


def _machine(config: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True,
        "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "ReaderConfig": config,
                       "Parameters": {"Bucket": "b", "Prefix": "p/"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}


@pytest.mark.parametrize("config", [
    {"Transformation": "LOAD_AND_FLATTEN", "InputType": "JSON", "ItemsPointer": "/items"},
    {"Transformation": "NONE"},
    {"InputType": "MANIFEST", "ManifestType": "S3_INVENTORY"},
    {"InputType": "CSV", "ManifestType": "ATHENA_DATA", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": "COMMA"},
])
def test_documented_reader_config_is_valid(config: dict[str, Any]) -> None:
    assert [d for d in validate(_machine(config)) if d.severity == "ERROR"] == []


@pytest.mark.parametrize(("config", "field", "options"), [
    ({"Transformation": "FLATTEN"}, "Transformation", "NONE, LOAD_AND_FLATTEN"),
    ({"ManifestType": "CSV"}, "ManifestType", "ATHENA_DATA, S3_INVENTORY"),
])
def test_enums_are_checked(config: dict[str, Any], field: str, options: str) -> None:
    [problem] = validate(_machine(config))
    assert (problem.code, problem.message, problem.location) == (
        "SCHEMA_VALIDATION_FAILED", f"Value should be one of the following: [{options}]",
        f"/States/M/ItemReader/ReaderConfig/{field}")
