"""Activities: tasks of every kind, sub-processes and call activities."""

from __future__ import annotations

from dataclasses import dataclass

from apg_workflow.model.base import ElementKind, Expression
from apg_workflow.model.container import FlowContainer
from apg_workflow.model.nodes import FlowNode
from apg_workflow.model.specs import Assignment, ComponentRef, Form, LoopCharacteristics, RetryPolicy, Script


@dataclass(frozen=True, slots=True, kw_only=True)
class Activity(FlowNode):
    """Common to all activities: default flow, loop / multi-instance, retries, SLA, compensation.

    ``pre_script`` and ``post_script`` are Python run in the activity's scope just before its work
    starts and just after it is done (before the output mappings), as SpiffWorkflow's
    ``preScript`` / ``postScript``; with a loop, in every pass.
    """

    default: str | None = None
    loop: LoopCharacteristics | None = None
    retry: RetryPolicy | None = None
    sla: str | None = None  # ISO 8601 duration after which the activity is late
    is_for_compensation: bool = False
    pre_script: str | None = None
    post_script: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Task(Activity):
    KIND = ElementKind.TASK


@dataclass(frozen=True, slots=True, kw_only=True)
class ManualTask(Activity):
    KIND = ElementKind.MANUAL_TASK


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceTask(Activity):
    """Runs a component. ``implementation`` keeps a foreign implementation hint (a Java class, …)."""

    KIND = ElementKind.SERVICE_TASK
    component: ComponentRef | None = None
    implementation: str | None = None
    result_variable: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendTask(Activity):
    KIND = ElementKind.SEND_TASK
    message_ref: str | None = None
    component: ComponentRef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveTask(Activity):
    KIND = ElementKind.RECEIVE_TASK
    message_ref: str | None = None
    correlation_key: Expression | None = None
    instantiate: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptTask(Activity):
    KIND = ElementKind.SCRIPT_TASK
    script: Script | None = None
    result_variable: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserTask(Activity):
    """Work for a person. ``due`` is an ISO duration (from creation), date-time or expression."""

    KIND = ElementKind.USER_TASK
    assignment: Assignment = Assignment()
    form: Form | None = None
    due: str | None = None
    priority: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessRuleTask(Activity):
    """Evaluates a DMN decision (``decision_ref``) or runs a component."""

    KIND = ElementKind.BUSINESS_RULE_TASK
    decision_ref: str | None = None
    result_variable: str | None = None
    component: ComponentRef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallActivity(Activity):
    """Starts the process ``called_element`` (from this file or a deployed one) and waits for it.

    ``inputs`` / ``outputs`` map variables into the called process and back; with
    ``propagate_all`` every variable is passed both ways.
    """

    KIND = ElementKind.CALL_ACTIVITY
    called_element: str | None = None
    propagate_all: bool = False


@dataclass(frozen=True, kw_only=True)
class SubProcess(Activity, FlowContainer):
    """An embedded sub-process; with ``triggered_by_event`` an event sub-process."""

    KIND = ElementKind.SUB_PROCESS
    triggered_by_event: bool = False


@dataclass(frozen=True, kw_only=True)
class Transaction(SubProcess):
    KIND = ElementKind.TRANSACTION


@dataclass(frozen=True, kw_only=True)
class AdHocSubProcess(SubProcess):
    KIND = ElementKind.AD_HOC_SUB_PROCESS
    completion_condition: Expression | None = None
    ordering: str | None = None  # Parallel or Sequential
