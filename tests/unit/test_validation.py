"""The validator as a whole: a realistic valid process reports nothing, a faulty one reports every
fault at once, problems are located, every code is documented, and large processes are fast.

The small builders at the top are shared by the other ``test_validation_*`` modules.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from apg_workflow import model as m
from apg_workflow.expressions import syntax_error
from apg_workflow.model import Problem, Severity
from apg_workflow.model.validation import ValidationReport, validate
from tests.strategies import definitions as random_definitions

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = ("http.request", "data.filter", "email.send")


# --- builders ------------------------------------------------------------------------------------


def check_expression(expression: m.Expression, kind: str) -> str | None:
    """What the CLI wires in: the platform's expression checker."""
    return syntax_error(expression.text, expression.language, kind=kind)


def flow(source: str, target: str, condition: str | None = None, *, id: str | None = None) -> m.SequenceFlow:
    return m.SequenceFlow(
        id=id or f"{source}_{target}",
        source=source,
        target=target,
        condition=m.Expression(condition) if condition is not None else None,
    )


def chain(*ids: str) -> tuple[m.SequenceFlow, ...]:
    """Flows linking the ids in order."""
    return tuple(flow(a, b) for a, b in itertools.pairwise(ids))


def process(
    *nodes: m.FlowNode, flows: Iterable[m.SequenceFlow] = (), id: str = "P", **fields: object
) -> m.Process:
    return m.Process(id=id, nodes=tuple(nodes), flows=tuple(flows), **fields)  # type: ignore[arg-type]


def sub_process(
    id: str, *nodes: m.FlowNode, flows: Iterable[m.SequenceFlow] = (), **fields: object
) -> m.SubProcess:
    return m.SubProcess(id=id, nodes=tuple(nodes), flows=tuple(flows), **fields)  # type: ignore[arg-type]


def problems_of(
    subject: m.Definitions | m.Process, *, components: Iterable[str] | None = COMPONENTS, **fields: object
) -> tuple[Problem, ...]:
    """Validate a process (wrapped in definitions with ``fields``) or whole definitions."""
    definitions = (
        subject if isinstance(subject, m.Definitions) else m.Definitions(processes=(subject,), **fields)
    )  # type: ignore[arg-type]
    return validate(definitions, check_expression=check_expression, known_components=components)


def one(problems: Iterable[Problem], code: str, element_id: str | None, severity: Severity) -> Problem:
    """The single problem with ``code`` about ``element_id``; fails with everything found otherwise."""
    found = list(problems)
    hits = [p for p in found if p.code == code and p.element_id == element_id]
    assert len(hits) == 1, f"expected one {code} on {element_id}, got: " + "\n".join(map(str, found))
    assert hits[0].severity is severity, hits[0]
    return hits[0]


def codes(problems: Iterable[Problem]) -> set[str]:
    return {p.code for p in problems}


# --- a realistic, valid process ------------------------------------------------------------------


