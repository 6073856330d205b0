"""Activities: what each kind needs to do something (a component, a script, a decision, a called
process), its form, loops, retries and deadlines."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from functools import lru_cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from apg_workflow.model._frozen import FrozenDict, freeze, thaw
from apg_workflow.model.activities import (
    Activity,
    BusinessRuleTask,
    CallActivity,
    ScriptTask,
    SendTask,
    ServiceTask,
    UserTask,
)
from apg_workflow.model.errors import Problem
from apg_workflow.model.specs import MultiInstance, StandardLoop
from apg_workflow.model.validation.context import Context, Scope, describe
from apg_workflow.model.validation.rules import RuleSet
from apg_workflow.model.validation.timing import date_problem, duration_problem, is_dynamic

_LISTED_COMPONENTS = 20


def implementation(context: Context, scope: Scope, task: ServiceTask | SendTask) -> Iterator[Problem]:
    if task.component is not None:
        return
    if isinstance(task, ServiceTask) and task.implementation:
        return
    if isinstance(task, SendTask) and task.message_ref:
        return
    needs = (
        "a component or an implementation" if isinstance(task, ServiceTask) else "a component or a message"
    )
    yield scope.warning(
        "no-implementation", f"{describe(task)} has neither {needs}: it does nothing when it runs", task
    )


def component_type(
    context: Context, scope: Scope, task: ServiceTask | SendTask | BusinessRuleTask
) -> Iterator[Problem]:
    known = context.known_components
    if task.component is None or known is None or task.component.type in known:
        return
    installed = sorted(known)
    close = difflib.get_close_matches(task.component.type, installed, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listed = ", ".join(installed[:_LISTED_COMPONENTS]) or "none"
    if len(installed) > _LISTED_COMPONENTS:
        listed += f", … ({len(installed) - _LISTED_COMPONENTS} more)"
    yield scope.warning(
        "unknown-component",
        f"{describe(task)} uses the unknown component type '{task.component.type}'{hint} "
        f"(installed: {listed})",
        task,
    )


def script(context: Context, scope: Scope, task: ScriptTask) -> Iterator[Problem]:
    if task.script is None or not task.script.text.strip():
        yield scope.error("missing-script", f"{describe(task)} has no script: write the code it runs", task)


def called_element(context: Context, scope: Scope, call: CallActivity) -> Iterator[Problem]:
    if not (call.called_element and call.called_element.strip()):
        yield scope.error(
            "missing-called-element", f"{describe(call)} does not say which process it calls", call
        )


def decision(context: Context, scope: Scope, task: BusinessRuleTask) -> Iterator[Problem]:
    if not task.decision_ref and task.component is None:
        yield scope.error(
            "missing-decision",
            f"{describe(task)} has neither a decision (DMN decision id) nor a component to run",
            task,
        )


def user_task(context: Context, scope: Scope, task: UserTask) -> Iterator[Problem]:
    if task.form is not None and task.form.schema is not None:
        problem = form_schema_problem(task.form.schema)
        if problem:
            yield scope.error("invalid-form-schema", f"the form schema of {describe(task)} {problem}", task)
    due = task.due
    if due is not None and not is_dynamic(due) and duration_problem(due) and date_problem(due):
        yield scope.error(
            "invalid-due",
            f"the due date of {describe(task)}, '{due}', is neither an ISO 8601 duration from the task's "
            "creation (such as 'P2D') nor a date-time (such as '2025-03-01T17:00:00Z')",
            task,
        )


def form_schema_problem(schema: object) -> str | None:
    """What keeps ``schema`` from being a JSON Schema (2020-12) of an object, or ``None``."""
    if not isinstance(schema, Mapping):
        return "is not a JSON Schema object"
    return _object_schema_problem(freeze(schema))


@lru_cache(maxsize=256)
def _object_schema_problem(schema: FrozenDict) -> str | None:
    plain = thaw(schema)
    try:
        Draft202012Validator.check_schema(plain)
    except SchemaError as exc:
        return f"is not a valid JSON Schema: {exc.message} (at {exc.json_path})"
    kind = plain.get("type", "object")
    if kind != "object":
        return f"describes a {kind}, not an object: a form schema lists the form's fields as properties"
    return None


def loop(context: Context, scope: Scope, activity: Activity) -> Iterator[Problem]:
    spec = activity.loop
    if isinstance(spec, MultiInstance) and spec.cardinality is None and spec.input_collection is None:
        yield scope.error(
            "multi-instance-no-input",
            f"{describe(activity)} is multi-instance but has neither a cardinality (how many instances) "
            "nor an input collection (one instance per item)",
            activity,
        )
    if isinstance(spec, StandardLoop) and spec.condition is None and spec.maximum is None:
        yield scope.warning(
            "endless-loop",
            f"{describe(activity)} loops with neither a loop condition nor a maximum: it never stops",
            activity,
        )


def retry(context: Context, scope: Scope, activity: Activity) -> Iterator[Problem]:
    policy = activity.retry
    if policy is None:
        return
    faults = []
    if policy.max_attempts < 1:
        faults.append(
            f"max_attempts is {policy.max_attempts}, but it counts the first try too, so at least 1"
        )
    if policy.multiplier < 1:
        faults.append(f"multiplier is {policy.multiplier:g}, but backoffs never shrink, so at least 1")
    for name, value in (("initial_backoff", policy.initial_backoff), ("max_backoff", policy.max_backoff)):
        problem = duration_problem(value)
        if problem:
            faults.append(f"{name} {problem}")
    if faults:
        yield scope.error(
            "invalid-retry", f"the retry policy of {describe(activity)}: {'; '.join(faults)}", activity
        )


def sla(context: Context, scope: Scope, activity: Activity) -> Iterator[Problem]:
    if activity.sla is None or is_dynamic(activity.sla):
        return
    problem = duration_problem(activity.sla)
    if problem:
        yield scope.error("invalid-sla", f"the SLA of {describe(activity)}: {problem}", activity)


RULES = RuleSet(
    node=(
        ((ServiceTask, SendTask), implementation),
        ((ServiceTask, SendTask, BusinessRuleTask), component_type),
        (ScriptTask, script),
        (CallActivity, called_element),
        (BusinessRuleTask, decision),
        (UserTask, user_task),
        (Activity, loop),
        (Activity, retry),
        (Activity, sla),
    ),
)
