"""Every example in docs/expressions.md marked ``<!-- sandbox-example {…} -->`` gives its result.

The marker's JSON holds the ``variables`` (default none), whether the block is a ``script``, and
the expected ``result``: for an expression, its value; for a script, the variables it names, as
JSON (decimals and datetimes as their ``str()``).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from apg_workflow.expressions.sandbox import Sandbox
from tests.conftest import ROOT

NOW = datetime(2024, 5, 3, 9, 30, tzinfo=UTC)
_BLOCK = re.compile(
    r"<!-- sandbox-example (?P<spec>\{.*?\}) -->\s*\n```[\w-]*\n(?P<body>.*?)\n```", re.DOTALL
)
EXAMPLES = [
    (json.loads(match.group("spec")), match.group("body"))
    for match in _BLOCK.finditer((ROOT / "docs" / "expressions.md").read_text(encoding="utf-8"))
]


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def test_the_page_has_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize(("spec", "body"), EXAMPLES, ids=[body.splitlines()[0][:40] for _, body in EXAMPLES])
def test_documented_example(spec: dict[str, Any], body: str) -> None:
    sandbox = Sandbox()
    variables = spec.get("variables", {})
    if spec.get("script"):
        result = sandbox.execute(body, variables, now=NOW)
        assert {name: _as_json(result[name]) for name in spec["result"]} == spec["result"]
    else:
        assert _as_json(sandbox.evaluate(body, None, variables, now=NOW)) == spec["result"]
