"""The BPMN MIWG test suite (reference models and real tools' exports, tests/conformance/bpmn-miwg).

For every file: read → write → read gives an equal model (diagrams and preserved data included),
every id of the input is in the output, and the output is well-formed BPMN that reads again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from apg_workflow.formats.bpmn import read_bpmn, write_bpmn
from tests.conftest import MIWG

MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FILES = sorted(MIWG.rglob("*.bpmn"))


def _ids(document: etree._Element) -> set[str]:
    return {value for element in document.iter() if (value := element.get("id")) is not None}


def test_the_whole_corpus_is_there() -> None:
    assert len(FILES) >= 90
    folders = {path.parent.name for path in FILES}
    assert {"Reference", "bpmn-io-camunda-modeler-18.6.1", "trisotech-workflow-modeler-12.6.3"} <= folders


@pytest.mark.parametrize("path", FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_read_write_read_is_lossless(path: Path) -> None:
    data = path.read_bytes()
    first = read_bpmn(data, source=path.name)
    written = write_bpmn(first)
    document = etree.fromstring(written.encode("utf-8"))
    assert document.tag == f"{{{MODEL}}}definitions"
    missing = _ids(etree.fromstring(data)) - _ids(document)
    assert not missing, f"ids lost: {sorted(missing)[:10]}"
    again = read_bpmn(written)
    assert again == first
    assert again.diagrams == first.diagrams
    assert write_bpmn(again) == written
