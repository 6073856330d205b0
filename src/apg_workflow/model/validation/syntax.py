"""Every expression and script an element holds, and the check of their syntax.

The model does not parse expressions: the caller passes ``check_expression`` (the CLI passes
``apg_workflow.expressions``), so this layer stays free of the expression languages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from apg_workflow.model.activities import Activity, AdHocSubProcess, ReceiveTask, ScriptTask
from apg_workflow.model.base import Element, Expression
from apg_workflow.model.errors import Problem
from apg_workflow.model.events import ConditionalDefinition, Event, MessageDefinition, TimerDefinition
from apg_workflow.model.nodes import ComplexGateway, FlowNode, SequenceFlow
from apg_workflow.model.specs import MultiInstance, StandardLoop
from apg_workflow.model.validation.context import Context, Scope, describe
from apg_workflow.model.validation.rules import RuleSet
from apg_workflow.model.validation.timing import is_dynamic

_CODES = {"condition": "condition-syntax", "expression": "expression-syntax", "script": "script-syntax"}

# (expression or None, kind, what it is, as in "the input mapping 'total'")
_Found = Iterator[tuple[Expression | None, str, str]]


@dataclass(frozen=True, slots=True)
class Site:
    """One expression of an element: what it is, and how it is parsed (its ``kind``)."""

    expression: Expression
    kind: str  # condition, expression or script
    what: str  # "the condition of flow 'Flow_3'"
    element: Element


def _flow(flow: SequenceFlow) -> _Found:
    yield flow.condition, "condition", "the condition"


def _mappings(node: FlowNode) -> _Found:
    for direction, mappings in (("input", node.inputs), ("output", node.outputs)):
        for mapping in mappings:
            yield mapping.source, "expression", f"the {direction} mapping '{mapping.target}'"


def _script(task: ScriptTask) -> _Found:
    if task.script is not None and task.script.text.strip():  # a missing script is reported apart
        yield Expression(task.script.text, task.script.format), "script", "the script"


def _loop(activity: Activity) -> _Found:
    spec = activity.loop
    if isinstance(spec, StandardLoop):
        yield spec.condition, "condition", "the loop condition"
    elif isinstance(spec, MultiInstance):
        yield spec.cardinality, "expression", "the multi-instance cardinality"
        yield spec.input_collection, "expression", "the multi-instance input collection"
        yield spec.output_element, "expression", "the multi-instance output element"
        yield spec.completion_condition, "condition", "the multi-instance completion condition"


def _event(event: Event) -> _Found:
    for definition in event.definitions:
        if isinstance(definition, ConditionalDefinition):
            yield definition.condition, "condition", "the condition"
        elif isinstance(definition, MessageDefinition):
            yield definition.correlation_key, "expression", "the correlation key"
        elif isinstance(definition, TimerDefinition) and is_dynamic(definition.expression.text):
            yield definition.expression, "expression", f"the timer {definition.timer.value}"


def _receive(task: ReceiveTask) -> _Found:
    yield task.correlation_key, "expression", "the correlation key"


def _ad_hoc(sub_process: AdHocSubProcess) -> _Found:
    yield sub_process.completion_condition, "condition", "the completion condition"


def _complex(gateway: ComplexGateway) -> _Found:
    yield gateway.activation_condition, "condition", "the activation condition"


_SOURCES: tuple[tuple[type[Element], Callable[[Any], _Found]], ...] = (
    (SequenceFlow, _flow),
    (FlowNode, _mappings),
    (ScriptTask, _script),
    (Activity, _loop),
    (Event, _event),
    (ReceiveTask, _receive),
    (AdHocSubProcess, _ad_hoc),
    (ComplexGateway, _complex),
)


def expressions_of(element: Element) -> Iterator[Site]:
    """Every expression and script of a flow node or sequence flow, in a stable order."""
    for cls, source in _SOURCES:
        if isinstance(element, cls):
            for expression, kind, what in source(element):
                if expression is not None:
                    yield Site(expression, kind, f"{what} of {describe(element)}", element)


def check_syntax(context: Context, scope: Scope, element: Element) -> Iterator[Problem]:
    check = context.check_expression
    if check is None:
        return
    for site in expressions_of(element):
        message = check(site.expression, site.kind)
        if message:
            yield scope.error(_CODES[site.kind], f"{site.what}: {message}", site.element)


RULES = RuleSet(node=((FlowNode, check_syntax),), flow=(check_syntax,))
