"""Activities: the common life (loops, input mappings, boundary events) and the task kinds that
run inside the engine or wait for a person: task, manual, user, script, send, receive.

Service work (components, business rules) is in :mod:`~apg_workflow.engine.jobs`; sub-processes
and call activities in :mod:`~apg_workflow.engine.subprocess`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from apg_workflow.engine import loops, scopes, timers, tokens, triggers
from apg_workflow.engine.behaviour import Behaviour, register
from apg_workflow.engine.context import Ctx, Fault
from apg_workflow.engine.effects import CreateUserTask, History, ThrowMessage
from apg_workflow.engine.frozen import new_record
from apg_workflow.model import (
    Expression,
    FlowNode,
    ManualTask,
    MessageDefinition,
    ReceiveTask,
    ScriptTask,
    SendTask,
    Task,
    UserTask,
    thaw,
)

if TYPE_CHECKING:
    from apg_workflow.engine.program import NodeInfo

_BOUNDARY_TRIGGERS = ("timer", "message", "signal", "conditional")


class ActivityBehaviour(Behaviour):
    """An activity: a loop or multi-instance body hands over to :mod:`~apg_workflow.engine.loops`;
    otherwise input mappings fill a local scope, boundary events subscribe, the pre-script runs,
    and :meth:`run` does the work (the post-script runs when it completes, see
    :func:`~apg_workflow.engine.tokens.complete`)."""

    def arrive(self, ctx: Ctx, scope: str, info: NodeInfo, flow_id: str | None) -> None:
        inst_id = tokens.activate(ctx, scope, info)
        if not info.plain:
            self.begin(ctx, inst_id, info)
            return
        try:  # what begin and start come to without inputs, loop or boundary events
            self.run(ctx, inst_id, info)
        except Fault as fault:
            tokens.open_incident(ctx, inst_id, str(fault), "start")

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        inst = ctx.state["instances"][inst_id]
        if getattr(info.node, "loop", None) is not None and "body" not in inst:
            if info.boundaries and "subs" not in inst:
                subscribe_boundaries(ctx, inst_id, info)
            loops.begin(ctx, inst_id, info)
            return
        if info.node.inputs:
            values = scopes.map_values(ctx, info.node.inputs, inst["scope"], "input")
            own = inst.get("own")
            if own is None:
                own = scopes.new_scope(ctx, inst["scope"], inst_id, info.id, {})
                ctx.record("instances", inst_id)["own"] = own
            ctx.scope_variables(own).update({k: scopes.jsonable(v, k) for k, v in values.items()})
        if info.boundaries and "body" not in inst and "subs" not in inst:
            subscribe_boundaries(ctx, inst_id, info)
        if info.pre_script is not None:
            scope = inst.get("own") or inst["scope"]
            what = f"pre-script of {info.node.label}"
            scopes.apply_script(ctx, info.pre_script, scope, what, info.id, inst_id)
        self.run(ctx, inst_id, info)

    def run(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        tokens.complete(ctx, inst_id)


def subscribe_boundaries(ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
    """Wait for the timer, message, signal and conditional boundary events of an instance."""
    scope = ctx.state["instances"][inst_id]["scope"]
    subs = [
        triggers.subscribe(
            ctx, boundary.definitions[0], boundary.id, scope, role="boundary", instance=inst_id
        )
        for boundary in info.boundaries
        if boundary.trigger in _BOUNDARY_TRIGGERS
    ]
    ctx.record("instances", inst_id)["subs"] = subs


def reading_scope(ctx: Ctx, inst_id: str) -> str:
    """Where the activity's expressions read variables: its local scope, else where it runs."""
    inst = ctx.state["instances"][inst_id]
    return inst.get("own") or inst["scope"]  # type: ignore[no-any-return]


def inputs_or_all(ctx: Ctx, inst_id: str, info: NodeInfo) -> dict[str, Any]:
    """What an activity hands to a worker, a person or a called process: its mapped inputs when it
    has input mappings, else every variable it sees."""
    inst = ctx.instances[inst_id]
    scope = inst.get("own") or inst["scope"]
    if info.node.inputs:
        return scopes.clone(ctx.scopes[scope]["variables"])  # type: ignore[no-any-return]
    return scopes.snapshot(ctx, scope)


