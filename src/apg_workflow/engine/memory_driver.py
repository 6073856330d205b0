"""What :class:`~apg_workflow.engine.memory.MemoryEngine` does with each effect: the views of
jobs and user tasks it keeps, timers, and message / signal delivery across executions (message
buffering for a time to live, signal fan-out)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from apg_workflow.engine import commands as c
from apg_workflow.engine import effects as e
from apg_workflow.model import MessageDefinition, SignalDefinition

if TYPE_CHECKING:
    from apg_workflow.engine.memory import MemoryEngine


class JobError(Exception):
    """Raised by a job handler: a BPMN error (``error_code``) or a failure not worth retrying."""

    def __init__(self, message: str, *, error_code: str | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.retryable = retryable


class JobView(NamedTuple):
    """A job waiting for a worker (a view of its :class:`~apg_workflow.engine.effects.CreateJob`)."""

    job_id: str
    execution_id: str
    element_id: str
    component_type: str | None
    config: Mapping[str, Any]
    implementation: str | None
    variables: dict[str, Any]
    attempt: int
    run_at: datetime | None


TaskView = e.CreateUserTask
"""A user task waiting for a person: its :class:`~apg_workflow.engine.effects.CreateUserTask`,
kept as it came (it names its execution): ``task_id``, ``execution_id``, ``element_id``, ``name``,
``assignee``, ``candidate_users``, ``candidate_groups``, ``form``, ``due_at``, ``priority`` and
``variables``."""


@dataclass(slots=True)
class _Buffered:
    name: str
    key: str | None
    variables: dict[str, Any]
    expires: datetime


@dataclass
class Delivery:
    """The registries an in-memory driver keeps beside the execution states."""

    jobs_by_id: dict[str, JobView] = field(default_factory=dict)
    tasks_by_id: dict[str, TaskView] = field(default_factory=dict)
    timers: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    incidents: dict[str, tuple[str, str, str]] = field(
        default_factory=dict
    )  # id → (execution, element, message)
    _messages: dict[str, tuple[str, str, str | None]] = field(
        default_factory=dict
    )  # sub → (execution, name, key)
    _signals: dict[str, tuple[str, str]] = field(default_factory=dict)  # sub → (execution, name)
    _buffer: list[_Buffered] = field(default_factory=list)

    def next_due(self) -> datetime | None:
        """The earliest due timer or delayed job."""
        times = [due for due, _ in self.timers.values()]
        times += [j.run_at for j in self.jobs_by_id.values() if j.run_at is not None and j.run_at > self.now]  # type: ignore[attr-defined]
        return min(times) if times else None

    def correlate(
        self,
        message_name: str,
        correlation_key: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Deliver a message to the first subscription matching its name and correlation key, else start
        processes with a matching message start event, else keep it for ``message_ttl``. Returns the
        receiving execution's id (``None`` when buffered)."""
        receiver = self._route_message(message_name, correlation_key, dict(variables or {}))
        self._drain()  # type: ignore[attr-defined]
        return receiver

    def broadcast(self, signal_name: str, variables: Mapping[str, Any] | None = None) -> int:
        """Deliver a signal to every execution waiting for it (and start processes with a signal start
        event of that name). Returns how many receivers there were."""
        count = self._route_signal(signal_name, dict(variables or {}))
        self._drain()  # type: ignore[attr-defined]
        return count

    def _route_message(
        self, message_name: str, correlation_key: str | None, payload: dict[str, Any]
    ) -> str | None:
        engine: MemoryEngine = self  # type: ignore[assignment]
        for sub_id, (execution_id, name, key) in self._messages.items():
            if name == message_name and (key is None or key == correlation_key):
                del self._messages[sub_id]
                engine.send(execution_id, c.CorrelateMessage(subscription_id=sub_id, variables=payload))
                return execution_id
        started = self.start_by_event(MessageDefinition, message_name, payload)
        if started:
            return started[0]
        self._buffer.append(
            _Buffered(message_name, correlation_key, payload, engine.now + engine.message_ttl)
        )
        return None

    def _route_signal(self, signal_name: str, payload: dict[str, Any], thrower: str | None = None) -> int:
        """Send the signal to every subscription of its name except those of ``thrower`` (the execution
        that threw it has delivered it to its own catchers), and start the processes it starts."""
        engine: MemoryEngine = self  # type: ignore[assignment]
        receivers = [
            (sub, execution)
            for sub, (execution, name) in self._signals.items()
            if name == signal_name and execution != thrower
        ]
        for sub_id, execution_id in receivers:
            engine.send(execution_id, c.BroadcastSignal(subscription_id=sub_id, variables=payload))
        return len(receivers) + len(self.start_by_event(SignalDefinition, signal_name, payload))

    def start_by_event(self, definition_type: type, name: str, variables: Mapping[str, Any]) -> list[str]:
        """Queue a start of every process with a message (or signal) start event named ``name``."""
        engine: MemoryEngine = self  # type: ignore[assignment]
        started = []
        for proc in engine.program.processes.values():
            for start in proc.process.start_events:
                definition = start.definition(definition_type)
                if definition is None:
                    continue
                ref = definition.message_ref if isinstance(definition, MessageDefinition) else None
                if isinstance(definition, SignalDefinition):
                    ref = definition.signal_ref
                names = (
                    self.program.messages if definition_type is MessageDefinition else self.program.signals
                )
                if ref is not None and names.get(ref, ref) == name:
                    execution_id = engine._new_id()
                    engine._programs[execution_id] = engine.program
                    command = c.Start(
                        execution_id=execution_id,
                        process_id=proc.process.id,
                        variables=dict(variables),
                        start_event_id=start.id,
                    )
                    engine.send(execution_id, command)
                    started.append(execution_id)
        return started

    def forget(self, wait_id: str) -> None:
        """A job, task, timer or subscription the engine no longer waits on."""
        self.jobs_by_id.pop(wait_id, None)
        self.tasks_by_id.pop(wait_id, None)
        self.timers.pop(wait_id, None)
        self._messages.pop(wait_id, None)
        self._signals.pop(wait_id, None)

    def _subscribed(self, execution_id: str, effect: e.SubscribeMessage) -> None:
        engine: MemoryEngine = self  # type: ignore[assignment]
        self._buffer = [m for m in self._buffer if m.expires > engine.now]
        for message in self._buffer:
            if message.name == effect.message_name and effect.correlation_key in (None, message.key):
                self._buffer.remove(message)
                engine.send(
                    execution_id,
                    c.CorrelateMessage(subscription_id=effect.subscription_id, variables=message.variables),
                )
                return
        self._messages[effect.subscription_id] = (execution_id, effect.message_name, effect.correlation_key)


