"""The syntax tree of a DSL source: what was written, where, before any meaning is given to it.

The transformer builds these from the lark parse tree; the builder turns them into the model. The
writer builds values (:data:`Value`) too and prints them, so both directions share one notation.
"""

from __future__ import annotations

from dataclasses import dataclass

from apg_workflow.model import Expression, TimerKind


@dataclass(frozen=True, slots=True)
class Pos:
    """A 1-based line and column in the source."""

    line: int
    column: int


class SourceError(Exception):
    """Something wrong at a place in the source; :func:`read_dsl` turns it into a FormatError."""

    def __init__(self, message: str, pos: Pos | None, element_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.element_id = element_id


# ---------------------------------------------------------------------------------------------
# Values: the right-hand side of ``key: value``


@dataclass(frozen=True, slots=True)
class Scalar:
    """A string, number, ``true`` / ``false`` / ``null``, or a bare word (``bare``)."""

    value: str | int | float | bool | None
    pos: Pos | None = None
    bare: bool = False


@dataclass(frozen=True, slots=True)
class Tagged:
    """A string with a tag in front: an expression in a language (``feel "= x > 1"``)."""

    tag: str
    text: str
    pos: Pos | None = None


@dataclass(frozen=True, slots=True)
class ListValue:
    items: tuple[Value, ...]
    pos: Pos | None = None


@dataclass(frozen=True, slots=True)
class MappingValue:
    """``{key: value, ...}`` or an indented block of ``key: value`` lines, in the order written."""

    entries: tuple[Entry, ...]
    pos: Pos | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``key: value``: a property of a statement or an entry of a mapping."""

    key: str
    value: Value
    pos: Pos | None = None


Value = Scalar | Tagged | ListValue | MappingValue


# ---------------------------------------------------------------------------------------------
# Pieces of statements


@dataclass(frozen=True, slots=True)
class Ref:
    """An id (``review``, `` `odd id` ``), or with ``quoted`` a "string" naming a declaration."""

    text: str
    pos: Pos
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Expr:
    expression: Expression
    pos: Pos


@dataclass(frozen=True, slots=True)
class Trigger:
    """One event definition as written: ``TIMER "2h"``, ``MESSAGE paid CORRELATION "id"``, …"""

    kind: str
    pos: Pos
    ref: Ref | None = None
    expr: Expr | None = None
    timer: TimerKind | None = None
    no_wait: bool = False


# ---------------------------------------------------------------------------------------------
# Statements


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """A keyword line and its indented block (``body``: nested statements and properties)."""

    keyword: str
    pos: Pos
    body: tuple[Statement | Entry, ...] = ()

    @property
    def properties(self) -> tuple[Entry, ...]:
        return tuple(item for item in self.body if isinstance(item, Entry))

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(item for item in self.body if isinstance(item, Statement))


@dataclass(frozen=True, slots=True, kw_only=True)
class ElementStatement(Statement):
    """``KEYWORD [id] ["name"] [triggers] [key: value ...] [-> target] [:]``."""

    ident: Ref | None = None
    name: str | None = None
    triggers: tuple[Trigger, ...] = ()
    all_triggers: bool = False  # triggers joined with AND (parallel multiple) rather than OR
    inline: tuple[Entry, ...] = ()
    goto: Ref | None = None

    @property
    def all_properties(self) -> tuple[Entry, ...]:
        return self.inline + self.properties


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowStatement(Statement):
    """``FLOW [id] ["name"]: source -> target [WHEN condition] [DEFAULT]``."""

    ident: Ref | None = None
    name: str | None = None
    source: Ref
    target: Ref
    condition: Expr | None = None
    default: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchStatement(Statement):
    """``WHEN condition ["label"]``, ``BRANCH [condition]`` or ``OTHERWISE ["label"]``, then
    ``-> target`` or an indented block of steps."""

    condition: Expr | None = None
    label: str | None = None
    goto: Ref | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopStatement(Statement):
    """``LOOP [id] ["name"] WHILE condition:`` and its steps."""

    ident: Ref | None = None
    name: str | None = None
    condition: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class ForEachStatement(Statement):
    """``FOR EACH item IN collection [SEQUENTIAL | PARALLEL]:`` and its steps."""

    variable: Ref
    collection: Expr
    sequential: bool = False
