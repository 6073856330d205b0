"""The published JSON Schema of the JSON / YAML format (draft 2020-12), generated from the document
models so that it cannot drift from what the reader accepts.

``apg-workflow schema`` prints it; ``workflow.schema.json`` beside this module is a copy (for
editors pointed at a checkout) that the test suite keeps equal to it.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from apg_workflow.formats.jsonyaml.document import DOCUMENT

DIALECT = "https://json-schema.org/draft/2020-12/schema"
STATIC_SCHEMA = Path(__file__).with_name("workflow.schema.json")


@cache
def _schema() -> dict[str, Any]:
    generated = DOCUMENT.json_schema(mode="validation")
    return {
        "$schema": DIALECT,
        "title": "APG Workflow definition",
        "description": (
            "A workflow in the JSON / YAML format of APG Workflow: a process with its activities (events, "
            "tasks, gateways, each with a BPMN 'type') and the flows between them, or several processes "
            "under 'processes'. Keys starting with 'x-' are ignored."
        ),
        **generated,
    }


def json_schema() -> dict[str, Any]:
    """The JSON Schema (a fresh copy, safe to change)."""
    return copy.deepcopy(_schema())


def schema_text() -> str:
    """The schema as the text of ``workflow.schema.json``."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
