"""The document as a whole: sub-processes (which nest activities), sequence flows, processes, the
catalogues of messages, signals, errors and escalations, and the two top-level forms (one process
with its keys at the top, or several under ``processes``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from pydantic import Discriminator, Field, Tag, TypeAdapter

from apg_workflow.formats.jsonyaml.activities import TASK_ENTRIES, ActivityEntry
from apg_workflow.formats.jsonyaml.entry import NodeContext, NodeEntry
from apg_workflow.formats.jsonyaml.events import EVENT_ENTRIES
from apg_workflow.formats.jsonyaml.fields import (
    ExpressionValue,
    Strict,
    by_type,
    expression,
    expression_value,
)
from apg_workflow.formats.jsonyaml.gateways import GATEWAY_ENTRIES
from apg_workflow.model import AdHocSubProcess, SubProcess, Transaction


class SubProcessEntry(ActivityEntry):
    """An embedded sub-process: activities and flows of its own. With ``triggered_by_event`` an event
    sub-process, started by its start event's trigger while the enclosing scope runs."""

    MODEL: ClassVar[type[SubProcess]] = SubProcess
    type: Literal["subProcess"]
    triggered_by_event: bool = False
    """An event sub-process: it has no incoming flow and starts when its start event's trigger happens."""
    activities: list[ActivityItem] = []
    """The sub-process's events, activities and gateways."""
    flows: list[FlowEntry] = []
    """The sequence flows between them."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return (
            super().node_fields(ctx)
            | ctx.content(self.activities, self.flows)
            | {"triggered_by_event": self.triggered_by_event}
        )

    @classmethod
    def entry(cls, node: Any) -> dict[str, Any]:  # a SubProcess
        return super().entry(node) | {"triggered_by_event": node.triggered_by_event or None}


class TransactionEntry(SubProcessEntry):
    """A sub-process whose work is undone together (compensation) when it is cancelled."""

    MODEL = Transaction
    type: Literal["transaction"]  # type: ignore[assignment]


class AdHocSubProcessEntry(SubProcessEntry):
    """A sub-process whose activities run in any order, as people choose, until it completes."""

    MODEL = AdHocSubProcess
    type: Literal["adHocSubProcess"]  # type: ignore[assignment]
    completion_condition: ExpressionValue | None = None
    """The sub-process completes when this holds."""
    ordering: Literal["Parallel", "Sequential"] | None = None
    """Whether its activities may run at the same time."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {
            "completion_condition": expression(self.completion_condition),
            "ordering": self.ordering,
        }

    @classmethod
    def entry(cls, node: AdHocSubProcess) -> dict[str, Any]:
        return super().entry(node) | {
            "completion_condition": expression_value(node.completion_condition),
            "ordering": node.ordering,
        }


_ENTRIES: tuple[type[NodeEntry], ...] = (
    *EVENT_ENTRIES,
    *TASK_ENTRIES,
    SubProcessEntry,
    TransactionEntry,
    AdHocSubProcessEntry,
    *GATEWAY_ENTRIES,
)
ELEMENT_ENTRIES: dict[str, type[NodeEntry]] = {entry.MODEL.KIND.value: entry for entry in _ENTRIES}
"""Entry class by element type (``userTask`` → :class:`UserTaskEntry`)."""

if TYPE_CHECKING:
    ActivityItem = NodeEntry
else:
    # One branch per element type, picked by the entry's ``type`` (an unknown type gets a suggestion).
    ActivityItem = Annotated[
        Union[tuple(Annotated[entry, Tag(f"~{kind}")] for kind, entry in ELEMENT_ENTRIES.items())],  # noqa: UP007
        by_type(ELEMENT_ENTRIES, error_type="element_type"),
    ]


