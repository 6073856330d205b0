"""Tasks of every kind and call activities (sub-processes, which hold activities of their own, live
in :mod:`.document`)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from apg_workflow.formats.jsonyaml.entry import DefaultFlow, NodeContext, NodeEntry
from apg_workflow.formats.jsonyaml.fields import (
    ComponentValue,
    ExpressionValue,
    FormValue,
    LoopObject,
    MultiInstanceObject,
    NamesValue,
    RetryObject,
    RetryValue,
    Strict,
    component_entry,
    component_ref,
    expression,
    expression_value,
    form,
    form_value,
    loop_entry,
    multi_instance,
    names,
    retry_value,
    standard_loop,
    unless,
)
from apg_workflow.model import (
    Activity,
    Assignment,
    BusinessRuleTask,
    CallActivity,
    ComponentRef,
    LoopCharacteristics,
    ManualTask,
    ReceiveTask,
    RetryPolicy,
    Script,
    ScriptTask,
    SendTask,
    ServiceTask,
    Task,
    UserTask,
)


class ActivityEntry(NodeEntry, DefaultFlow):
    """Common to activities: default flow, loops, retries, SLA and compensation."""

    MODEL: ClassVar[type[Activity]]

    loop: LoopObject | None = None
    """Repeat the activity while a condition holds: ``{condition, test_before, maximum}``."""
    multi_instance: MultiInstanceObject | None = None
    """Run the activity once per item of a collection, or a number of times."""
    retry: RetryValue | None = None
    """Retries of a failed job: the number of attempts (``3``) or ``{max_attempts, initial_backoff, …}``."""
    sla: str | None = None
    """How long the activity may take before it is late: ISO 8601 (``PT4H``) or ``4h``, ``1d 2h``."""
    is_for_compensation: bool = False
    """A compensation handler, run only to undo the activity its compensation boundary event is on."""
    pre_script: str | None = None
    """Python run in the activity's scope just before its work starts (in every pass of a loop)."""
    post_script: str | None = None
    """Python run in the activity's scope just after its work is done, before its outputs."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {
            "default": ctx.default_flow(self.default),
            "loop": self._loop(ctx),
            "retry": self._retry(ctx),
            "sla": ctx.duration(self.sla, "sla"),
            "is_for_compensation": self.is_for_compensation,
            "pre_script": self.pre_script,
            "post_script": self.post_script,
        }

    def _loop(self, ctx: NodeContext) -> LoopCharacteristics | None:
        if self.loop is not None and self.multi_instance is not None:
            ctx.report("multi_instance", "an activity takes either 'loop' or 'multi_instance', not both")
        if self.multi_instance is not None:
            return multi_instance(self.multi_instance)
        return None if self.loop is None else standard_loop(self.loop)

    def _retry(self, ctx: NodeContext) -> RetryPolicy | None:
        if self.retry is None or isinstance(self.retry, int):
            return None if self.retry is None else RetryPolicy(max_attempts=self.retry)
        policy: RetryObject = self.retry
        return RetryPolicy(
            max_attempts=policy.max_attempts,
            initial_backoff=ctx.duration(policy.initial_backoff, ("retry", "initial_backoff"))
            or policy.initial_backoff,
            multiplier=float(policy.multiplier),
            max_backoff=ctx.duration(policy.max_backoff, ("retry", "max_backoff")) or policy.max_backoff,
            jitter=policy.jitter,
        )

    @classmethod
    def entry(cls, node: Any) -> dict[str, Any]:  # an Activity
        return (
            super().entry(node)
            | {"default": node.default, "retry": retry_value(node.retry), "sla": node.sla}
            | loop_entry(node.loop)
            | {"is_for_compensation": unless(node.is_for_compensation, False)}
            | {"pre_script": node.pre_script, "post_script": node.post_script}
        )


class ComponentFields(Strict):
    """Tasks whose work is done by a component."""

    component: ComponentValue | None = None
    """The component that does the work: its type (``http.request``, with ``config`` beside it) or
    ``{type, config}``."""
    config: dict[str, Any] | None = None
    """The configuration of ``component`` when it is given by type alone: any JSON object."""

    def make_component(self, ctx: NodeContext) -> ComponentRef | None:
        if self.config is not None and not isinstance(self.component, str):
            ctx.report("config", "'config' goes with 'component: <type>'; put it inside the component object")
        return component_ref(self.component, self.config)


class TaskEntry(ActivityEntry):
    """A task with no particular kind: it completes at once (useful as a placeholder)."""

    MODEL = Task
    type: Literal["task"]


class ManualTaskEntry(ActivityEntry):
    """Work done outside the system, completed by hand."""

    MODEL = ManualTask
    type: Literal["manualTask"]


class ServiceTaskEntry(ActivityEntry, ComponentFields):
    """Work done by a component (an HTTP call, a query, …)."""

    MODEL = ServiceTask
    type: Literal["serviceTask"]
    implementation: str | None = None
    """A foreign implementation hint kept from other tools (a Java class, an expression)."""
    result_variable: str | None = None
    """The variable the component's result is stored in."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {
            "component": self.make_component(ctx),
            "implementation": self.implementation,
            "result_variable": self.result_variable,
        }

    @classmethod
    def entry(cls, node: ServiceTask) -> dict[str, Any]:
        return (
            super().entry(node)
            | component_entry(node.component)
            | {"implementation": node.implementation, "result_variable": node.result_variable}
        )


