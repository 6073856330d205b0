"""Syntax tree → model: the top of a file (WORKFLOW, MESSAGE, ERROR, DEFINITIONS, …), then the
ids and the assembly of the frozen model. The content of each workflow is built by
:mod:`sequence`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from apg_workflow import model as m
from apg_workflow.formats.dsl.drafts import (
    ContainerDraft,
    Draft,
    all_node_ids,
    assemble_container,
    assign_ids,
    node_positions,
)
from apg_workflow.formats.dsl.keywords import DECLARATION_KEYWORDS
from apg_workflow.formats.dsl.properties import Fields
from apg_workflow.formats.dsl.sequence import build_content, header_fields, no_steps
from apg_workflow.formats.dsl.syntax import ElementStatement, Entry, Pos, Ref, SourceError, Statement

# How a quoted reference finds its declaration: messages and signals by name, errors and
# escalations by code.
_LOOKUP = {"message": "name", "signal": "name", "error": "error_code", "escalation": "escalation_code"}


class DefinitionsBuilder:
    """Builds the definitions of one source: declarations first, then the workflows."""

    def __init__(self) -> None:
        self.definitions: Fields = {}
        self.definitions_pos: Pos | None = None
        self.declared: dict[str, list[Draft]] = {kind.lower(): [] for kind in DECLARATION_KEYWORDS}
        self.processes: list[Draft] = []

    def build(self, statements: Sequence[Statement | Entry]) -> m.Definitions:
        workflows = []
        for item in statements:
            if isinstance(item, Entry):
                raise SourceError(
                    f"'{item.key}:' must be indented under the statement it describes", item.pos
                )
            if item.keyword == "WORKFLOW":
                workflows.append(item)
            elif item.keyword in DECLARATION_KEYWORDS or item.keyword == "DEFINITIONS":
                self._declaration(item)
            else:
                raise SourceError(
                    f"{item.keyword} must be inside a WORKFLOW: indent it under a WORKFLOW line", item.pos
                )
        for workflow in workflows:
            self._workflow(workflow)
        return self._assemble()

    # -- top level ------------------------------------------------------------------------------

    def _declaration(self, stmt: Statement) -> None:
        assert isinstance(stmt, ElementStatement)
        no_steps(stmt)
        if stmt.keyword == "DEFINITIONS":
            if self.definitions_pos is not None:
                raise SourceError(
                    f"a file has one DEFINITIONS line at most (one is on line {self.definitions_pos.line})",
                    stmt.pos,
                )
            self.definitions, self.definitions_pos = header_fields(stmt, m.Definitions), stmt.pos
            return
        cls = DECLARATION_KEYWORDS[stmt.keyword]
        self.declared[stmt.keyword.lower()].append(Draft(cls, stmt.pos, header_fields(stmt, cls)))

    def _workflow(self, stmt: Statement) -> None:
        assert isinstance(stmt, ElementStatement)
        fields = header_fields(stmt, m.Process)
        content = ContainerDraft(explicit=fields.pop("_explicit", False))
        build_content(stmt.statements, content, self.declare)
        self.processes.append(Draft(m.Process, stmt.pos, fields, content=content))

    def declare(self, kind: str, ref: Ref) -> Callable[[], str]:
        """The declaration a quoted reference names; one is added when none matches."""
        field_name = _LOOKUP[kind]
        found = next((d for d in self.declared[kind] if d.fields.get(field_name) == ref.text), None)
        if found is None:
            cls = DECLARATION_KEYWORDS[kind.upper()]
            found = Draft(cls, ref.pos, {field_name: ref.text}, id_hint=ref.text)
            self.declared[kind].append(found)
        return lambda: found.id

    def _assemble(self) -> m.Definitions:
        declarations = [d for group in self.declared.values() for d in group]
        assign_ids(declarations, self.processes)
        elsewhere = all_node_ids(self.processes).__contains__
        processes = []
        for draft in self.processes:
            assert draft.content is not None
            processes.append(m.Process(**draft.fields, **assemble_container(draft.content, elsewhere)))
        groups = {kind: tuple(d.cls(**d.fields) for d in drafts) for kind, drafts in self.declared.items()}
        positions = {element_id: (pos.line, pos.column) for element_id, pos in node_positions(self.processes)}
        positions |= {d.id: (d.pos.line, d.pos.column) for d in declarations}
        return m.Definitions(
            **self.definitions,
            processes=tuple(processes),
            messages=groups["message"],
            signals=groups["signal"],
            errors=groups["error"],
            escalations=groups["escalation"],
            positions=m.FrozenDict(positions),
        )
