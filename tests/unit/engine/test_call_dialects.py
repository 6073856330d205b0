"""A call activity without mappings passes what the dialect of its file passes: everything for
SpiffWorkflow (and files of no dialect) and Zeebe, nothing for Camunda 7 and Flowable; files we
write say it explicitly, so a file read and written again runs the same."""

from __future__ import annotations

import pytest

from apg_workflow.formats.bpmn import read_bpmn, write_bpmn
from apg_workflow.formats.bpmn.namespaces import CAMUNDA, FLOWABLE, SPIFF, ZEEBE

from .conftest import EngineFactory

_CHILD = """<process id="child" isExecutable="false">
    <startEvent id="cs"/>
    <scriptTask id="work"><script>answer = question * 2
del scratch</script></scriptTask>
    <endEvent id="ce"/>
    <sequenceFlow id="c1" sourceRef="cs" targetRef="work"/>
    <sequenceFlow id="c2" sourceRef="work" targetRef="ce"/>
  </process>"""


def _file(namespace: str | None, call_extensions: str = "") -> str:
    declaration = f' xmlns:x="{namespace}"' if namespace else ""
    extensions = f"<extensionElements>{call_extensions}</extensionElements>" if call_extensions else ""
    return f"""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"{declaration}
    id="d" targetNamespace="urn:x">
  <process id="parent" isExecutable="true">
    <startEvent id="s"/>
    <callActivity id="call" calledElement="child">{extensions}</callActivity>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
    <sequenceFlow id="f2" sourceRef="call" targetRef="e"/>
  </process>
  {_CHILD}
</definitions>"""


PASS_ALL = {"question": 21, "answer": 42}  # scratch was given, deleted by the child: deleted here too


@pytest.mark.parametrize(
    ("namespace", "extensions", "variables"),
    [
        (None, "", PASS_ALL),
        (SPIFF, "", PASS_ALL),
        (ZEEBE, '<x:calledElement processId="child"/>', PASS_ALL),
        (CAMUNDA, "", None),
        (FLOWABLE, "", None),
    ],
    ids=["no-dialect", "spiffworkflow", "zeebe", "camunda-7", "flowable"],
)
def test_a_call_activity_without_mappings_passes_what_its_dialect_passes(
    engine: EngineFactory, namespace: str | None, extensions: str, variables: dict[str, int] | None
) -> None:
    model = read_bpmn(_file(namespace, extensions))
    for definitions in (model, read_bpmn(write_bpmn(model))):
        run = engine(definitions)
        eid = run.start(variables={"question": 21, "scratch": 1})
        if variables is None:  # the child got nothing: its script fails on `question`
            assert run.active(eid) == ["call", "work"]
            assert run.variables(eid) == {"question": 21, "scratch": 1}
        else:
            assert run.status(eid) == "completed"
            assert run.variables(eid) == variables
