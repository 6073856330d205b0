"""The working copy of one step: copy-on-write access to the state, ids, effects and the agenda.

``step`` never mutates the state it is given. The context shallow-copies the top-level dict; a
collection (``instances``, ``scopes``, …) is copied the first time the step writes to it, and a
record (one instance, one scope, a scope's variables) the first time the step changes it. A
collection or record is the step's own when it is not the very object of the given state, so
the copies are then changed in place: a step that moves a token through a hundred elements
copies each record it touches once, and keeps no list of what it copied.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from apg_workflow.engine.effects import (
    CancelChild,
    CancelJob,
    CancelTimer,
    CancelUserTask,
    Effect,
    History,
    Unsubscribe,
)
from apg_workflow.engine.frozen import new_record

if TYPE_CHECKING:
    from apg_workflow.engine.program import NodeInfo, ProcessProgram, Program

_RELEASE = {
    "job": lambda wid: CancelJob(job_id=wid),
    "task": lambda wid: CancelUserTask(task_id=wid),
    "timer": lambda wid: CancelTimer(timer_id=wid),
    "message": lambda wid: Unsubscribe(subscription_id=wid),
    "signal": lambda wid: Unsubscribe(subscription_id=wid),
    "call": lambda wid: CancelChild(call_id=wid),
}


# What a start's step was given: nothing, so every collection and record belongs to the step.
_NOTHING: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        name: MappingProxyType({})
        for name in ("instances", "scopes", "waits", "joins", "conditions", "incidents")
    }
)


class Fault(Exception):
    """Bad user data met while running an element (a failing expression, a missing decision, …).

    Raised inside behaviours and turned into an incident on the element where it happened; it
    never leaves ``step``.
    """


class Ctx:
    __slots__ = (
        "_base",
        "agenda",
        "effects",
        "execution_id",
        "instances",
        "now",
        "proc",
        "program",
        "scopes",
        "state",
        "vars_changed",
        "waits",
    )

    def __init__(
        self,
        program: Program,
        proc: ProcessProgram,
        state: dict[str, Any],
        now: datetime,
        *,
        new: bool = False,
    ) -> None:
        """``new``: the state was made by this step (a start), so all of it belongs to the step."""
        self.program = program
        self.proc = proc
        self.now = now
        self.execution_id: str = state["execution_id"]
        self.effects: list[Effect] = []
        # Tokens on their way: (scope, node id, flow id); or (None, function, args) for work
        # deferred to keep the Python stack flat (the next iteration of a sequential loop).
        self.agenda: deque[tuple[Any, Any, Any]] = deque()
        self.vars_changed = False
        if new:
            self.state = state
            self.instances, self.scopes, self.waits = state["instances"], state["scopes"], state["waits"]
            base: Mapping[str, Any] = _NOTHING
        else:
            # Nearly every step changes instances and waits: they are copied at once (their
            # records still only when first changed); the other collections when first written.
            base = state
            state = self.state = dict(state)
            self.instances: dict[str, Any] = state["instances"].copy()
            self.waits: dict[str, Any] = state["waits"].copy()
            state["instances"] = self.instances
            state["waits"] = self.waits
            self.scopes: dict[str, Any] = state["scopes"]  # read-only until table("scopes")
        # What the step was given: a collection, record or variables dict that is still the very
        # object found there must be copied before it changes; any other belongs to the step.
        self._base: Mapping[str, Mapping[str, Any]] = base

    # Copy-on-write access ------------------------------------------------------------------

    def table(self, name: str) -> dict[str, Any]:
        """A collection of the state (``instances``, ``scopes``, …) that this step may change."""
        table: dict[str, Any] = self.state[name]
        if table is self._base[name]:
            table = self.state[name] = table.copy()
            if name == "scopes":
                self.scopes = table
        return table

    def instance(self, inst_id: str) -> dict[str, Any]:
        """An instance record that this step may change in place."""
        record: dict[str, Any] = self.instances[inst_id]
        if record is self._base["instances"].get(inst_id):
            record = self.instances[inst_id] = record.copy()
        return record

    def scope(self, scope_id: str) -> dict[str, Any]:
        """A scope record that this step may change in place."""
        record: dict[str, Any] = self.scopes[scope_id]
        if record is self._base["scopes"].get(scope_id):
            record = self.table("scopes")[scope_id] = record.copy()
        return record

    def record(self, name: str, key: str) -> dict[str, Any]:
        """One record of a collection that this step may change in place."""
        table = self.table(name)
        record: dict[str, Any] = table[key]
        if record is self._base[name].get(key):
            record = table[key] = record.copy()
        return record

    def insert(self, name: str, key: str, record: dict[str, Any]) -> None:
        """Add a record that this step made (and so may change in place)."""
        self.table(name)[key] = record

    def add_instance(self, inst_id: str, record: dict[str, Any]) -> None:
        self.instances[inst_id] = record

    def new_instance(self, record: dict[str, Any]) -> str:
        """Add an instance record that this step made under a new id (see :meth:`new_id`); the id."""
        state = self.state
        n: int = state["next_id"]
        state["next_id"] = n + 1
        inst_id = str(n)
        self.instances[inst_id] = record
        return inst_id

    def remove(self, name: str, key: str) -> Any:
        return self.table(name).pop(key, None)

    def scope_variables(self, scope_id: str) -> dict[str, Any]:
        """The variables dict of a scope, ready to be written."""
        scope = self.scopes[scope_id]
        given = self._base["scopes"].get(scope_id)
        if given is None:  # a scope this step made
            return scope["variables"]  # type: ignore[no-any-return]
        if scope is given:
            scope = self.table("scopes")[scope_id] = scope.copy()
        variables: dict[str, Any] = scope["variables"]
        if variables is given["variables"]:
            variables = scope["variables"] = variables.copy()
        return variables

    # Ids, effects, history -----------------------------------------------------------------

    def new_id(self) -> str:
        """An id for an instance or scope, unique within the execution."""
        state = self.state
        n: int = state["next_id"]
        state["next_id"] = n + 1
        return str(n)

    def external_id(self) -> str:
        """An id that leaves the engine (job, task, timer, subscription, call, incident)."""
        state = self.state
        n: int = state["next_id"]
        state["next_id"] = n + 1
        return f"{self.execution_id}/{n}"

    def defer(self, function: Callable[..., None], *args: Any) -> None:
        """Run ``function(self, *args)`` when the agenda reaches it."""
        self.agenda.append((None, function, args))

    def emit(self, effect: Effect) -> None:
        self.effects.append(effect)

    def history(
        self,
        event: str,
        element_id: str | None,
        instance_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.effects.append(new_record(History, (self.now, event, element_id, instance_id, data)))

    def info(self, element_id: str) -> NodeInfo:
        return self.proc.nodes[element_id]

    # Waits (jobs, tasks, timers, subscriptions, calls) -------------------------------------

    def add_wait(self, wait_id: str, wait: dict[str, Any]) -> None:
        self.waits[wait_id] = wait

    def new_wait(self, wait: dict[str, Any]) -> str:
        """Add a wait record under a new id that leaves the engine (see :meth:`external_id`); the id."""
        state = self.state
        n: int = state["next_id"]
        state["next_id"] = n + 1
        wait_id = f"{self.execution_id}/{n}"
        self.waits[wait_id] = wait
        return wait_id

    def release_wait(self, wait_id: str) -> None:
        """Forget a wait and tell the outside world to drop the job, task, timer, … behind it."""
        wait = self.remove("waits", wait_id)
        if wait is not None:
            self.effects.append(_RELEASE[wait["kind"]](wait_id))
        else:  # a conditional event's wait: nothing outside the engine to tell
            self.remove("conditions", wait_id)
