"""Extension data carried by elements: components, mappings, retries, user-task assignment, forms,
loops and multi-instance. Readers of every format fill these; the engine and runtime read them."""

from __future__ import annotations

from dataclasses import dataclass

from apg_workflow.model._frozen import EMPTY, FrozenDict
from apg_workflow.model.base import NOTHING_PRESERVED, Expression, Preserved


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentRef:
    """The component behind a service (or send / business-rule) task: ``http.request`` + config."""

    type: str
    config: FrozenDict = EMPTY


@dataclass(frozen=True, slots=True)
class DataMapping:
    """``target`` ← value of ``source``.

    On inputs the source is evaluated in the enclosing scope and the target is a local variable of
    the element; on outputs the source is evaluated in the element's scope and the target written
    to the enclosing scope.
    """

    target: str
    source: Expression


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how fast a failed job is tried again. Durations are ISO 8601."""

    max_attempts: int = 3
    initial_backoff: str = "PT1S"
    multiplier: float = 2.0
    max_backoff: str = "PT5M"
    jitter: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Form:
    """A user-task form: a key pointing at a stored form, or an inline JSON Schema, or both."""

    key: str | None = None
    schema: FrozenDict | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    """Who may work on a user task. Values may be literal names or expressions (``${initiator}``)."""

    assignee: str | None = None
    candidate_users: tuple[str, ...] = ()
    candidate_groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StandardLoop:
    """``standardLoopCharacteristics``: repeat while ``condition`` holds."""

    condition: Expression | None = None
    test_before: bool = False
    maximum: int | None = None
    preserved: Preserved = NOTHING_PRESERVED  # foreign XML of the loop element (BPMN id, vendor data)


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiInstance:
    """``multiInstanceLoopCharacteristics``: one instance per item of a collection, or ``cardinality`` times.

    ``input_collection`` names (or computes) the collection; ``input_element`` is the instance-local
    variable each item lands in; ``output_element`` is what each instance contributes to
    ``output_collection``.
    """

    sequential: bool = False
    cardinality: Expression | None = None
    input_collection: Expression | None = None
    input_element: str | None = None
    output_collection: str | None = None
    output_element: Expression | None = None
    completion_condition: Expression | None = None
    preserved: Preserved = NOTHING_PRESERVED  # foreign XML of the loop element (BPMN id, vendor data)


LoopCharacteristics = StandardLoop | MultiInstance


@dataclass(frozen=True, slots=True)
class Script:
    """Script text and its language (``python`` when unspecified)."""

    text: str
    format: str | None = None
