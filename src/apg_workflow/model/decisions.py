"""DMN decisions: the content of a ``.dmn`` file, read once and shared by every evaluation.

A :class:`DecisionDefinitions` holds :class:`Decision` objects; a decision is either a
:class:`DecisionTable` or a literal expression, and may require other decisions (the decision
requirement graph). Entry texts stay as written (:class:`Expression` with the declared language,
``None`` when the file declares none): ``apg_workflow.engine.decisions`` interprets them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from apg_workflow.model.base import Expression
from apg_workflow.model.errors import ElementNotFound


class HitPolicy(StrEnum):
    """How a decision table combines the rules that match. Values are the DMN XML spellings."""

    UNIQUE = "UNIQUE"
    FIRST = "FIRST"
    PRIORITY = "PRIORITY"
    ANY = "ANY"
    COLLECT = "COLLECT"
    RULE_ORDER = "RULE ORDER"
    OUTPUT_ORDER = "OUTPUT ORDER"

    @property
    def single_hit(self) -> bool:
        """Whether the table answers with one rule's outputs (else a list, or an aggregate)."""
        return self in _SINGLE_HIT


_SINGLE_HIT = frozenset({HitPolicy.UNIQUE, HitPolicy.FIRST, HitPolicy.PRIORITY, HitPolicy.ANY})


class Aggregation(StrEnum):
    """The aggregation a ``COLLECT`` table applies to the outputs of its matching rules."""

    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


@dataclass(frozen=True, slots=True, kw_only=True)
class InputClause:
    """A column of conditions: the value ``expression`` computes is tested by each rule's entry.

    ``input_values`` is the optional list of allowed values (unary tests text); ``input_variable``
    the name under which entries may refer to the value (Camunda's ``camunda:inputVariable``).
    """

    id: str | None = None
    label: str | None = None
    expression: Expression
    type_ref: str | None = None
    input_values: Expression | None = None
    input_variable: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputClause:
    """A column of results. ``output_values`` (a list of literals) orders PRIORITY and OUTPUT ORDER
    hits, first value first; ``default_output`` is the value when no rule matches."""

    id: str | None = None
    label: str | None = None
    name: str | None = None
    type_ref: str | None = None
    output_values: Expression | None = None
    default_output: Expression | None = None

    @property
    def key(self) -> str:
        """The name a result is known by: the name, else the label, else the id."""
        return self.name or self.label or self.id or "output"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A row: one input entry (unary tests) per input clause, one output entry per output clause.

    ``annotations`` are the row's description and annotation cells, for people and history.
    """

    id: str | None = None
    input_entries: tuple[Expression, ...] = ()
    output_entries: tuple[Expression, ...] = ()
    annotations: tuple[str, ...] = ()
    line: int | None = None

    @property
    def label(self) -> str:
        return f"'{self.id}'" if self.id else f"at line {self.line}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionTable:
    id: str | None = None
    hit_policy: HitPolicy = HitPolicy.UNIQUE
    aggregation: Aggregation | None = None
    inputs: tuple[InputClause, ...] = ()
    outputs: tuple[OutputClause, ...] = ()
    rules: tuple[Rule, ...] = ()
    output_label: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """A decision: a ``table`` or a ``literal_expression``, evaluated after the decisions it
    requires (``required_decisions``, resolved by the reader, which refuses cycles); their results
    are available to its expressions by name and by id."""

    id: str
    name: str | None = None
    table: DecisionTable | None = None
    literal_expression: Expression | None = None
    variable_name: str | None = None
    required_decisions: tuple[Decision, ...] = ()
    documentation: str | None = None

    @property
    def label(self) -> str:
        return f"'{self.name}' ({self.id})" if self.name else f"'{self.id}'"


@dataclass(frozen=True, kw_only=True)
class DecisionDefinitions:
    """The decisions of one DMN file, with lookup by id or name."""

    id: str | None = None
    name: str | None = None
    namespace: str | None = None
    dmn_version: str | None = None
    decisions: tuple[Decision, ...] = ()

    @cached_property
    def _index(self) -> dict[str, Decision]:
        index: dict[str, Decision] = {}
        for decision in self.decisions:
            index.setdefault(decision.id, decision)
        for decision in self.decisions:
            if decision.name:
                index.setdefault(decision.name, decision)
        return index

    def find(self, ref: str) -> Decision | None:
        """The decision whose id (or, failing that, name) is ``ref``."""
        return self._index.get(ref)

    def get(self, ref: str) -> Decision:
        """Like :meth:`find`, raising :class:`ElementNotFound` when there is no such decision."""
        decision = self._index.get(ref)
        if decision is None:
            raise ElementNotFound(ref)
        return decision

    def __iter__(self) -> Iterator[Decision]:
        return iter(self.decisions)