class SendTaskEntry(ActivityEntry, ComponentFields):
    """Sends a message (through a component when one is given)."""

    MODEL = SendTask
    type: Literal["sendTask"]
    message_ref: str | None = None
    """The id of the message sent (see ``messages``)."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {
            "message_ref": self.message_ref,
            "component": self.make_component(ctx),
        }

    @classmethod
    def entry(cls, node: SendTask) -> dict[str, Any]:
        return super().entry(node) | {"message_ref": node.message_ref} | component_entry(node.component)


class ReceiveTaskEntry(ActivityEntry):
    """Waits for a message."""

    MODEL = ReceiveTask
    type: Literal["receiveTask"]
    message_ref: str | None = None
    """The id of the message waited for (see ``messages``)."""
    correlation_key: ExpressionValue | None = None
    """Which message is for this execution: an expression compared with the message's key."""
    instantiate: bool = False
    """The message starts a new execution (the task has no incoming flow)."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {
            "message_ref": self.message_ref,
            "correlation_key": expression(self.correlation_key),
            "instantiate": self.instantiate,
        }

    @classmethod
    def entry(cls, node: ReceiveTask) -> dict[str, Any]:
        return super().entry(node) | {
            "message_ref": node.message_ref,
            "correlation_key": expression_value(node.correlation_key),
            "instantiate": unless(node.instantiate, False),
        }


class ScriptTaskEntry(ActivityEntry):
    """Runs a script in the sandbox."""

    MODEL = ScriptTask
    type: Literal["scriptTask"]
    script: str | None = None
    """The script text."""
    script_format: str | None = None
    """Its language; absent means ``python``."""
    result_variable: str | None = None
    """The variable the script's result is stored in."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        if self.script_format is not None and self.script is None:
            ctx.report("script_format", "'script_format' needs a 'script'")
        script = None if self.script is None else Script(self.script, self.script_format)
        return super().node_fields(ctx) | {"script": script, "result_variable": self.result_variable}

    @classmethod
    def entry(cls, node: ScriptTask) -> dict[str, Any]:
        script = node.script
        return super().entry(node) | {
            "script": script and script.text,
            "script_format": script and script.format,
            "result_variable": node.result_variable,
        }


class UserTaskEntry(ActivityEntry):
    """Work for a person: it appears in the task lists of its assignee or candidates."""

    MODEL = UserTask
    type: Literal["userTask"]
    assignee: str | None = None
    """The user the task is assigned to (a name or an expression such as ``${initiator}``)."""
    candidate_users: NamesValue | None = None
    """Users who may claim the task."""
    candidate_groups: NamesValue | None = None
    """Groups whose members may claim the task."""
    form: FormValue | None = None
    """The form shown: a stored form's key, or ``{key, schema}`` with an inline JSON Schema."""
    due: str | None = None
    """When the task is due: a duration from its creation (``PT2H``, ``2h``), a date-time or an expression."""
    priority: int | None = None
    """Its priority; higher comes first."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        assignment = Assignment(
            assignee=self.assignee,
            candidate_users=names(self.candidate_users),
            candidate_groups=names(self.candidate_groups),
        )
        return super().node_fields(ctx) | {
            "assignment": assignment,
            "form": form(self.form),
            "due": ctx.duration(self.due, "due", strict=False),
            "priority": self.priority,
        }

    @classmethod
    def entry(cls, node: UserTask) -> dict[str, Any]:
        assignment = node.assignment
        return super().entry(node) | {
            "assignee": assignment.assignee,
            "candidate_users": list(assignment.candidate_users) or None,
            "candidate_groups": list(assignment.candidate_groups) or None,
            "form": form_value(node.form),
            "due": node.due,
            "priority": node.priority,
        }


class BusinessRuleTaskEntry(ActivityEntry, ComponentFields):
    """Evaluates a DMN decision table (or runs a component)."""

    MODEL = BusinessRuleTask
    type: Literal["businessRuleTask"]
    decision_ref: str | None = None
    """The id of the DMN decision evaluated."""
    result_variable: str | None = None
    """The variable the decision's result is stored in."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {
            "decision_ref": self.decision_ref,
            "result_variable": self.result_variable,
            "component": self.make_component(ctx),
        }

    @classmethod
    def entry(cls, node: BusinessRuleTask) -> dict[str, Any]:
        return (
            super().entry(node)
            | {"decision_ref": node.decision_ref, "result_variable": node.result_variable}
            | component_entry(node.component)
        )


class CallActivityEntry(ActivityEntry):
    """Starts another process and waits for it to end."""

    MODEL = CallActivity
    type: Literal["callActivity"]
    called_element: str | None = None
    """The id of the process called (in this file or deployed)."""
    propagate_all: bool = False
    """Pass every variable in and back out (besides ``inputs`` and ``outputs``)."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {
            "called_element": self.called_element,
            "propagate_all": self.propagate_all,
        }

    @classmethod
    def entry(cls, node: CallActivity) -> dict[str, Any]:
        return super().entry(node) | {
            "called_element": node.called_element,
            "propagate_all": unless(node.propagate_all, False),
        }


TASK_ENTRIES: tuple[type[ActivityEntry], ...] = (
    TaskEntry,
    ServiceTaskEntry,
    ScriptTaskEntry,
    UserTaskEntry,
    ManualTaskEntry,
    BusinessRuleTaskEntry,
    SendTaskEntry,
    ReceiveTaskEntry,
    CallActivityEntry,
)
