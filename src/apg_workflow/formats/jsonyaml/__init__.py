"""The JSON and YAML formats: ``{"name", "description", "activities": [...], "flows": [...]}`` with BPMN
element types as ``type`` values, read into and written from :class:`apg_workflow.model.Definitions`.

Reading validates against the document models (the same ones that give :func:`json_schema`) and
reports every problem with its path (``activities[2].retry.max_attempts``) and, from text, its line
and column.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from apg_workflow.formats.jsonyaml.diagnostics import Diagnostics
from apg_workflow.formats.jsonyaml.document import DOCUMENT
from apg_workflow.formats.jsonyaml.explain import report_validation_error
from apg_workflow.formats.jsonyaml.jsontext import dump_json, parse_json
from apg_workflow.formats.jsonyaml.reader import build_definitions
from apg_workflow.formats.jsonyaml.schema import json_schema
from apg_workflow.formats.jsonyaml.writer import definitions_to_dict
from apg_workflow.formats.jsonyaml.yamltext import dump_yaml, parse_yaml
from apg_workflow.model import Definitions


def read_json(text: str, *, source: str | None = None) -> Definitions:
    """Read a JSON definition; a :class:`~apg_workflow.formats.errors.FormatError` lists what is wrong."""
    data, source_map = parse_json(text, source=source)
    return _read(data, Diagnostics("json", source=source, source_map=source_map))


def read_yaml(text: str, *, source: str | None = None) -> Definitions:
    """Read a YAML definition (safely: plain data only, aliases limited)."""
    data, source_map = parse_yaml(text, source=source)
    return _read(data, Diagnostics("yaml", source=source, source_map=source_map))


def definitions_from_dict(data: Any, *, source: str | None = None) -> Definitions:
    """Read a definition already parsed into dicts and lists (e.g. a REST request body)."""
    return _read(data, Diagnostics("json", source=source))


def write_json(definitions: Definitions) -> str:
    return dump_json(definitions_to_dict(definitions))


def write_yaml(definitions: Definitions) -> str:
    return dump_yaml(definitions_to_dict(definitions))


def _read(data: Any, diagnostics: Diagnostics) -> Definitions:
    try:
        document = DOCUMENT.validate_python(data)
    except ValidationError as exc:
        report_validation_error(exc, data, diagnostics)
        raise diagnostics.error() from None
    return build_definitions(document, diagnostics)


__all__ = [
    "definitions_from_dict",
    "definitions_to_dict",
    "json_schema",
    "read_json",
    "read_yaml",
    "write_json",
    "write_yaml",
]
