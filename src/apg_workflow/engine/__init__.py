"""The pure execution engine: ``step(program, state, command, now) -> (state, effects)``.

Compile definitions once with :func:`compile_program`; each execution is a plain JSON-ready
state dict (see :mod:`.state`); :class:`MemoryEngine` drives executions in memory for tests, the
CLI and embedding. See ``docs/engine.md``.
"""

from apg_workflow.engine.commands import (
    BroadcastSignal,
    Cancel,
    ChildCompleted,
    ChildFailed,
    Command,
    CompleteJob,
    CompleteUserTask,
    CorrelateMessage,
    FailJob,
    FireTimer,
    Modify,
    RetryIncident,
    Start,
)
from apg_workflow.engine.effects import (
    CancelChild,
    CancelJob,
    CancelTimer,
    CancelUserTask,
    CreateJob,
    CreateUserTask,
    Effect,
    ExecutionCancelled,
    ExecutionCompleted,
    ExecutionFailed,
    History,
    OpenIncident,
    Rejected,
    ResolveIncident,
    SetTimer,
    StartChild,
    SubscribeMessage,
    SubscribeSignal,
    ThrowMessage,
    ThrowSignal,
    Unsubscribe,
)
from apg_workflow.engine.migrations import StateVersionError, load_state
from apg_workflow.engine.program import Program, compile_program
from apg_workflow.engine.retries import Exhausted, RetryAt, retry_decision
from apg_workflow.engine.state import SCHEMA_VERSION
from apg_workflow.engine.step import step

__all__ = [
    "SCHEMA_VERSION",
    "BroadcastSignal",
    "Cancel",
    "CancelChild",
    "CancelJob",
    "CancelTimer",
    "CancelUserTask",
    "ChildCompleted",
    "ChildFailed",
    "Command",
    "CompleteJob",
    "CompleteUserTask",
    "CorrelateMessage",
    "CreateJob",
    "CreateUserTask",
    "Effect",
    "ExecutionCancelled",
    "ExecutionCompleted",
    "ExecutionFailed",
    "Exhausted",
    "FailJob",
    "FireTimer",
    "History",
    "Modify",
    "OpenIncident",
    "Program",
    "Rejected",
    "ResolveIncident",
    "RetryAt",
    "RetryIncident",
    "SetTimer",
    "Start",
    "StartChild",
    "StateVersionError",
    "SubscribeMessage",
    "SubscribeSignal",
    "ThrowMessage",
    "ThrowSignal",
    "Unsubscribe",
    "compile_program",
    "load_state",
    "retry_decision",
    "step",
]