def order_process() -> m.Definitions:
    """Order handling: a message start, a form, a decision with a default, parallel work, a timer
    reminder, a retrying component, a script, a called process, a DMN decision, a multi-instance
    task, an event-based wait, a link, and an event sub-process that handles errors."""
    expr = m.Expression
    nodes: tuple[m.FlowNode, ...] = (
        m.StartEvent(
            id="start", name="Order received", definitions=(m.MessageDefinition(message_ref="Msg_Order"),)
        ),
        m.UserTask(
            id="review",
            name="Review order",
            assignment=m.Assignment(candidate_groups=("sales",)),
            form=m.Form(schema=m.freeze({"type": "object", "properties": {"ok": {"type": "boolean"}}})),
            due="P2D",
            sla="PT4H",
            outputs=(m.DataMapping("approved", expr("ok")),),
        ),
        m.BoundaryEvent(
            id="remind_timer",
            attached_to="review",
            cancel_activity=False,
            definitions=(m.TimerDefinition(timer=m.TimerKind.CYCLE, expression=expr("R3/PT1H")),),
        ),
        m.ServiceTask(id="remind", name="Remind", component=m.ComponentRef(type="email.send")),
        m.EndEvent(id="reminded"),
        m.ExclusiveGateway(id="approved_gw", name="Approved?", default="to_reject"),
        m.EndEvent(id="rejected", name="Rejected"),
        m.ParallelGateway(id="fork"),
        m.ServiceTask(
            id="charge",
            name="Charge card",
            component=m.ComponentRef(type="http.request", config=m.freeze({"url": "https://pay.example"})),
            retry=m.RetryPolicy(max_attempts=5, initial_backoff="PT2S"),
            inputs=(m.DataMapping("amount", expr("order['total']")),),
        ),
        m.ScriptTask(id="label", name="Print label", script=m.Script('label = f"{name}\\n{address}"')),
        m.ParallelGateway(id="join"),
        m.BusinessRuleTask(id="carrier", name="Choose carrier", decision_ref="carrier_table"),
        m.CallActivity(id="ship", name="Ship", called_element="Shipping"),
        m.UserTask(
            id="pack",
            name="Pack item",
            loop=m.MultiInstance(input_collection=expr("items"), input_element="item"),
        ),
        m.EventBasedGateway(id="wait"),
        m.IntermediateCatchEvent(id="paid", definitions=(m.MessageDefinition(message_ref="Msg_Paid"),)),
        m.IntermediateCatchEvent(
            id="too_late",
            definitions=(m.TimerDefinition(timer=m.TimerKind.DURATION, expression=expr("P7D")),),
        ),
        m.IntermediateThrowEvent(id="go_done", definitions=(m.LinkDefinition(link_name="done"),)),
        m.IntermediateCatchEvent(id="done", definitions=(m.LinkDefinition(link_name="done"),)),
        m.EndEvent(id="end", name="Shipped"),
        sub_process(
            "on_error",
            m.StartEvent(id="error_start", definitions=(m.ErrorDefinition(error_ref="Err_Payment"),)),
            m.UserTask(id="call_customer", name="Call customer"),
            m.EndEvent(id="error_end"),
            flows=chain("error_start", "call_customer", "error_end"),
            triggered_by_event=True,
        ),
    )
    flows = (
        *chain("start", "review", "approved_gw"),
        *chain("remind_timer", "remind", "reminded"),
        flow("approved_gw", "fork", "approved and order['total'] < 10000", id="to_fork"),
        flow("approved_gw", "rejected", id="to_reject"),
        *chain("fork", "charge", "join"),
        *chain("fork", "label", "join"),
        *chain("join", "carrier", "ship", "pack", "wait"),
        *chain("wait", "paid", "go_done"),
        *chain("wait", "too_late", "end"),
        flow("done", "end"),
    )
    main = process(*nodes, flows=flows, id="Order", name="Order handling")
    shipping = process(
        m.StartEvent(id="ship_start"),
        m.ServiceTask(id="book", component=m.ComponentRef(type="http.request")),
        m.EndEvent(id="ship_end"),
        flows=chain("ship_start", "book", "ship_end"),
        id="Shipping",
    )
    return m.Definitions(
        processes=(main, shipping),
        messages=(m.Message(id="Msg_Order", name="order"), m.Message(id="Msg_Paid", name="paid")),
        errors=(m.Error(id="Err_Payment", error_code="PAYMENT"),),
    )


def test_a_realistic_valid_process_reports_nothing() -> None:
    assert problems_of(order_process()) == ()


def test_every_problem_is_reported_at_once() -> None:
    """Five different faults in one process: all five come back, each on its element."""
    definitions = order_process()
    main = definitions.processes[0]
    faults = {
        "label": {"script": m.Script("label = (")},  # script-syntax
        "remind_timer": {"attached_to": "approved_gw"},  # boundary event on a gateway
        "ship": {"called_element": None},  # missing-called-element
    }
    broken_nodes = (
        *(replace(node, **faults.get(node.id, {})) for node in main.nodes),
        m.Task(id="forgotten", name="Forgotten"),  # unreachable
    )
    broken_flows = tuple(
        replace(f, condition=m.Expression("amount >")) if f.id == "to_fork" else f  # condition-syntax
        for f in main.flows
    )
    broken = replace(
        definitions,
        processes=(replace(main, nodes=broken_nodes, flows=broken_flows), definitions.processes[1]),
    )
    found = problems_of(broken)
    one(found, "script-syntax", "label", Severity.ERROR)
    one(found, "boundary-on-invalid-host", "remind_timer", Severity.ERROR)
    one(found, "missing-called-element", "ship", Severity.ERROR)
    one(found, "unreachable-element", "forgotten", Severity.ERROR)
    problem = one(found, "condition-syntax", "to_fork", Severity.ERROR)
    assert (
        problem.message
        == "the condition of flow 'to_fork': unexpected end of expression at column 9: `amount >`"
    )
    assert all(p.process_id == "Order" for p in found)


def test_messages_name_the_element_by_name_and_id() -> None:
    found = problems_of(
        process(m.StartEvent(id="s"), m.UserTask(id="Task_1", name="Approve"), flows=chain("s", "Task_1"))
    )
    assert one(found, "dead-end", "Task_1", Severity.WARNING).message.startswith(
        "user task 'Approve' (Task_1) "
    )


