"""The example plugin: its component works, and APG Workflow's registry finds it once installed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest
from apg_workflow.components import BpmnError, ComponentContext, ConfigurationError, default_registry

from apg_workflow_example_greeting import Greet


def greet(config: Mapping[str, Any], inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    component = Greet()
    context = ComponentContext(
        job_id="job-1",
        attempt=1,
        execution_id="execution-1",
        element_id="greet",
        logger=logging.getLogger("t"),
    )
    return asyncio.run(component.run(context, component.parse_config(config), inputs))


@pytest.mark.parametrize("example", Greet.examples)
def test_the_examples_hold(example: Mapping[str, Any]) -> None:
    assert greet(example["config"], example["inputs"]) == example["outputs"]


def test_a_missing_name_is_a_bpmn_error() -> None:
    with pytest.raises(BpmnError) as raised:
        greet({}, {"name": "  "})
    assert raised.value.code == "no-name"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="language"):
        greet({"language": "xx"}, {"name": "Ada"})


def test_the_installed_registry_finds_it() -> None:
    registry = default_registry()
    assert registry.get("example.greet") is Greet
    assert "noop" in registry  # next to the built-ins