class TaskBehaviour(ActivityBehaviour):
    """A task without a kind (or one the engine completes at once)."""

    immediate = True


class ScriptBehaviour(ActivityBehaviour):
    """Runs its script in the sandbox; the variables it assigns or changes are written back, those
    it deletes (``del x``) are removed. With ``result_variable`` the script is an expression whose
    value is stored there."""

    immediate = True

    def prepare(self, node: FlowNode) -> _Script | Fault | None:
        """The script to run, ``None`` for no script, or the fault of a script in another language."""
        assert isinstance(node, ScriptTask)
        script = node.script
        if script is None or not script.text.strip():
            return None
        if script.format and "python" not in script.format.lower():
            return Fault(f"{node.label}: scripts in '{script.format}' are not run; write Python")
        return _Script(script.text, f"script of {node.label}", node.result_variable or None)

    def run(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        tokens.complete(ctx, inst_id, self.passing(ctx, reading_scope(ctx, inst_id), info, inst_id))

    def passing(self, ctx: Ctx, scope: str, info: NodeInfo, inst_id: str) -> Mapping[str, Any] | None:
        script = info.prepared
        if script is None:
            return None
        if type(script) is Fault:
            raise Fault(*script.args)
        if script.result_variable is None:
            return scopes.run_script(ctx, script.text, scope, script.what, info.id, inst_id)
        variables = scopes.visible(ctx, scope)
        try:
            value = ctx.program.sandbox.evaluate(script.text, None, variables, now=ctx.now)
        except Exception as exc:  # whatever the user's expression raised, reported by the sandbox
            raise Fault(f"{script.what} failed: {exc}") from None
        return {script.result_variable: value}


class _Script(NamedTuple):
    """A script task's script, worked out once per node."""

    text: str
    what: str  # how messages name it: "script of 'Name' (id)"
    result_variable: str | None  # with one, the script is an expression whose value is stored there


class UserTaskBehaviour(ActivityBehaviour):
    """Creates a work item for a person and waits until it is completed."""

    def prepare(self, node: FlowNode) -> _TaskOptions:
        if not isinstance(node, UserTask):  # a manual task
            return _TaskOptions(False, None, None)
        assignment = node.assignment
        evaluated = bool(
            assignment.assignee or assignment.candidate_users or assignment.candidate_groups or node.due
        )
        form = None
        if node.form is not None:
            form = {"key": node.form.key, "schema": thaw(node.form.schema) if node.form.schema else None}
        return _TaskOptions(evaluated, node.priority, form)

    def arrive(self, ctx: Ctx, scope: str, info: NodeInfo, flow_id: str | None) -> None:
        """A plain task with nothing to evaluate (the usual one) opens as the token arrives: what
        ``activate`` and :meth:`run` do, written out (nothing can fail, so no incident either)."""
        if not info.plain or info.prepared.evaluated:
            super().arrive(ctx, scope, info, flow_id)
            return
        record = {"element": info.id, "scope": scope}
        inst_id = ctx.new_instance(record)
        ctx.effects.append(new_record(History, (ctx.now, tokens.ACTIVATED, info.id, inst_id, None)))
        record["wait"] = task_id = ctx.new_wait(
            {"kind": "task", "role": "self", "element": info.id, "instance": inst_id}
        )
        variables = scopes.snapshot(ctx, scope)
        ctx.effects.append(_work_item(ctx, task_id, info, _UNASSIGNED, variables))

    def run(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        options: _TaskOptions = info.prepared
        assignment = _assignment(ctx, inst_id, info) if options.evaluated else _UNASSIGNED
        task_id = ctx.new_wait({"kind": "task", "role": "self", "element": info.id, "instance": inst_id})
        ctx.instance(inst_id)["wait"] = task_id
        ctx.effects.append(_work_item(ctx, task_id, info, assignment, inputs_or_all(ctx, inst_id, info)))


# A user task's assignee, candidate users, candidate groups and due date.
Assignment = tuple[str | None, tuple[str, ...], tuple[str, ...], datetime | None]
_UNASSIGNED: Assignment = (None, (), (), None)


def _assignment(ctx: Ctx, inst_id: str, info: NodeInfo) -> Assignment:
    """The assignment expressions of a user task, evaluated where it reads variables."""
    node = info.node
    assert isinstance(node, UserTask)
    scope = reading_scope(ctx, inst_id)
    assignment = node.assignment
    assignee = _text(ctx, assignment.assignee, scope, "assignee")
    candidate_users = _names(ctx, assignment.candidate_users, scope)
    candidate_groups = _names(ctx, assignment.candidate_groups, scope)
    due = None
    if node.due:
        value = _value(ctx, node.due, scope, "due date")
        try:
            due = timers.resolve_due(value, ctx.now)
        except timers.TimerError as exc:
            raise Fault(f"due date of {node.label}: {exc}") from None
    return assignee, candidate_users, candidate_groups, due


def _work_item(
    ctx: Ctx, task_id: str, info: NodeInfo, assignment: Assignment, variables: dict[str, Any]
) -> CreateUserTask:
    options: _TaskOptions = info.prepared
    form = scopes.clone(options.form) if options.form is not None else None
    assignee, users, groups, due = assignment
    name = info.node.name
    fields = (
        task_id,
        ctx.execution_id,
        info.id,
        name,
        assignee,
        users,
        groups,
        form,
        due,
        options.priority,
        variables,
    )
    return new_record(CreateUserTask, fields)  # type: ignore[no-any-return]  # its fields, in order


class _TaskOptions(NamedTuple):
    """What a user task's work item takes from its definition, worked out once per node."""

    evaluated: bool  # an assignee, candidates or a due date to evaluate when the task opens
    priority: int | None
    form: dict[str, Any] | None


def _is_expression(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(("${", "#{", "="))


def _value(ctx: Ctx, text: str, scope: str, what: str) -> Any:
    if _is_expression(text):
        return scopes.evaluate(ctx, Expression(text), scope, what)
    return text


def _text(ctx: Ctx, text: str | None, scope: str, what: str) -> str | None:
    if not text:
        return None
    value = _value(ctx, text, scope, what)
    return None if value is None else str(value)


def _names(ctx: Ctx, entries: tuple[str, ...], scope: str) -> tuple[str, ...]:
    names: list[str] = []
    for entry in entries:
        value = _value(ctx, entry, scope, "candidates")
        if isinstance(value, str):
            names.extend(part.strip() for part in value.split(",") if part.strip())
        elif isinstance(value, list | tuple):
            names.extend(str(v) for v in value)
        elif value is not None:
            names.append(str(value))
    return tuple(names)


class ReceiveBehaviour(ActivityBehaviour):
    """Waits for its message, like a message catch event."""

    def run(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        node = info.node
        assert isinstance(node, ReceiveTask)
        definition = MessageDefinition(message_ref=node.message_ref, correlation_key=node.correlation_key)
        wait = triggers.subscribe(
            ctx, definition, info.id, reading_scope(ctx, inst_id), role="self", instance=inst_id
        )
        ctx.record("instances", inst_id)["wait"] = wait


class SendBehaviour(ActivityBehaviour):
    """Without a component, throws its message (its inputs, else every variable) and goes on."""

    def run(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        node = info.node
        assert isinstance(node, SendTask)
        ctx.emit(
            ThrowMessage(
                element_id=info.id,
                message_name=triggers.message_name(ctx, node.message_ref, info.id),
                variables=inputs_or_all(ctx, inst_id, info),
            )
        )
        tokens.complete(ctx, inst_id)


register(Task, TaskBehaviour())
register(ScriptTask, ScriptBehaviour())
register(UserTask, UserTaskBehaviour())
register(ManualTask, UserTaskBehaviour())
register(ReceiveTask, ReceiveBehaviour())
