"""What the engine does not execute. Each gets a warning naming the element, so that nothing is
skipped in silence at run time; none is an error, because the rest of the process still runs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from apg_workflow.model.activities import Activity, AdHocSubProcess, Transaction
from apg_workflow.model.base import Element
from apg_workflow.model.errors import Problem
from apg_workflow.model.events import CancelDefinition, CompensateDefinition, Event
from apg_workflow.model.nodes import ComplexGateway, FlowNode, UnsupportedNode
from apg_workflow.model.validation.context import Context, Scope, describe
from apg_workflow.model.validation.rules import RuleSet
from apg_workflow.model.validation.syntax import expressions_of

# Declared expression languages are matched on these words, case-insensitively (as
# apg_workflow.expressions.dialect_of does; tests/unit/test_expression_syntax.py keeps them in step).
EXECUTED_LANGUAGE_WORDS = ("python", "juel", "feel")
_TAG = re.compile(r"^\s*<(?:[\w.-]+:)?(?P<local>[\w.-]+)")
_DATA_ASSOCIATIONS = frozenset({"dataInputAssociation", "dataOutputAssociation"})


def _unknown_element(node: UnsupportedNode) -> Iterator[str]:
    yield f"the engine does not know <{node.tag.rpartition('}')[2]}> elements"


def _complex_gateway(node: ComplexGateway) -> Iterator[str]:
    yield "complex gateways are not supported; use an inclusive or an exclusive gateway"


def _transaction(node: Transaction) -> Iterator[str]:
    yield "transactions (cancel and compensation of their content) are not supported"


def _ad_hoc(node: AdHocSubProcess) -> Iterator[str]:
    yield "ad-hoc sub-processes are not supported"


def _compensation_handler(node: Activity) -> Iterator[str]:
    if node.is_for_compensation:
        yield "compensation is not supported, so this compensation handler never runs"


def _event(event: Event) -> Iterator[str]:
    if event.parallel_multiple:
        yield "parallel multiple events (waiting for all their triggers) are not supported"
    elif len(event.definitions) > 1:
        yield "events with several triggers (multiple events) are not supported"
    if any(isinstance(d, CompensateDefinition) for d in event.definitions):
        yield "compensation is not supported"
    if any(isinstance(d, CancelDefinition) for d in event.definitions):
        yield "cancel events (of transactions) are not supported"


_REASONS: tuple[tuple[type[FlowNode], Callable[[Any], Iterator[str]]], ...] = (
    (UnsupportedNode, _unknown_element),
    (ComplexGateway, _complex_gateway),
    (Transaction, _transaction),
    (AdHocSubProcess, _ad_hoc),
    (Activity, _compensation_handler),
    (Event, _event),
)


def not_executed(context: Context, scope: Scope, node: FlowNode) -> Iterator[Problem]:
    reasons = [reason for cls, explain in _REASONS if isinstance(node, cls) for reason in explain(node)]
    if reasons:
        yield scope.warning(
            "not-executed", f"{describe(node)} is not executed by the engine: {'; '.join(reasons)}", node
        )
    tags = {_tag(child) for child in node.preserved.children}
    if tags & _DATA_ASSOCIATIONS:
        yield scope.warning(
            "not-executed",
            f"the data associations of {describe(node)} are not executed by the engine: map data with "
            "input and output mappings instead",
            node,
        )


def is_executed_language(language: str | None) -> bool:
    """Whether the engine runs expressions declared in ``language`` (``None``: the default, Python)."""
    if language is None or not language.strip():
        return True
    declared = language.lower()
    return any(word in declared for word in EXECUTED_LANGUAGE_WORDS)


def languages(context: Context, scope: Scope, element: Element) -> Iterator[Problem]:
    for site in expressions_of(element):
        language = site.expression.language
        if not is_executed_language(language):
            yield scope.warning(
                "unsupported-language",
                f"{site.what} is written in {language}, which the engine does not run: write it in Python "
                "(or JUEL `${…}`, FEEL `=…`)",
                site.element,
            )


def _tag(xml: str) -> str | None:
    match = _TAG.match(xml)
    return match.group("local") if match else None


RULES = RuleSet(node=((FlowNode, not_executed), (FlowNode, languages)), flow=(languages,))
