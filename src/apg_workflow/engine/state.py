"""The execution state: plain, JSON-ready data with a versioned schema.

It holds only what is live (instances, scopes with their variables, join counters, waits,
incidents, the id counter and the status); history leaves the engine as effects, so a step costs
the same after a thousand elements as after one. Callers treat a state as immutable: ``step``
never changes the dict it is given.

Ids: internal instance and scope ids are the decimal counter (``"7"``); ids that leave the engine
(jobs, user tasks, timers, subscriptions, call activities, incidents) are
``f"{execution_id}/{n}"`` so that they are unique across executions.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

SCHEMA_VERSION = 1

Status = Literal["running", "completed", "failed", "cancelled"]
WaitKind = Literal["job", "task", "timer", "message", "signal", "call"]
# What a wait belongs to: the instance itself (a job, a catch event, a receive task), a boundary
# event of the instance, a target of an event-based gateway instance, or the start event of an
# event sub-process of a scope.
WaitRole = Literal["self", "boundary", "gateway", "start"]


class ScopeState(TypedDict):
    """A variable scope: the process, a sub-process, a multi-instance body or instance, or an
    activity's local inputs. ``tokens`` counts the live instances and join tokens running in it."""

    parent: str | None
    owner: str | None  # the instance that owns the scope (None for the process scope)
    element: str  # the process, sub-process or activity the scope belongs to
    variables: dict[str, Any]
    tokens: int
    subs: NotRequired[list[str]]  # waits of event sub-process start events


class InstanceState(TypedDict):
    """A live element instance (an activity running, a catch event waiting, a gateway deciding)."""

    element: str
    scope: str  # the scope the instance runs in
    own: NotRequired[str]  # its own scope: sub-process, multi-instance instance, local inputs
    wait: NotRequired[str]  # the job, user task, call, timer or subscription it waits on
    attempt: NotRequired[int]  # job attempt (fencing: a completion must carry it)
    tries: NotRequired[int]  # failed attempts since the job was (re)created, for the retry policy
    subs: NotRequired[list[str]]  # waits of boundary events or of event-based gateway targets
    body: NotRequired[str]  # the loop / multi-instance body this is one iteration of
    loop: NotRequired[dict[str, Any]]  # counters of a loop or multi-instance body
    start: NotRequired[str]  # the start event an event sub-process was triggered through
    incident: NotRequired[str]


class WaitState(TypedDict):
    kind: WaitKind
    role: WaitRole
    element: str  # the element the trigger belongs to (catch event, boundary, start event)
    instance: str | None
    scope: NotRequired[str]  # for role "start": the scope whose event sub-process it starts
    attempt: NotRequired[int]
    cycle: NotRequired[dict[str, Any]]  # remaining repetitions of a timer cycle


class ConditionState(TypedDict):
    """A conditional event waiting for its condition to become true."""

    role: WaitRole
    element: str
    instance: str | None
    scope: str
    last: bool


class IncidentState(TypedDict):
    """Something failed and waits for an operator: ``action`` says what a retry does again."""

    instance: str
    element: str
    message: str
    action: Literal["start", "job", "complete", "leave"]
    variables: NotRequired[dict[str, Any]]


class ExecutionState(TypedDict):
    schema_version: int
    execution_id: str
    process_id: str
    business_key: str | None
    status: Status
    error: str | None
    next_id: int
    scopes: dict[str, ScopeState]
    instances: dict[str, InstanceState]
    joins: dict[str, dict[str, int]]  # f"{scope}|{gateway}" → incoming flow id → waiting tokens
    waits: dict[str, WaitState]
    conditions: dict[str, ConditionState]
    incidents: dict[str, IncidentState]


ROOT_SCOPE = "0"


def new_state(
    execution_id: str, process_id: str, business_key: str | None, variables: dict[str, Any]
) -> dict[str, Any]:
    """A fresh running state with the process scope holding ``variables``."""
    state: ExecutionState = {
        "schema_version": SCHEMA_VERSION,
        "execution_id": execution_id,
        "process_id": process_id,
        "business_key": business_key,
        "status": "running",
        "error": None,
        "next_id": 1,
        "scopes": {
            ROOT_SCOPE: {
                "parent": None,
                "owner": None,
                "element": process_id,
                "variables": variables,
                "tokens": 0,
            }
        },
        "instances": {},
        "joins": {},
        "waits": {},
        "conditions": {},
        "incidents": {},
    }
    return state  # type: ignore[return-value]
