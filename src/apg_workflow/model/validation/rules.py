"""The rule table: which checks run on the file, on each scope, on each node (by class) and on each
flow. Every rule module exports one :class:`RuleSet`; the package adds them up."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from apg_workflow.model.errors import Problem
from apg_workflow.model.nodes import FlowNode, SequenceFlow
from apg_workflow.model.validation.context import Context, Scope

DefinitionRule = Callable[[Context], Iterable[Problem]]
ScopeRule = Callable[[Context, Scope], Iterable[Problem]]
# A node rule is declared for a class and receives instances of it (hence ``Any`` for the node).
NodeRule = Callable[[Context, Scope, Any], Iterable[Problem]]
FlowRule = Callable[[Context, Scope, SequenceFlow], Iterable[Problem]]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Rules by what they look at. ``node`` pairs a flow-node class with a rule that runs on every
    instance of that class (subclasses included)."""

    definition: tuple[DefinitionRule, ...] = ()
    scope: tuple[ScopeRule, ...] = ()
    node: tuple[tuple[type[FlowNode] | tuple[type[FlowNode], ...], NodeRule], ...] = ()
    flow: tuple[FlowRule, ...] = ()

    def __add__(self, other: RuleSet) -> RuleSet:
        return RuleSet(
            definition=self.definition + other.definition,
            scope=self.scope + other.scope,
            node=self.node + other.node,
            flow=self.flow + other.flow,
        )

    def run(self, context: Context) -> Iterator[Problem]:
        """Every problem, in a stable order: file-wide rules, then scope by scope in document order
        (the scope's own rules, its nodes, its flows)."""
        for definition_rule in self.definition:
            yield from definition_rule(context)
        by_class: dict[type[FlowNode], tuple[NodeRule, ...]] = {}
        for scope in context.scopes:
            for scope_rule in self.scope:
                yield from scope_rule(context, scope)
            for node in scope.container.nodes:
                rules = by_class.get(type(node))
                if rules is None:
                    rules = by_class[type(node)] = self._node_rules(type(node))
                for node_rule in rules:
                    yield from node_rule(context, scope, node)
            for flow in scope.container.flows:
                for flow_rule in self.flow:
                    yield from flow_rule(context, scope, flow)

    def _node_rules(self, cls: type[FlowNode]) -> tuple[NodeRule, ...]:
        return tuple(rule for declared, rule in self.node if issubclass(cls, declared))