def effect_handlers(engine: MemoryEngine) -> dict[type[e.Effect], Callable[[str, Any], None]]:
    """What the engine does with each kind of effect of an execution."""

    def job(execution_id: str, x: e.CreateJob) -> None:
        engine.job_created(
            JobView(
                x.job_id,
                execution_id,
                x.element_id,
                x.component_type,
                x.config,
                x.implementation,
                x.variables,
                x.attempt,
                x.run_at,
            )
        )

    def task(execution_id: str, x: e.CreateUserTask) -> None:
        engine.tasks_by_id[x.task_id] = x

    def signal(execution_id: str, x: e.SubscribeSignal) -> None:
        engine._signals[x.subscription_id] = (execution_id, x.signal_name)

    def incident(execution_id: str, x: e.OpenIncident) -> None:
        engine.incidents[x.incident_id] = (execution_id, x.element_id, x.message)

    def ended(execution_id: str, x: e.Effect) -> None:
        engine.child_ended(execution_id, x)

    def throw_message(execution_id: str, x: e.ThrowMessage) -> None:
        engine._route_message(x.message_name, x.correlation_key, dict(x.variables))

    def throw_signal(execution_id: str, x: e.ThrowSignal) -> None:
        engine._route_signal(x.signal_name, dict(x.variables), thrower=execution_id)

    return {
        e.CreateJob: job,
        e.CancelJob: lambda _, x: engine.forget(x.job_id),
        e.CreateUserTask: task,
        e.CancelUserTask: lambda _, x: engine.forget(x.task_id),
        e.SetTimer: lambda eid, x: engine.timers.__setitem__(x.timer_id, (x.due_at, eid)),
        e.CancelTimer: lambda _, x: engine.forget(x.timer_id),
        e.SubscribeMessage: engine._subscribed,
        e.SubscribeSignal: signal,
        e.Unsubscribe: lambda _, x: engine.forget(x.subscription_id),
        e.ThrowMessage: throw_message,
        e.ThrowSignal: throw_signal,
        e.StartChild: engine.start_child,
        e.CancelChild: lambda _, x: engine.send(
            x.call_id, c.Cancel(reason="the calling activity was cancelled")
        ),
        e.OpenIncident: incident,
        e.ResolveIncident: lambda _, x: engine.incidents.pop(x.incident_id, None),
        e.History: engine.record_history,
        e.ExecutionCompleted: ended,
        e.ExecutionFailed: ended,
        e.ExecutionCancelled: lambda _, x: None,
    }
