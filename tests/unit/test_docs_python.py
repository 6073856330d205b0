"""The Python examples of the docs run as written."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

DOCS = ("python-api.md", "engine.md")
_PYTHON = re.compile(r"```python\n(?P<body>.*?)```", re.DOTALL)
EXAMPLES = [
    (f"{doc}#{index}", match.group("body"))
    for doc in DOCS
    for index, match in enumerate(_PYTHON.finditer((ROOT / "docs" / doc).read_text(encoding="utf-8")), 1)
]


@pytest.mark.parametrize("doc", DOCS)
def test_each_doc_has_examples(doc: str) -> None:
    assert sum(name.startswith(f"{doc}#") for name, _ in EXAMPLES) >= 3


@pytest.mark.parametrize(("name", "body"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_example_runs(name: str, body: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(body, f"docs/{name}", "exec"), {"__name__": "docs_example"})
