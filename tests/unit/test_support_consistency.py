"""What the validator calls "not executed" is exactly what the engine refuses at run time, and
what docs/engine.md lists: a designer is never told one thing by the validator and another by a run."""

from __future__ import annotations

import pytest

from apg_workflow import model as m
from apg_workflow.engine.memory import MemoryEngine
from apg_workflow.model.validation import validate
from tests.conftest import ROOT


def _around(node: m.FlowNode) -> m.Definitions:
    """start → node → end."""
    start, end = m.StartEvent(id="start"), m.EndEvent(id="end")
    flows = (
        m.SequenceFlow(id="f1", source="start", target=node.id),
        m.SequenceFlow(id="f2", source=node.id, target="end"),
    )
    return m.Definitions(processes=(m.Process(id="p", nodes=(start, node, end), flows=flows),))


def _inner() -> dict[str, object]:
    return {
        "nodes": (m.StartEvent(id="in_s"), m.EndEvent(id="in_e")),
        "flows": (m.SequenceFlow(id="in_f", source="in_s", target="in_e"),),
    }


UNSUPPORTED = {
    "complex gateway": m.ComplexGateway(id="x"),
    "transaction": m.Transaction(id="x", **_inner()),
    "ad-hoc sub-process": m.AdHocSubProcess(id="x", **_inner()),
    "compensation event": m.IntermediateThrowEvent(id="x", definitions=(m.CompensateDefinition(),)),
    "multiple event": m.IntermediateCatchEvent(
        id="x",
        definitions=(
            m.TimerDefinition(timer=m.TimerKind.DURATION, expression=m.Expression("PT1M")),
            m.SignalDefinition(signal_ref=None),
        ),
    ),
}
SUPPORTED = {
    "task": m.Task(id="x"),
    "script task": m.ScriptTask(id="x", script=m.Script("y = 1")),
    "parallel gateway": m.ParallelGateway(id="x"),
    "sub-process": m.SubProcess(id="x", **_inner()),
    "timer catch": m.IntermediateCatchEvent(
        id="x", definitions=(m.TimerDefinition(timer=m.TimerKind.DURATION, expression=m.Expression("PT1M")),)
    ),
}


def _not_executed(definitions: m.Definitions) -> list[str | None]:
    return [p.element_id for p in validate(definitions) if p.code == "not-executed"]


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_validator_warns_and_engine_refuses(name: str) -> None:
    definitions = _around(UNSUPPORTED[name])
    assert _not_executed(definitions) == ["x"]
    engine = MemoryEngine(definitions)
    execution = engine.start("p")
    assert engine.status(execution) != "completed"
    assert any(element == "x" for _, element, _ in engine.incidents.values()), engine.incidents


@pytest.mark.parametrize("name", sorted(SUPPORTED))
def test_supported_elements_run_without_a_warning(name: str) -> None:
    definitions = _around(SUPPORTED[name])
    assert _not_executed(definitions) == []
    engine = MemoryEngine(definitions)
    execution = engine.start("p")
    engine.advance_to_next_timer()
    assert engine.status(execution) == "completed"


def test_engine_doc_lists_what_is_not_executed() -> None:
    doc = " ".join((ROOT / "docs" / "engine.md").read_text(encoding="utf-8").split())
    section = doc[doc.index("**Not executed**") :][:600]
    for name in ("complex gateways", "transactions", "ad-hoc sub-processes", "compensation", "multiple"):
        assert name in section, name