class FlowEntry(Strict):
    """A sequence flow between two elements of the same (sub-)process."""

    id: str | None = None
    """Unique id; ``Flow_<from>_<to>`` when absent."""
    source: str = Field(alias="from")
    """The element the flow leaves: its id, or its name when that is unique."""
    target: str = Field(alias="to")
    """The element the flow enters: its id, or its name when that is unique."""
    name: str | None = None
    """The label shown on the flow (e.g. ``yes`` after a gateway)."""
    description: str | None = None
    """Documentation of the flow."""
    condition: ExpressionValue | None = None
    """Taken only when this holds (after an exclusive, inclusive or complex gateway)."""
    default: bool = False
    """This is the default flow of its source: taken when no other flow's condition holds."""


class CatalogueEntry(Strict):
    """Something events refer to by id."""

    id: str | None = None
    """Unique id, referred to by events (``message: <id>``); made from the name when absent."""
    name: str | None = None
    """The name (for messages and signals, the name senders use)."""


class MessageEntry(CatalogueEntry):
    """A message that tasks and events send or wait for."""


class SignalEntry(CatalogueEntry):
    """A signal: broadcast to everything that waits for it."""


class RaisedEntry(CatalogueEntry):
    """What errors and escalations have in common: a code and a payload."""

    code: str | None = None
    """The code that throwers raise and catchers match."""
    payload: ExpressionValue | None = None
    """What a thrower sends along, evaluated where it is thrown."""
    payload_variable: str | None = None
    """The variable a catcher of this error or escalation stores the payload in."""

    def payload_fields(self) -> dict[str, Any]:
        return {"payload": expression(self.payload), "payload_variable": self.payload_variable}


class ErrorEntry(RaisedEntry):
    """A business error, thrown by end events or components and caught by boundary events."""


class EscalationEntry(RaisedEntry):
    """An escalation, thrown by events and caught by boundary events or event sub-processes."""


class ProcessFields(Strict):
    """The keys of one process."""

    id: str | None = None
    """The process id, which is the workflow key; made from the name when absent."""
    name: str | None = None
    """The workflow's name."""
    description: str | None = None
    """What the workflow is for."""
    executable: bool = True
    """``false`` for a process that only documents (it is not run)."""
    version_tag: str | None = None
    """A version label of your own (deployments are numbered anyway)."""
    activities: list[ActivityItem] = []
    """The events, activities and gateways, each with its ``type``."""
    flows: list[FlowEntry] = []
    """The sequence flows between them: ``{from, to, condition}``."""


class DefinitionFields(Strict):
    """The keys of the file as a whole."""

    schema_uri: str | None = Field(None, alias="$schema")
    """The JSON Schema this file follows, for editors; ignored when reading."""
    definitions_id: str | None = None
    """The id of the definitions (the BPMN ``definitions`` element), when it matters."""
    definitions_name: str | None = None
    """The name of the definitions, when it matters."""
    messages: list[MessageEntry] = []
    """Messages, referred to by id from events and tasks."""
    signals: list[SignalEntry] = []
    """Signals, referred to by id from events."""
    errors: list[ErrorEntry] = []
    """Errors, referred to by id from events."""
    escalations: list[EscalationEntry] = []
    """Escalations, referred to by id from events."""


class ProcessEntry(ProcessFields):
    """One process of a file that holds several."""


class SingleProcessDocument(DefinitionFields, ProcessFields):
    """A workflow definition with one process, whose keys are at the top."""


class MultiProcessDocument(DefinitionFields):
    """A workflow definition with several processes (e.g. a main process and those it calls)."""

    processes: list[ProcessEntry]
    """The processes; the first executable one runs by default."""


def _document_form(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    return "~multi" if "processes" in value else "~single"


Document = Annotated[
    Annotated[SingleProcessDocument, Tag("~single")] | Annotated[MultiProcessDocument, Tag("~multi")],
    Discriminator(
        _document_form,
        custom_error_type="document",
        custom_error_message="expected an object with 'name', 'activities' and 'flows' (or 'processes')",
    ),
]

for _model in (
    SubProcessEntry,
    TransactionEntry,
    AdHocSubProcessEntry,
    ProcessFields,
    ProcessEntry,
    SingleProcessDocument,
):
    _model.model_rebuild()

DOCUMENT: TypeAdapter[SingleProcessDocument | MultiProcessDocument] = TypeAdapter(Document)
