"""The in-memory driver: history entries as they happen, and dropping finished executions."""

from __future__ import annotations

import pytest

from apg_workflow.engine.effects import History
from apg_workflow.engine.memory import CommandRejected, MemoryEngine
from apg_workflow.model import UserTask

from .builders import END, START, definitions, script
from .conftest import EngineFactory, make_sandbox


def test_a_subclass_watching_history_sees_every_entry() -> None:
    seen: list[History] = []

    class Watching(MemoryEngine):
        def record_history(self, execution_id: str, entry: History) -> None:
            super().record_history(execution_id, entry)
            seen.append(entry)

    run = Watching(
        definitions([START, script("a", "x = 1"), END], ["start > a > end"]), sandbox=make_sandbox()
    )
    eid = run.start()
    assert [entry.to_dict() for entry in seen] == run.history(eid)
    assert run.completed(eid) == ["start", "a", "end"]


def test_a_finished_execution_can_be_discarded(engine: EngineFactory) -> None:
    run = engine(definitions([START, UserTask(id="u"), END], ["start > u > end"]))
    eid = run.start()
    with pytest.raises(CommandRejected, match="running"):
        run.discard(eid)
    run.complete_task(run.tasks(eid)[0].task_id)
    run.discard(eid)
    assert run.history(eid) == [] and run.completed(eid) == []
    with pytest.raises(KeyError):
        run.state(eid)
    with pytest.raises(CommandRejected, match="no execution"):
        run.discard(eid)
