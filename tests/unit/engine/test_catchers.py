"""Which catcher an error or escalation reaches (at each scope level a catcher naming it wins over a
catch-all one, whatever their order in the file), and the payload it brings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from apg_workflow.engine.memory_driver import JobError
from apg_workflow.model import (
    BoundaryEvent,
    ComponentRef,
    Definitions,
    EndEvent,
    ErrorDefinition,
    EscalationDefinition,
    EventDefinition,
    Expression,
    ServiceTask,
    StartEvent,
)

from .builders import END, START, definitions, script, sub
from .conftest import EngineFactory


def _error(ref: str | None) -> ErrorDefinition:
    return ErrorDefinition(error_ref=ref)


def _escalation(ref: str | None) -> EscalationDefinition:
    return EscalationDefinition(escalation_ref=ref)


def _thrower(definition: EventDefinition) -> object:
    return sub("sp", [StartEvent(id="s1"), EndEvent(id="throw", definitions=(definition,))], ["s1 > throw"])


@pytest.mark.parametrize(
    ("thrown", "caught_by"),
    [("E", "specific"), ("Other", "any")],
    ids=["named-error-reaches-the-specific-boundary", "other-error-reaches-the-catch-all"],
)
def test_a_boundary_naming_the_error_wins_over_a_catch_all_listed_first(
    engine: EngineFactory, thrown: str, caught_by: str
) -> None:
    d = definitions(
        [
            START,
            _thrower(_error(thrown)),
            BoundaryEvent(id="any", attached_to="sp", definitions=(_error(None),)),
            BoundaryEvent(id="specific", attached_to="sp", definitions=(_error("E"),)),
            END,
            EndEvent(id="end_any"),
            EndEvent(id="end_specific"),
        ],
        ["start > sp > end", "any > end_any", "specific > end_specific"],
        errors=[("E", "E"), ("Other", "Other")],
    )
    run = engine(d)
    eid = run.start()
    assert run.status(eid) == "completed"
    assert run.completed(eid)[-2:] == [caught_by, f"end_{caught_by}"]


def test_an_event_sub_process_naming_the_error_wins_over_a_catch_all_one(engine: EngineFactory) -> None:
    def handler(esp_id: str, definition: ErrorDefinition) -> object:
        start = StartEvent(id=f"{esp_id}_start", definitions=(definition,))
        return sub(
            esp_id,
            [start, script(f"{esp_id}_run", f"handled_by = '{esp_id}'"), EndEvent(id=f"{esp_id}_end")],
            [f"{esp_id}_start > {esp_id}_run > {esp_id}_end"],
            triggered_by_event=True,
        )

    d = definitions(
        [START, _thrower(_error("E")), END, handler("any", _error(None)), handler("named", _error("E"))],
        ["start > sp > end"],
        errors=[("E", "E")],
    )
    run = engine(d)
    eid = run.start()
    assert run.status(eid) == "completed"
    assert run.variables(eid) == {"handled_by": "named"}


def test_a_boundary_naming_the_escalation_wins_over_a_catch_all_listed_first(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            _thrower(_escalation("X")),
            BoundaryEvent(id="any", attached_to="sp", definitions=(_escalation(None),)),
            BoundaryEvent(id="specific", attached_to="sp", definitions=(_escalation("X"),)),
            END,
            EndEvent(id="end_any"),
            EndEvent(id="end_specific"),
        ],
        ["start > sp > end", "any > end_any", "specific > end_specific"],
        escalations=[("X", "LATE")],
    )
    run = engine(d)
    eid = run.start()
    assert "specific" in run.completed(eid) and "any" not in run.completed(eid)


def _with_payload(d: Definitions) -> Definitions:
    """``d`` with every error and escalation sending ``details`` and storing it in ``received``."""
    sent = {"payload": Expression("details"), "payload_variable": "received"}
    return replace(
        d,
        errors=tuple(replace(e, **sent) for e in d.errors),
        escalations=tuple(replace(e, **sent) for e in d.escalations),
    )


def test_an_error_payload_reaches_the_variable_its_catcher_names(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            _thrower(_error("E")),
            BoundaryEvent(id="caught", attached_to="sp", definitions=(_error("E"),)),
            END,
            EndEvent(id="end_caught"),
        ],
        ["start > sp > end", "caught > end_caught"],
        errors=[("E", "E")],
    )
    run = engine(_with_payload(d))
    eid = run.start(variables={"details": {"reason": "no stock"}})
    assert run.variables(eid) == {"details": {"reason": "no stock"}, "received": {"reason": "no stock"}}


def test_an_escalation_payload_reaches_an_event_sub_process(engine: EngineFactory) -> None:
    start = StartEvent(id="heard", is_interrupting=False, definitions=(_escalation("X"),))
    handler = sub("esp", [start, EndEvent(id="esp_end")], ["heard > esp_end"], triggered_by_event=True)
    d = definitions(
        [START, _thrower(_escalation("X")), END, handler], ["start > sp > end"], escalations=[("X", "LATE")]
    )
    run = engine(_with_payload(d))
    eid = run.start(variables={"details": 3})
    assert run.status(eid) == "completed" and run.variables(eid) == {"details": 3, "received": 3}


def test_a_failed_jobs_message_is_the_payload_of_its_bpmn_error(engine: EngineFactory) -> None:
    task = ServiceTask(id="pay", component=ComponentRef(type="pay"))
    d = definitions(
        [START, task, BoundaryEvent(id="declined", attached_to="pay", definitions=(_error("E"),)), END],
        ["start > pay > end", "declined > end"],
        errors=[("E", "CARD_DECLINED")],
    )
    run = engine(_with_payload(d))

    def decline(job: object) -> None:
        raise JobError("insufficient funds", error_code="CARD_DECLINED")

    run.register_job_handler("pay", decline)
    eid = run.start()
    assert run.variables(eid) == {"received": "insufficient funds"}
