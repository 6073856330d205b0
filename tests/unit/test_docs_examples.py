"""Every example in the docs marked ``<!-- example -->`` loads and validates without errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apg_workflow.formats import load
from apg_workflow.model import Severity
from apg_workflow.model.validation import validate
from tests.conftest import ROOT

_BLOCK = re.compile(r"<!-- example -->\s*\n```[\w-]*\n(?P<body>.*?)\n```", re.DOTALL)
DOCS = sorted((ROOT / "docs").rglob("*.md"))


def _examples() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for index, match in enumerate(_BLOCK.finditer(doc.read_text(encoding="utf-8")), start=1):
            found.append((f"{doc.relative_to(ROOT)}#{index}", match.group("body")))
    return found


EXAMPLES = _examples()


def test_the_format_docs_have_examples_for_every_format() -> None:
    names = [name for name, _ in EXAMPLES if name.startswith("docs/formats.md")]
    assert len(names) >= 4, names


@pytest.mark.parametrize(("name", "body"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_documented_example_loads_and_is_valid(name: str, body: str) -> None:
    definitions = load(body, source=name)
    errors = [p for p in validate(definitions) if p.severity is Severity.ERROR]
    assert not errors, errors


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.*")), ids=lambda p: p.name)
def test_example_files_load_and_are_valid(path: Path) -> None:
    definitions = load(path.read_bytes(), source=path.name)
    errors = [p for p in validate(definitions) if p.severity is Severity.ERROR]
    assert not errors, errors
