"""What a step asks the outside world to do (or records): one frozen value per kind of effect.

The runtime turns effects into rows (jobs, timers, user tasks, history, outbox) in the same
transaction as the new state; the in-memory driver (:mod:`apg_workflow.engine.memory`) acts on
them directly. ``to_dict()`` gives a JSON-ready form with a ``type`` key.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, ClassVar

from apg_workflow.engine.frozen import TupleRecord, quick_init
from apg_workflow.model import EMPTY, FrozenDict


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):  # FrozenDict included
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Effect:
    TYPE: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.TYPE}
        for name in _field_names(type(self)):
            out[name] = _plain(getattr(self, name))
        return out


class TupleEffect(TupleRecord, Effect):
    """An effect stored as a tuple of its fields (see :class:`~apg_workflow.engine.frozen.TupleRecord`)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.TYPE}
        for name, value in zip(self.FIELDS, self, strict=True):
            out[name] = _plain(value)
        return out


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CreateJob(Effect):
    """Run a component (``component_type`` + ``config``) or a foreign ``implementation`` / topic."""

    TYPE = "job.created"
    job_id: str
    element_id: str
    component_type: str | None
    config: FrozenDict = EMPTY
    implementation: str | None = None
    variables: dict[str, Any]
    retry: dict[str, Any] | None = None
    attempt: int = 1
    run_at: datetime | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelJob(Effect):
    TYPE = "job.cancelled"
    job_id: str


class CreateUserTask(TupleEffect):
    """A work item for a person; one per user task reached, so a tuple record (see :class:`History`).

    It names its execution, so that a driver can keep it as the task's view as it is (the
    in-memory driver's ``TaskView``)."""

    __slots__ = ()
    TYPE = "task.created"
    task_id: str
    execution_id: str
    element_id: str
    name: str | None
    _: KW_ONLY
    assignee: str | None = None
    candidate_users: tuple[str, ...] = ()
    candidate_groups: tuple[str, ...] = ()
    form: dict[str, Any] | None = None
    due_at: datetime | None = None
    priority: int | None = None
    variables: dict[str, Any]


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelUserTask(Effect):
    TYPE = "task.cancelled"
    task_id: str


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SetTimer(Effect):
    TYPE = "timer.set"
    timer_id: str
    element_id: str
    due_at: datetime


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTimer(Effect):
    TYPE = "timer.cancelled"
    timer_id: str


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeMessage(Effect):
    TYPE = "message.subscribed"
    subscription_id: str
    element_id: str
    message_name: str
    correlation_key: str | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeSignal(Effect):
    TYPE = "signal.subscribed"
    subscription_id: str
    element_id: str
    signal_name: str


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Unsubscribe(Effect):
    TYPE = "subscription.removed"
    subscription_id: str


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ThrowMessage(Effect):
    TYPE = "message.thrown"
    element_id: str
    message_name: str
    correlation_key: str | None = None
    variables: dict[str, Any]


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ThrowSignal(Effect):
    """Broadcast a signal to the subscriptions of *other* executions and start the processes with a
    signal start event of that name. The throwing execution's own catchers received it inside the
    step: a driver must not deliver it to them again."""

    TYPE = "signal.thrown"
    element_id: str
    signal_name: str
    variables: dict[str, Any]


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class StartChild(Effect):
    """Start ``called_element`` as a child execution whose id the caller may derive from ``call_id``."""

    TYPE = "child.started"
    call_id: str
    element_id: str
    called_element: str
    variables: dict[str, Any]
    business_key: str | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelChild(Effect):
    TYPE = "child.cancelled"
    call_id: str


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OpenIncident(Effect):
    TYPE = "incident.opened"
    incident_id: str
    element_id: str
    message: str


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveIncident(Effect):
    TYPE = "incident.resolved"
    incident_id: str


class History(TupleEffect):
    """One history entry: ``element.activated|completed|cancelled|failed``, ``variables.changed``,
    ``execution.started|completed|failed|cancelled``, ``error.thrown``, ``escalation.thrown``.

    The most frequent effect (two or more per element), so a tuple record: the hot paths make one
    with ``new_record(History, (at, event, element_id, instance_id, data))``."""

    __slots__ = ()
    TYPE = "history"
    at: datetime
    event: str
    element_id: str | None = None
    instance_id: str | None = None
    data: dict[str, Any] | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionCompleted(Effect):
    TYPE = "execution.completed"
    variables: dict[str, Any]


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionFailed(Effect):
    """The execution failed: an uncaught BPMN error (``error_code`` set) or a fatal problem."""

    TYPE = "execution.failed"
    error: str
    error_code: str | None = None
    element_id: str | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionCancelled(Effect):
    TYPE = "execution.cancelled"
    reason: str


@quick_init
@dataclass(frozen=True, slots=True)
class Rejected(Effect):
    """The command does not apply (stale attempt, unknown id, finished execution); state unchanged."""

    TYPE = "rejected"
    reason: str
