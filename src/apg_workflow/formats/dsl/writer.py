"""Model → DSL text that reads back as exactly the same model.

A process (or sub-process) whose flows the implicit sequence reproduces is written as steps one
under the other, with ``FLOW`` lines only for the flows the sequence does not make, each placed
where the reader will create it so that the order of flows survives. Any other graph is written
with ``flows: explicit``: the nodes, then every flow as a ``FLOW`` line. Ids are left out where the
reader derives the same one from the name; durations are written ``2h`` where that reads back as
the same ISO text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apg_workflow import model as m
from apg_workflow.formats.dsl.keywords import (
    continues_sequence,
    in_sequence,
    keyword_of,
    receives_sequence,
)
from apg_workflow.formats.dsl.lexical import ident, quote
from apg_workflow.formats.dsl.parser import reserved_words
from apg_workflow.formats.dsl.printer import INDENT, Printer
from apg_workflow.formats.dsl.properties import written_properties
from apg_workflow.formats.dsl.syntax import Entry, Scalar
from apg_workflow.formats.dsl.triggers import expression_text, triggers_text
from apg_workflow.formats.errors import FormatError
from apg_workflow.model.ids import slug

_DECLARATIONS = (
    ("MESSAGE", "messages"),
    ("SIGNAL", "signals"),
    ("ERROR", "errors"),
    ("ESCALATION", "escalations"),
)
_DEFINITIONS_FIELDS = ("id", "name", "documentation", "target_namespace", "exporter", "exporter_version")


def write_dsl(definitions: m.Definitions) -> str:
    """The DSL text of ``definitions``; :func:`read_dsl` reads it back unchanged.

    The DSL carries the semantics of the processes; BPMN-only details (diagrams, lanes, data
    objects, artifacts, collaborations, foreign XML) are not written. An element of a kind the
    model does not know (:class:`UnsupportedNode`) raises :class:`FormatError`.
    """
    writer = _Writer(reserved_words())
    blocks = [
        writer.element("WORKFLOW", process, writer.content(process, INDENT), "")
        for process in definitions.processes
    ]
    for keyword, attribute in _DECLARATIONS:
        lines = [
            line for item in getattr(definitions, attribute) for line in writer.element(keyword, item, [], "")
        ]
        if lines:
            blocks.append(lines)
    if any(getattr(definitions, name) is not None for name in _DEFINITIONS_FIELDS):
        blocks.append(writer.element("DEFINITIONS", definitions, [], ""))
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


@dataclass
class _Plan:
    """How one process or sub-process is written."""

    explicit: bool
    statements: list[m.FlowNode]  # nodes written at this level, in order
    boundaries: dict[str, list[m.BoundaryEvent]]  # written indented under their activity
    flows_before: dict[str, list[m.SequenceFlow]] = field(default_factory=dict)  # node id → FLOW lines
    flows_after: list[m.SequenceFlow] = field(default_factory=list)


class _Writer:
    def __init__(self, reserved: frozenset[str]) -> None:
        self.reserved = reserved
        self.printer = Printer(reserved)

    # -- statements -----------------------------------------------------------------------------

    def element(
        self,
        keyword: str,
        obj: m.BaseElement,
        body: list[str],
        indent: str,
        *,
        extra: tuple[Entry, ...] = (),
        skip: frozenset[str] = frozenset(),
    ) -> list[str]:
        """``KEYWORD [id] ["name"] [triggers]``, its properties, then ``body`` (already indented)."""
        parts = [keyword]
        name = getattr(obj, "name", None)
        if obj.id is not None and not (name and slug(name) == obj.id):
            parts.append(ident(obj.id, self.reserved))
        if name is not None:
            parts.append(quote(name))
        if isinstance(obj, m.Event) and obj.definitions:
            parts.append(triggers_text(obj, self.reserved))
        properties = self.printer.entries([*extra, *written_properties(obj, skip)], indent + INDENT)
        if body and parts[-1].endswith('"') and isinstance(obj, m.SubProcess):
            parts[-1] += ":"
        return [indent + " ".join(parts), *properties, *body]

    def content(self, container: m.FlowContainer, indent: str) -> list[str]:
        """The nodes and flows of a process or sub-process, at ``indent``."""
        plan = _plan(container)
        defaults = {n.id: n.default for n in container.nodes if getattr(n, "default", None) is not None}
        written = [*plan.flows_after, *(f for before in plan.flows_before.values() for f in before)]
        marked = {f.id for f in written if defaults.get(f.source) == f.id}
        lines = [f"{indent}flows: explicit"] if plan.explicit else []
        for node in plan.statements:
            lines += [self.flow(f, indent, f.id in marked) for f in plan.flows_before.get(node.id, ())]
            skip = frozenset({"default"}) if defaults.get(node.id) in marked else frozenset()
            lines += self.node(node, plan.boundaries.get(node.id, []), indent, skip)
        lines += [self.flow(f, indent, f.id in marked) for f in plan.flows_after]
        return lines

    def node(
        self, node: m.FlowNode, boundaries: list[m.BoundaryEvent], indent: str, skip: frozenset[str]
    ) -> list[str]:
        if isinstance(node, m.UnsupportedNode):
            raise FormatError(
                f"the element '{node.id}' ({node.tag}) has no form in the DSL: keep this definition in BPMN",
                format="dsl",
            )
        body = [line for b in boundaries for line in self.element("ON", b, [], indent + INDENT)]
        if isinstance(node, m.SubProcess):
            body += self.content(node, indent + INDENT)
        extra: tuple[Entry, ...] = ()
        if isinstance(node, m.BoundaryEvent):
            extra = (Entry("attached_to", Scalar(node.attached_to, bare=True)),)
        return self.element(keyword_of(node), node, body, indent, extra=extra, skip=skip)

    def flow(self, flow: m.SequenceFlow, indent: str, default: bool) -> str:
        label = []
        if flow.id != f"Flow_{flow.source}_{flow.target}":
            label.append(ident(flow.id, self.reserved))
        if flow.name is not None:
            label.append(quote(flow.name))
        parts = ["FLOW"]
        if label:
            parts += [*label[:-1], label[-1] + ":"]
        parts += [ident(flow.source, self.reserved), "->", ident(flow.target, self.reserved)]
        if flow.condition is not None:
            parts += ["WHEN", expression_text(flow.condition, self.reserved)]
        if default:
            parts.append("DEFAULT")
        line = indent + " ".join(parts)
        if flow.documentation is None:
            return line
        details = written_properties(flow, frozenset({"condition"}))
        return "\n".join([line, *self.printer.entries(details, indent + INDENT)])


def _plan(container: m.FlowContainer) -> _Plan:
    """The implicit-sequence plan when it reproduces every flow in order, else an explicit one."""
    boundaries = _nested_boundaries(container.nodes)
    nested = {b.id for found in boundaries.values() for b in found}
    statements = [n for n in container.nodes if n.id not in nested]
    flows = list(container.flows)
    plan = _Plan(False, statements, boundaries)
    position = 0
    tail: str | None = None
    for node in statements:
        if not in_sequence(type(node), getattr(node, "triggered_by_event", False)):
            continue
        if receives_sequence(type(node)) and tail is not None:
            implicit = m.SequenceFlow(id=f"Flow_{tail}_{node.id}", source=tail, target=node.id)
            found = next((i for i in range(position, len(flows)) if flows[i] == implicit), None)
            if found is None:
                return _Plan(True, statements, boundaries, flows_after=flows)
            plan.flows_before[node.id] = flows[position:found]
            position = found + 1
        tail = node.id if continues_sequence(type(node)) else None
    plan.flows_after = flows[position:]
    return plan


def _nested_boundaries(nodes: tuple[m.FlowNode, ...]) -> dict[str, list[m.BoundaryEvent]]:
    """Boundary events that directly follow their activity: written indented under it."""
    found: dict[str, list[m.BoundaryEvent]] = {}
    host: m.FlowNode | None = None
    for node in nodes:
        if isinstance(node, m.BoundaryEvent) and host is not None and node.attached_to == host.id:
            found.setdefault(host.id, []).append(node)
            continue
        host = node if isinstance(node, m.Activity) else None
    return found
