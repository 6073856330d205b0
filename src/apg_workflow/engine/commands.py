"""What the caller asks the engine to do: one frozen value per kind of command.

A command carries every id and every random number the step needs (``jitter``), so replaying the
same commands against the same state gives the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from apg_workflow.engine.frozen import quick_init
from apg_workflow.model import EMPTY


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Start:
    """Start an execution of ``process_id`` (default: the program's main process).

    ``start_event_id`` picks a message, timer or signal start event; by default the process's none
    start event runs.
    """

    execution_id: str
    process_id: str | None = None
    variables: Mapping[str, Any] = EMPTY
    business_key: str | None = None
    start_event_id: str | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteJob:
    job_id: str
    attempt: int
    variables: Mapping[str, Any] = EMPTY


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class FailJob:
    """A job attempt failed. With ``error_code`` it threw a BPMN error that boundary events may catch;
    otherwise it is retried per the element's retry policy (``jitter`` is a caller-supplied random
    number in [0, 1)) unless ``retryable`` is false, then an incident opens."""

    job_id: str
    attempt: int
    message: str
    error_code: str | None = None
    retryable: bool = True
    jitter: float = 0.5


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteUserTask:
    task_id: str
    variables: Mapping[str, Any] = EMPTY


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class FireTimer:
    timer_id: str


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelateMessage:
    subscription_id: str
    variables: Mapping[str, Any] = EMPTY


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class BroadcastSignal:
    subscription_id: str
    variables: Mapping[str, Any] = EMPTY


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ChildCompleted:
    """The execution a call activity started (``call_id``) completed with ``variables``."""

    call_id: str
    variables: Mapping[str, Any] = EMPTY


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ChildFailed:
    """The called execution failed; with ``error_code`` its uncaught BPMN error is rethrown here."""

    call_id: str
    message: str
    error_code: str | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Cancel:
    reason: str = "cancelled"


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RetryIncident:
    """Retry what failed, after setting ``variables`` where the failed element reads them."""

    incident_id: str
    variables: Mapping[str, Any] | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Modify:
    """Operator token moves: cancel every instance of ``cancel`` elements, then activate the
    ``activate`` elements (in a live scope of their (sub-)process), after writing ``variables``."""

    cancel: tuple[str, ...] = ()
    activate: tuple[str, ...] = ()
    variables: Mapping[str, Any] = field(default=EMPTY)


Command = (
    Start
    | CompleteJob
    | FailJob
    | CompleteUserTask
    | FireTimer
    | CorrelateMessage
    | BroadcastSignal
    | ChildCompleted
    | ChildFailed
    | Cancel
    | RetryIncident
    | Modify
)

# The field of a command naming the wait (job, user task, timer, subscription) it reports on.
_WAIT_FIELDS: dict[type, str] = {
    CompleteJob: "job_id",
    FailJob: "job_id",
    CompleteUserTask: "task_id",
    FireTimer: "timer_id",
    CorrelateMessage: "subscription_id",
    BroadcastSignal: "subscription_id",
}


def wait_getter(kind: type) -> Callable[[Command], str]:
    """A function giving the job, user task, timer or subscription that a command of type ``kind``
    reports on (``kind`` must be one that reports on a wait)."""
    return attrgetter(_WAIT_FIELDS[kind])
