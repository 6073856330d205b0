"""Validate data against a JSON Schema (drafts 4 to 2020-12), without fetching anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import referencing
import referencing.exceptions
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from pydantic import Field, field_validator

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data import _paths
from apg_workflow.components.builtins.data._base import DataComponent, invalid_config, prop, shape
from apg_workflow.components.errors import BpmnError, ConfigurationError

VALIDATION_FAILED = "validation-failed"
"""The BPMN error code of data that does not match its schema."""

_SHOWN = 5  # errors quoted in the BPMN error's message


class ValidateConfig(ComponentConfig):
    json_schema: dict[str, Any] = Field(
        description="The JSON Schema the data must match. `$schema` picks the draft (default 2020-12); "
        "`$ref`s must point inside this schema: nothing is fetched."
    )
    raise_on_invalid: bool = Field(
        True,
        description="Invalid data throws the BPMN error `validation-failed` (listing the problems); "
        "false: the outputs `valid` and `errors` report them instead.",
    )
    check_formats: bool = Field(True, description="Check `format`s such as `email`, `date`, `uri`, `ipv4`.")
    max_errors: int = Field(50, ge=1, le=10_000, description="Report at most this many problems.")

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as exc:
            where = ".".join(str(part) for part in exc.absolute_path) or "the schema's root"
            raise invalid_config(f"not a valid JSON Schema at {where}: {exc.message}") from None
        return schema


class Validate(DataComponent[ValidateConfig]):
    type = "data.validate"
    title = "Validate against a JSON Schema"
    description = (
        "Checks data against a JSON Schema. Invalid data throws the BPMN error `validation-failed`, "
        "which an error boundary event can catch, or, with `raise_on_invalid: false`, is reported in "
        "the outputs. Every problem names the field (a dotted path, empty for the whole value)."
    )
    Config = ValidateConfig
    inputs = shape(required=("data",), data=prop("the value to check"))
    outputs = shape(
        valid=prop("whether the data matches the schema", "boolean"),
        errors=prop(
            "the problems: `{path, message, keyword}` each, by path", "array", items={"type": "object"}
        ),
    )
    examples = (
        {
            "config": {
                "json_schema": {
                    "type": "object",
                    "required": ["email", "qty"],
                    "properties": {"email": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
                },
                "raise_on_invalid": False,
            },
            "inputs": {"data": {"email": "ada@example.org", "qty": 0}},
            "outputs": {
                "valid": False,
                "errors": [
                    {"path": "qty", "message": "0 is less than the minimum of 1", "keyword": "minimum"}
                ],
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: ValidateConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        data = _paths.copy_objects(self.value(inputs, "data"))  # tuples become arrays
        validator = _validator(config)
        try:
            found = sorted(validator.iter_errors(data), key=lambda e: (_path(e.absolute_path), e.message))
        except referencing.exceptions.Unresolvable as exc:
            raise ConfigurationError(
                f"{self.type}: the schema's reference '{exc.ref}' cannot be resolved; references must point "
                "inside the schema (nothing is fetched)"
            ) from None
        errors = [
            {"path": _path(error.absolute_path), "message": error.message, "keyword": str(error.validator)}
            for error in found[: config.max_errors]
        ]
        if errors and config.raise_on_invalid:
            shown = "; ".join(f"{e['path'] or '(root)'}: {e['message']}" for e in errors[:_SHOWN])
            more = f"; and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
            count = f"{len(found)} problem{'s' if len(found) > 1 else ''}"
            raise BpmnError(
                VALIDATION_FAILED, f"{self.type}: the data does not match the schema ({count}): {shown}{more}"
            )
        return {"valid": not errors, "errors": errors}


def _validator(config: ValidateConfig) -> Validator:
    cls = validator_for(config.json_schema)
    checker = cls.FORMAT_CHECKER if config.check_formats else None
    # An explicit registry without a `retrieve` function: unknown references fail, never fetch.
    return cls(config.json_schema, format_checker=checker, registry=referencing.Registry())


def _path(parts: Any) -> str:
    return ".".join(str(part) for part in parts)
