"""data.validate: JSON Schema checks, as a BPMN error or as outputs, and nothing fetched."""

from __future__ import annotations

import time

from tests.unit.components.test_data_catalogue import fails, refused, run

ORDER_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["email", "lines"],
    "properties": {
        "email": {"type": "string", "format": "email"},
        "lines": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/line"},
        },
    },
    "$defs": {
        "line": {
            "type": "object",
            "required": ["sku", "qty"],
            "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
        }
    },
}
GOOD = {"email": "ada@example.org", "lines": [{"sku": "A-1", "qty": 2}]}
BAD = {"email": "not-an-email", "lines": [{"sku": "A-1", "qty": 0}, {"qty": 1}]}


def test_valid_data_passes() -> None:
    assert run("data.validate", {"json_schema": ORDER_SCHEMA}, {"data": GOOD}) == {
        "valid": True,
        "errors": [],
    }


def test_invalid_data_throws_validation_failed_listing_the_problems() -> None:
    message = fails("data.validate", {"json_schema": ORDER_SCHEMA}, {"data": BAD}, "validation-failed")
    assert message == (
        "data.validate: the data does not match the schema (3 problems): "
        "email: 'not-an-email' is not a 'email'; lines.0.qty: 0 is less than the minimum of 1; "
        "lines.1: 'sku' is a required property"
    )


def test_problems_can_be_returned_instead() -> None:
    config = {"json_schema": ORDER_SCHEMA, "raise_on_invalid": False, "check_formats": False, "max_errors": 1}
    assert run("data.validate", config, {"data": BAD}) == {
        "valid": False,
        "errors": [
            {"path": "lines.0.qty", "message": "0 is less than the minimum of 1", "keyword": "minimum"}
        ],
    }


def test_many_problems_are_summarised() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    message = fails("data.validate", {"json_schema": schema}, {"data": list("abcdefg")}, "validation-failed")
    assert "(7 problems)" in message and message.endswith("; and 2 more")
    assert "(root)" in fails("data.validate", {"json_schema": schema}, {"data": {}}, "validation-failed")


def test_older_drafts_are_honoured() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "number",
        "maximum": 5,
        "exclusiveMaximum": True,
    }
    assert "data.validate" in fails(
        "data.validate", {"json_schema": schema}, {"data": 5}, "validation-failed"
    )


def test_remote_references_are_never_fetched() -> None:
    schema = {"$ref": "http://127.0.0.1:9/schema.json"}
    started = time.monotonic()
    message = refused_at_run(schema)
    assert time.monotonic() - started < 1
    assert "the schema's reference 'http://127.0.0.1:9/schema.json' cannot be resolved" in message


def refused_at_run(schema: dict[str, object]) -> str:
    import pytest

    from apg_workflow.components import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        run("data.validate", {"json_schema": schema}, {"data": 1})
    return caught.value.message


def test_a_broken_schema_is_refused_with_where() -> None:
    message = refused("data.validate", {"json_schema": {"properties": {"a": {"minimum": "one"}}}})
    assert "not a valid JSON Schema at properties.a.minimum: 'one' is not of type 'number'" in message
