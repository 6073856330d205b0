"""The Python examples of docs/engine.md run as written."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

_PYTHON = re.compile(r"```python\n(?P<body>.*?)\n```", re.DOTALL)
EXAMPLES = [
    m.group("body") for m in _PYTHON.finditer((ROOT / "docs" / "engine.md").read_text(encoding="utf-8"))
]


def test_the_engine_doc_has_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("body", EXAMPLES, ids=[f"example{i}" for i in range(1, len(EXAMPLES) + 1)])
def test_engine_doc_example_runs(body: str) -> None:
    exec(compile(body, "docs/engine.md", "exec"), {"__name__": "docs_example"})
