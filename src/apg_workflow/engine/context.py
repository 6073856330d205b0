"""The working copy of one step: copy-on-write access to the state, ids, effects and the agenda.

``step`` never mutates the state it is given. The context shallow-copies the top-level dict; a
collection (``instances``, ``scopes``, …) is copied the first time the step writes to it, and a
record (one instance, one scope) the first time the step changes it. After that the copies
belong to the step and are changed in place, so a step that moves a token through a hundred
elements copies each record it touches once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime
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


_EAGER = ("instances", "scopes", "waits")


class Fault(Exception):
    """Bad user data met while running an element (a failing expression, a missing decision, …).

    Raised inside behaviours and turned into an incident on the element where it happened; it
    never leaves ``step``.
    """


class Ctx:
    __slots__ = (
        "_copied",
        "_owned",
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
        # The records this step made or copied: instance and scope ids (one counter makes both,
        # so they never clash) and (collection, key) pairs for the other collections.
        self._owned: set[str | tuple[str, str]] = set()
        if new:
            self.state = state
            self.instances, self.scopes, self.waits = state["instances"], state["scopes"], state["waits"]
            self._copied: set[str] = {name for name, value in state.items() if type(value) is dict}
            self._owned.update(state["scopes"])
            self._owned.update(("variables", scope_id) for scope_id in state["scopes"])
            return
        # Nearly every step changes these three collections: they are copied at once (their
        # records still only when first changed); the others when first written.
        state = self.state = dict(state)
        self.instances: dict[str, Any] = dict(state["instances"])
        self.scopes: dict[str, Any] = dict(state["scopes"])
        self.waits: dict[str, Any] = dict(state["waits"])
        state["instances"] = self.instances
        state["scopes"] = self.scopes
        state["waits"] = self.waits
        self._copied = set(_EAGER)

    # Copy-on-write access ------------------------------------------------------------------

    def table(self, name: str) -> dict[str, Any]:
        """A collection of the state (``instances``, ``scopes``, …) that this step may change."""
        if name in self._copied:
            return self.state[name]  # type: ignore[no-any-return]
        copy = self.state[name] = dict(self.state[name])
        self._copied.add(name)
        return copy

    def instance(self, inst_id: str) -> dict[str, Any]:
        """An instance record that this step may change in place."""
        if inst_id in self._owned:
            return self.instances[inst_id]  # type: ignore[no-any-return]
        copy = self.instances[inst_id] = dict(self.instances[inst_id])
        self._owned.add(inst_id)
        return copy

    def scope(self, scope_id: str) -> dict[str, Any]:
        """A scope record that this step may change in place."""
        if scope_id in self._owned:
            return self.scopes[scope_id]  # type: ignore[no-any-return]
        copy = self.scopes[scope_id] = dict(self.scopes[scope_id])
        self._owned.add(scope_id)
        return copy

    def record(self, name: str, key: str) -> dict[str, Any]:
        """One record of a collection that this step may change in place."""
        if name == "instances":
            return self.instance(key)
        if name == "scopes":
            return self.scope(key)
        table = self.table(name)
        if (name, key) in self._owned:
            return table[key]  # type: ignore[no-any-return]
        copy = table[key] = dict(table[key])
        self._owned.add((name, key))
        return copy

    def insert(self, name: str, key: str, record: dict[str, Any]) -> None:
        """Add a record that this step made (and so may change in place)."""
        if name == "instances":
            self.add_instance(key, record)
            return
        self.table(name)[key] = record
        self._owned.add(key if name == "scopes" else (name, key))

    def add_instance(self, inst_id: str, record: dict[str, Any]) -> None:
        self.instances[inst_id] = record
        self._owned.add(inst_id)

    def remove(self, name: str, key: str) -> Any:
        return self.table(name).pop(key, None)

    def scope_variables(self, scope_id: str) -> dict[str, Any]:
        """The variables dict of a scope, ready to be written."""
        scope = self.scope(scope_id)
        if ("variables", scope_id) not in self._owned:
            scope["variables"] = dict(scope["variables"])
            self._owned.add(("variables", scope_id))
        return scope["variables"]  # type: ignore[no-any-return]

    def own_variables(self, scope_id: str) -> None:
        """The variables dict of scope ``scope_id`` was made by this step: it may change in place."""
        self._owned.add(("variables", scope_id))

    # Ids, effects, history -----------------------------------------------------------------

    def next_number(self) -> int:
        n: int = self.state["next_id"]
        self.state["next_id"] = n + 1
        return n

    def new_id(self) -> str:
        """An id for an instance or scope, unique within the execution."""
        return str(self.next_number())

    def external_id(self) -> str:
        """An id that leaves the engine (job, task, timer, subscription, call, incident)."""
        return f"{self.execution_id}/{self.next_number()}"

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
        self.effects.append(History(self.now, event, element_id, instance_id, data))

    def info(self, element_id: str) -> NodeInfo:
        return self.proc.nodes[element_id]

    # Waits (jobs, tasks, timers, subscriptions, calls) -------------------------------------

    def add_wait(self, wait_id: str, wait: dict[str, Any]) -> None:
        self.waits[wait_id] = wait
        self._owned.add(("waits", wait_id))

    def release_wait(self, wait_id: str) -> None:
        """Forget a wait and tell the outside world to drop the job, task, timer, … behind it."""
        wait = self.remove("waits", wait_id)
        if wait is not None:
            self.effects.append(_RELEASE[wait["kind"]](wait_id))
        else:  # a conditional event's wait: nothing outside the engine to tell
            self.remove("conditions", wait_id)
