"""Pre- and post-scripts of activities (SpiffWorkflow's ``preScript`` / ``postScript``): the pre-script
runs in the activity's scope before its work, the post-script after it, before its output mappings."""

from __future__ import annotations

from apg_workflow.model import Expression, MultiInstance, Task, UserTask

from .builders import END, START, definitions, mapping, script
from .conftest import EngineFactory


def test_pre_and_post_scripts_of_a_task_run_around_its_work(engine: EngineFactory) -> None:
    task = Task(id="t", pre_script="x = a * 2\ny = b * 2\nz = x + y", post_script="c = z * 2\ndel x\ndel y")
    run = engine(definitions([START, task, END], ["start > t > end"]))
    eid = run.start(variables={"a": 1, "b": 2})
    assert run.variables(eid) == {"a": 1, "b": 2, "z": 6, "c": 12}


def test_a_user_task_sees_its_pre_script_and_its_post_script_sees_the_answer(engine: EngineFactory) -> None:
    task = UserTask(
        id="review",
        pre_script="prompt = 'Approve ' + item + '?'",
        post_script="verdict = 'yes' if approved else 'no'",
        outputs=(mapping("result", "verdict"),),
    )
    run = engine(definitions([START, task, END], ["start > review > end"]))
    eid = run.start(variables={"item": "laptop"})
    [waiting] = run.tasks(eid)
    assert waiting.variables["prompt"] == "Approve laptop?"
    run.complete_task(waiting.task_id, {"approved": True})
    expected = {"item": "laptop", "prompt": "Approve laptop?", "verdict": "yes", "result": "yes"}
    assert run.variables(eid) == expected  # the answer itself stays local: the task has outputs


def test_a_multi_instance_activity_runs_its_scripts_in_every_pass(engine: EngineFactory) -> None:
    task = Task(
        id="each",
        loop=MultiInstance(sequential=True, input_collection=Expression("items"), input_element="item"),
        pre_script="seen = seen + [item]",
        post_script="done = done + 1",
    )
    run = engine(definitions([START, task, END], ["start > each > end"]))
    eid = run.start(variables={"items": ["a", "b", "c"], "seen": [], "done": 0})
    assert run.variables(eid) == {"items": ["a", "b", "c"], "seen": ["a", "b", "c"], "done": 3}


def test_a_failing_pre_script_opens_an_incident_that_a_retry_resolves(engine: EngineFactory) -> None:
    task = script("s", "y = x + 1", pre_script="x = 10 / divisor")
    run = engine(definitions([START, task, END], ["start > s > end"]))
    eid = run.start(variables={"divisor": 0})
    [(incident, (_, element, message))] = run.incidents.items()
    assert element == "s" and "pre-script" in message and "ZeroDivisionError" in message
    run.retry_incident(incident, {"divisor": 5})
    assert run.status(eid) == "completed" and run.variables(eid) == {"divisor": 5, "x": 2.0, "y": 3.0}
