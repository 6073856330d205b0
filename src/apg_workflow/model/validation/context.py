"""What every rule sees: the definitions, one scope (a process or a sub-process) at a time, and the
words a process designer reads in a message."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from apg_workflow.model.activities import AdHocSubProcess, SubProcess
from apg_workflow.model.base import BaseElement, Element, ElementKind, Expression
from apg_workflow.model.container import FlowContainer
from apg_workflow.model.definitions import Definitions, Process
from apg_workflow.model.errors import Problem, Severity
from apg_workflow.model.events import Event
from apg_workflow.model.nodes import FlowNode, UnsupportedNode

ExpressionChecker = Callable[[Expression, str], str | None]
"""``(expression, kind) -> message | None`` with kind ``condition``, ``expression`` or ``script``."""

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_KIND_NAMES = {
    ElementKind.SUB_PROCESS: "sub-process",
    ElementKind.AD_HOC_SUB_PROCESS: "ad-hoc sub-process",
    ElementKind.SEQUENCE_FLOW: "flow",
}


def kind_name(element: Element) -> str:
    """``user task``, ``timer boundary event``, ``event sub-process``, ``flow``, …"""
    if isinstance(element, UnsupportedNode):
        return f"<{element.tag.rpartition('}')[2]}> element"
    if (
        isinstance(element, SubProcess)
        and element.triggered_by_event
        and element.kind is ElementKind.SUB_PROCESS
    ):
        return "event sub-process"
    words = _KIND_NAMES.get(element.kind) or _CAMEL.sub(" ", element.kind.value).lower()
    if isinstance(element, Event) and element.trigger != "none":
        return f"{element.trigger} {words}"
    return words


def describe(element: Element) -> str:
    """``user task 'Approve' (Task_1)``: the kind, the name and the id."""
    return f"{kind_name(element)} {element.label}"


def named(kind: str, name: str | None, element_id: str | None) -> str:
    """``process 'Onboarding' (P_1)`` for things that are not flow elements (processes, messages, …)."""
    return f"{kind} '{name}' ({element_id})" if name else f"{kind} '{element_id}'"


def quoted(ids: Collection[str]) -> str:
    return ", ".join(f"'{item}'" for item in ids)


@dataclass(frozen=True, slots=True)
class Scope:
    """One container of flow nodes: a process, or a sub-process inside it. Sequence flows never
    cross from one scope into another, so most rules look at one scope at a time."""

    container: FlowContainer
    process: Process
    owner: SubProcess | None = None

    @property
    def is_event_sub_process(self) -> bool:
        return self.owner is not None and self.owner.triggered_by_event

    @property
    def is_ad_hoc(self) -> bool:
        return isinstance(self.owner, AdHocSubProcess)

    @property
    def label(self) -> str:
        if self.owner is not None:
            return describe(self.owner)
        return named("process", self.process.name, self.process.id)

    @property
    def element_id(self) -> str:
        return self.owner.id if self.owner is not None else self.process.id

    def problem(
        self, severity: Severity, code: str, message: str, element: Element | str | None = None
    ) -> Problem:
        """A problem in this scope, about ``element`` (an element or an id; default the scope itself)."""
        element_id = element.id if isinstance(element, Element) else element
        return Problem(
            severity=severity,
            code=code,
            message=message,
            element_id=element_id if element_id is not None else self.element_id,
            process_id=self.process.id,
        )

    def error(self, code: str, message: str, element: Element | str | None = None) -> Problem:
        return self.problem(Severity.ERROR, code, message, element)

    def warning(self, code: str, message: str, element: Element | str | None = None) -> Problem:
        return self.problem(Severity.WARNING, code, message, element)

    def info(self, code: str, message: str, element: Element | str | None = None) -> Problem:
        return self.problem(Severity.INFO, code, message, element)


def scopes_of(process: Process) -> Iterator[Scope]:
    """The process and every sub-process in it, outermost first, in document order."""
    pending: list[Scope] = [Scope(process, process)]
    while pending:
        scope = pending.pop()
        yield scope
        nested = [
            Scope(node, process, node) for node in scope.container.nodes if isinstance(node, SubProcess)
        ]
        pending.extend(reversed(nested))


@dataclass(frozen=True)
class Context:
    """The whole definition file and the services the caller injected."""

    definitions: Definitions
    check_expression: ExpressionChecker | None = None
    known_components: frozenset[str] | None = None
    scopes: tuple[Scope, ...] = field(init=False)

    def __post_init__(self) -> None:
        scopes = tuple(scope for process in self.definitions.processes for scope in scopes_of(process))
        object.__setattr__(self, "scopes", scopes)

    @cached_property
    def homes(self) -> dict[str, tuple[Scope, FlowNode]]:
        """Every flow node by id, with the scope that holds it (the first one for a duplicate id)."""
        found: dict[str, tuple[Scope, FlowNode]] = {}
        for scope in self.scopes:
            for node in scope.container.nodes:
                found.setdefault(node.id, (scope, node))
        return found

    @cached_property
    def defined(self) -> dict[str, frozenset[str]]:
        """The ids of the definition-level items events refer to, by kind."""
        groups: dict[str, tuple[BaseElement, ...]] = {
            "message": self.definitions.messages,
            "signal": self.definitions.signals,
            "error": self.definitions.errors,
            "escalation": self.definitions.escalations,
        }
        return {kind: frozenset(item.id for item in items if item.id) for kind, items in groups.items()}

    @cached_property
    def process_ids(self) -> frozenset[str]:
        return frozenset(process.id for process in self.definitions.processes)

    def problem(
        self,
        severity: Severity,
        code: str,
        message: str,
        *,
        element_id: str | None = None,
        process_id: str | None = None,
    ) -> Problem:
        """A problem about the file as a whole (not inside one scope)."""
        return Problem(
            severity=severity, code=code, message=message, element_id=element_id, process_id=process_id
        )
