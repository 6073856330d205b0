"""Check a definition before it runs, reporting every problem at once.

Each problem is a :class:`~apg_workflow.model.errors.Problem` with a severity, a stable ``code``
(listed in ``docs/validation.md``), the element and process it concerns, and a message that names
the element. Rules come in families, one module each (structure, gateways, events, activities,
references, syntax, support), added up in :data:`RULES`.

The model layer may not import the expression languages or the component registry, so the caller
passes them in: ``check_expression(expression, kind) -> message | None`` (kind ``condition``,
``expression`` or ``script``) and ``known_components``. Without them, expressions are not parsed
and component types are not checked.

The CLI wires them like this::

    from apg_workflow.expressions import syntax_error

    def check_expression(expression, kind):
        return syntax_error(expression.text, expression.language, kind=kind)

    problems = validate(definitions, check_expression=check_expression, known_components=registry.names())

Problems about an element whose position the reader recorded (``Definitions.positions``) carry
its line and column.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from apg_workflow.model.definitions import Definitions
from apg_workflow.model.errors import Problem
from apg_workflow.model.validation import activities, events, gateways, references, structure, support, syntax
from apg_workflow.model.validation.context import Context, ExpressionChecker, Scope, describe
from apg_workflow.model.validation.report import ValidationReport
from apg_workflow.model.validation.rules import RuleSet

RULES: RuleSet = (
    structure.RULES
    + events.RULES
    + gateways.RULES
    + activities.RULES
    + references.RULES
    + syntax.RULES
    + support.RULES
)


def validate(
    definitions: Definitions,
    *,
    check_expression: ExpressionChecker | None = None,
    known_components: Collection[str] | None = None,
    rules: RuleSet = RULES,
) -> tuple[Problem, ...]:
    """Every problem of ``definitions``: errors (it cannot run as written), warnings (it runs, but
    probably not as meant, or partly not at all) and infos."""
    context = Context(
        definitions,
        check_expression=check_expression,
        known_components=frozenset(known_components) if known_components is not None else None,
    )
    return tuple(_located(problem, definitions) for problem in rules.run(context))


def _located(problem: Problem, definitions: Definitions) -> Problem:
    position = definitions.position_of(problem.element_id) if problem.line is None else None
    return replace(problem, line=position[0], column=position[1]) if position else problem


__all__ = [
    "RULES",
    "Context",
    "ExpressionChecker",
    "RuleSet",
    "Scope",
    "ValidationReport",
    "describe",
    "validate",
]
