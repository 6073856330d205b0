"""docs/components.md is generated from the registry and kept up to date; its introduction's
component example works as written."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from apg_workflow.components import Component, ComponentContext
from apg_workflow.components.docs import render, shipped
from apg_workflow.runtime.registry import platform_registry
from tests.conftest import ROOT

DOC = ROOT / "docs" / "components.md"
REGENERATE = "apg-workflow components docs > docs/components.md"


def test_components_md_is_up_to_date() -> None:
    expected = render(shipped(platform_registry()))
    assert DOC.read_text(encoding="utf-8") == expected, (
        f"docs/components.md is out of date: run `{REGENERATE}`"
    )


def test_every_built_in_has_a_section() -> None:
    text = DOC.read_text(encoding="utf-8")
    for component in shipped(platform_registry()):
        assert f"### `{component.type}` — {component.title}" in text


def test_the_documented_component_runs_as_written() -> None:
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(code, "docs/components.md", "exec"), namespace)
    greet: type[Component] = namespace["Greet"]
    (example,) = greet.examples
    context = ComponentContext(
        job_id="job-1", attempt=1, execution_id="e", element_id="t", logger=logging.getLogger("docs")
    )
    component = greet()
    outputs = asyncio.run(
        component.run(context, component.parse_config(example["config"]), example["inputs"])
    )
    assert outputs == example["outputs"]
