"""The top of a definition file: processes, collaborations, the messages / signals / errors /
escalations they refer to, and the diagrams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

from apg_workflow.model._frozen import EMPTY, FrozenDict
from apg_workflow.model.base import BaseElement, Element, Expression
from apg_workflow.model.container import FlowContainer
from apg_workflow.model.diagram import Diagram
from apg_workflow.model.errors import ElementNotFound, ModelError


@dataclass(frozen=True, kw_only=True)
class Process(BaseElement, FlowContainer):
    """A process: the unit a workflow runs. Its ``id`` is the workflow key."""

    id: str
    name: str | None = None
    is_executable: bool = True
    version_tag: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Message(BaseElement):
    id: str
    name: str | None = None
    item_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal(BaseElement):
    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Error(BaseElement):
    """A BPMN error. ``payload`` is evaluated where the error is thrown and stored by a catcher of
    this error in ``payload_variable`` (SpiffWorkflow's ``payloadExpression`` / ``variableName``)."""

    id: str
    name: str | None = None
    error_code: str | None = None
    payload: Expression | None = None
    payload_variable: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalation(BaseElement):
    """A BPMN escalation; ``payload`` and ``payload_variable`` as for :class:`Error`."""

    id: str
    name: str | None = None
    escalation_code: str | None = None
    payload: Expression | None = None
    payload_variable: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Participant(BaseElement):
    id: str
    name: str | None = None
    process_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageFlow(BaseElement):
    id: str
    name: str | None = None
    source: str
    target: str
    message_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Collaboration(BaseElement):
    """Pools (participants) and the message flows between them."""

    id: str
    name: str | None = None
    participants: tuple[Participant, ...] = ()
    message_flows: tuple[MessageFlow, ...] = ()
    artifacts: tuple[Element, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Definitions(BaseElement):
    """One definition file's content. Immutable: change it with :func:`dataclasses.replace`."""

    name: str | None = None
    target_namespace: str | None = None
    exporter: str | None = None
    exporter_version: str | None = None
    processes: tuple[Process, ...] = ()
    collaborations: tuple[Collaboration, ...] = ()
    messages: tuple[Message, ...] = ()
    signals: tuple[Signal, ...] = ()
    errors: tuple[Error, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    diagrams: tuple[Diagram, ...] = ()
    namespaces: FrozenDict = field(default=EMPTY, compare=False)  # prefix → URI, as the source declared them
    # Where each element was written in a text source: id → (line, column), 1-based. Readers fill
    # it so that validation problems can point at a line; it is not part of the semantics.
    positions: FrozenDict = field(default=EMPTY, compare=False, repr=False)

    @cached_property
    def _processes(self) -> dict[str, Process]:
        return {p.id: p for p in self.processes}

    def process(self, process_id: str) -> Process:
        try:
            return self._processes[process_id]
        except KeyError:
            raise ElementNotFound(process_id) from None

    @property
    def main_process(self) -> Process:
        """The process that runs by default: the first executable one, else the first one."""
        if not self.processes:
            raise ModelError("the definition holds no process")
        return next((p for p in self.processes if p.is_executable), self.processes[0])

    def select_process(self, key: str | None) -> Process:
        """The process with id ``key``, or the one whose pool (participant) is ``key``; default main."""
        if key is None:
            return self.main_process
        if key in self._processes:
            return self._processes[key]
        for collaboration in self.collaborations:
            if key == collaboration.id:
                return self.main_process
            for participant in collaboration.participants:
                if key == participant.id and participant.process_ref in self._processes:
                    return self._processes[participant.process_ref]
        for process in self.processes:
            if process.name == key:
                return process
        raise ElementNotFound(key)

    def find(self, element_id: str) -> Element | BaseElement | None:
        """Any element with this id: processes, their contents, messages, participants, …"""
        if element_id in self._processes:
            return self._processes[element_id]
        for process in self.processes:
            hit = process.find(element_id)
            if hit is not None:
                return hit
        for group in (self.messages, self.signals, self.errors, self.escalations, self.collaborations):
            for item in group:
                if item.id == element_id:
                    return item
        for collaboration in self.collaborations:
            for item in (*collaboration.participants, *collaboration.message_flows, *collaboration.artifacts):
                if item.id == element_id:
                    return item
        return None

    def walk(self) -> Iterator[tuple[FlowContainer, Element]]:
        for process in self.processes:
            yield from process.walk()

    def position_of(self, element_id: str | None) -> tuple[int, int] | None:
        """``(line, column)`` where the element was written, when the reader recorded it."""
        found = self.positions.get(element_id) if element_id else None
        return (found[0], found[1]) if found else None

    def without_diagrams(self) -> Definitions:
        """The same definitions with no geometry: what "same semantics" compares."""
        return replace(self, diagrams=())