def test_problems_carry_the_line_and_column_the_reader_recorded() -> None:
    definitions = m.Definitions(
        processes=(process(m.StartEvent(id="s"), m.Task(id="t"), flows=chain("s", "t")),),
        positions=m.freeze({"t": (12, 5)}),
    )
    problem = one(validate(definitions), "dead-end", "t", Severity.WARNING)
    assert (problem.line, problem.column) == (12, 5)


def test_without_injected_checkers_expressions_and_components_are_not_checked() -> None:
    definitions = m.Definitions(
        processes=(
            process(
                m.StartEvent(id="s"),
                m.ServiceTask(id="t", component=m.ComponentRef(type="no.such")),
                m.EndEvent(id="e"),
                flows=(flow("s", "t"), flow("t", "e", "amount >")),
            ),
        )
    )
    assert codes(validate(definitions)) == {"conditional-flow-from-activity"}
    checked = validate(definitions, check_expression=check_expression, known_components=COMPONENTS)
    assert {"condition-syntax", "unknown-component"} <= codes(checked)


def test_the_report_groups_problems_by_severity() -> None:
    report = ValidationReport(
        problems_of(
            process(
                m.StartEvent(id="s"),
                m.ExclusiveGateway(id="g"),
                m.Task(id="a"),
                m.ScriptTask(id="b"),
                flows=(*chain("s", "g"), flow("g", "a", "x > 1"), flow("g", "b")),
            )
        )
    )
    assert not report.ok
    assert {p.code for p in report.errors} == {"gateway-no-condition", "missing-script"}
    assert {p.code for p in report.warnings} == {"dead-end"}
    assert report.summary == "2 errors, 2 warnings"
    try:
        report.raise_for_errors()
    except m.ModelError as exc:
        assert exc.problems == report.errors
    else:
        raise AssertionError("raise_for_errors did not raise")
    assert ValidationReport().ok and ValidationReport().summary == "no problems"


PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(model=random_definitions())
def test_any_model_is_validated_without_crashing(model: m.Definitions) -> None:
    found = problems_of(model)
    documented = documented_codes()
    for problem in found:
        assert problem.code in documented, problem
        assert problem.message and problem.process_id in {p.id for p in model.processes} | {None}


def test_a_5000_node_process_validates_well_under_a_second() -> None:
    nodes: list[m.FlowNode] = [m.StartEvent(id="start")]
    flows: list[m.SequenceFlow] = []
    previous = "start"
    for i in range(1250):  # split, two tasks, merge: 4 nodes per block
        split, a, b, merge = f"split{i}", f"a{i}", f"b{i}", f"merge{i}"
        nodes += [
            m.ExclusiveGateway(id=split, default=f"{split}_{b}"),
            m.ServiceTask(id=a, component=m.ComponentRef(type="http.request")),
            m.UserTask(id=b),
            m.ExclusiveGateway(id=merge),
        ]
        flows += [
            flow(previous, split),
            flow(split, a, f"amount > {i}"),
            flow(split, b),
            flow(a, merge),
            flow(b, merge),
        ]
        previous = merge
    nodes.append(m.EndEvent(id="end"))
    flows.append(flow(previous, "end"))
    big = process(*nodes, flows=flows)
    assert len(big.nodes) > 5000
    started = time.perf_counter()
    found = problems_of(big)
    elapsed = time.perf_counter() - started
    assert found == ()
    assert elapsed < 1.0, f"validating {len(big.nodes)} nodes took {elapsed:.2f}s"


# --- the documentation ---------------------------------------------------------------------------

_DOC_ROW = re.compile(r"^\| `(?P<code>[a-z-]+)` \| (?P<severity>[a-z /]+) \|", re.MULTILINE)
_CODE_LITERAL = re.compile(r"\"([a-z]+(?:-[a-z]+)+)\"")
# Codes built from a kind: f"unknown-{kind}", f"missing-{kind}-ref".
_BUILT_CODES = {
    *(f"unknown-{kind}" for kind in ("message", "signal", "error", "escalation")),
    *(f"missing-{kind}-ref" for kind in ("message", "signal")),
}


def documented_codes() -> dict[str, str]:
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    return {match["code"]: match["severity"] for match in _DOC_ROW.finditer(text)}


def test_every_code_in_the_validator_is_documented_and_nothing_else() -> None:
    sources = (ROOT / "src" / "apg_workflow" / "model" / "validation").glob("*.py")
    in_code = {
        literal
        for path in sources
        if path.name != "context.py"  # element kind words ("sub-process"), no codes
        for literal in _CODE_LITERAL.findall(path.read_text(encoding="utf-8"))
    } | _BUILT_CODES
    assert in_code == set(documented_codes())
