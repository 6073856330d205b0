"""A validated document → the model: ids made for elements written without one, flows resolved by
id or by name, default flows, durations normalised, and every semantic problem located."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from apg_workflow.formats.jsonyaml.diagnostics import Diagnostics, Path, PathPart, format_path, suggest
from apg_workflow.formats.jsonyaml.document import (
    CatalogueEntry,
    FlowEntry,
    MultiProcessDocument,
    ProcessFields,
    SingleProcessDocument,
    SubProcessEntry,
)
from apg_workflow.formats.jsonyaml.entry import NodeEntry
from apg_workflow.formats.jsonyaml.fields import expression
from apg_workflow.model import (
    EMPTY,
    Definitions,
    DurationError,
    Error,
    Escalation,
    FrozenDict,
    Message,
    Process,
    SequenceFlow,
    Signal,
    freeze,
    is_iso_duration,
    normalize_duration,
)
from apg_workflow.model.ids import element_id_for, flow_id_for

Document = SingleProcessDocument | MultiProcessDocument
Item = TypeVar("Item", bound=CatalogueEntry)


def build_definitions(document: Document, diagnostics: Diagnostics) -> Definitions:
    """The model of ``document``; raises the :class:`FormatError` of ``diagnostics`` on any problem."""
    return _Reader(diagnostics).definitions(document)


class _Reader:
    def __init__(self, diagnostics: Diagnostics) -> None:
        self.diagnostics = diagnostics
        self.taken: set[str] = set()  # every id in use, written or made
        self.paths: dict[str, Path] = {}  # where each element is written, for Definitions.positions

    def definitions(self, document: Document) -> Definitions:
        processes: list[tuple[Path, ProcessFields]] = (
            [((), document)]
            if isinstance(document, SingleProcessDocument)
            else [(("processes", index), process) for index, process in enumerate(document.processes)]
        )
        self._claim_written_ids(document, processes)
        # The catalogues first: a message written by name alone gets that name as its id, which the
        # events referring to it use.
        messages = [Message(id=i, name=e.name) for i, e in self._catalogue(document.messages, "Message")]
        signals = [Signal(id=i, name=e.name) for i, e in self._catalogue(document.signals, "Signal")]
        errors = [
            Error(id=i, name=e.name, error_code=e.code, **e.payload_fields())
            for i, e in self._catalogue(document.errors, "Error")
        ]
        escalations = [
            Escalation(id=i, name=e.name, escalation_code=e.code, **e.payload_fields())
            for i, e in self._catalogue(document.escalations, "Escalation")
        ]
        built = tuple(self._process(process, path) for path, process in processes)
        self.diagnostics.check()
        return Definitions(
            id=document.definitions_id,
            name=document.definitions_name,
            processes=built,
            messages=tuple(messages),
            signals=tuple(signals),
            errors=tuple(errors),
            escalations=tuple(escalations),
            positions=self._positions(),
        )

    def _placed(self, element_id: str, path: Path) -> str:
        self.paths.setdefault(element_id, path)
        return element_id

    def _positions(self) -> FrozenDict:
        """Line and column of every element, when read from text (the validator points at them)."""
        source_map = self.diagnostics.source_map
        if source_map is None:
            return EMPTY
        found = {element_id: source_map.locate(path) for element_id, path in self.paths.items()}
        positions: FrozenDict = freeze({element_id: place for element_id, place in found.items() if place})
        return positions

    def _claim_written_ids(self, document: Document, processes: list[tuple[Path, ProcessFields]]) -> None:
        """Reserve every id written in the file (so that made ones avoid them); report duplicates."""
        first_use: dict[str, Path] = {}

        def claim(element_id: str | None, path: Path) -> None:
            if element_id is None:
                return
            if element_id in first_use:
                where = format_path(first_use[element_id]) or "the top"
                self.diagnostics.add(
                    (*path, "id"), f"duplicate id '{element_id}' (also used at {where})", code="duplicate-id"
                )
                return
            first_use[element_id] = path
            self.taken.add(element_id)

        def claim_content(activities: Sequence[NodeEntry], flows: Sequence[FlowEntry], path: Path) -> None:
            for index, entry in enumerate(activities):
                claim(entry.id, (*path, "activities", index))
                if isinstance(entry, SubProcessEntry):
                    claim_content(entry.activities, entry.flows, (*path, "activities", index))
            for index, flow in enumerate(flows):
                claim(flow.id, (*path, "flows", index))

        for key in ("messages", "signals", "errors", "escalations"):
            for index, item in enumerate(getattr(document, key)):
                claim(item.id, (key, index))
        for path, process in processes:
            claim(process.id, path)
            claim_content(process.activities, process.flows, path)

    def _catalogue(self, entries: list[Item], kind: str) -> list[tuple[str, Item]]:
        key = f"{kind.lower()}s"
        return [
            (self._placed(entry.id or element_id_for(entry.name, kind, self.taken), (key, index)), entry)
            for index, entry in enumerate(entries)
        ]

    def _process(self, process: ProcessFields, path: Path) -> Process:
        return Process(
            id=self._placed(process.id or element_id_for(process.name, "Process", self.taken), path),
            name=process.name,
            documentation=process.description,
            is_executable=process.executable,
            version_tag=process.version_tag,
            **self.content(process.activities, process.flows, path, "process"),
        )

    def content(
        self, activities: Sequence[NodeEntry], flows: Sequence[FlowEntry], path: Path, where: str
    ) -> dict[str, Any]:
        """The nodes and flows of a process or sub-process at ``path``."""
        ids = [
            self._placed(
                entry.id or element_id_for(entry.name, entry.type, self.taken), (*path, "activities", index)
            )
            for index, entry in enumerate(activities)
        ]
        scope = _Scope(ids, activities, where, self.diagnostics)
        built_flows = tuple(
            self._flow(flow, (*path, "flows", index), scope) for index, flow in enumerate(flows)
        )
        nodes = tuple(
            entry.to_node(_NodeScope(self, scope, (*path, "activities", index), ids[index]))
            for index, entry in enumerate(activities)
        )
        return {"nodes": nodes, "flows": built_flows}

    def _flow(self, flow: FlowEntry, path: Path, scope: _Scope) -> SequenceFlow:
        source = scope.resolve(flow.source, (*path, "from"))
        target = scope.resolve(flow.target, (*path, "to"))
        flow_id = self._placed(flow.id or flow_id_for(source, target, self.taken), path)
        scope.flow_sources.setdefault(flow_id, source)
        if flow.default:
            scope.mark_default(source, flow_id, (*path, "default"))
        return SequenceFlow(
            id=flow_id,
            name=flow.name,
            documentation=flow.description,
            source=source,
            target=target,
            condition=expression(flow.condition),
        )


class _Scope:
    """The elements of one (sub-)process: references between them are resolved here."""

    def __init__(
        self, ids: list[str], entries: Sequence[NodeEntry], where: str, diagnostics: Diagnostics
    ) -> None:
        self.entries: dict[str, NodeEntry] = {}
        self.by_name: dict[str, list[str]] = {}
        for element_id, entry in zip(ids, entries, strict=True):
            self.entries.setdefault(element_id, entry)
            if entry.name is not None:
                self.by_name.setdefault(entry.name, []).append(element_id)
        self.where = where
        self.diagnostics = diagnostics
        self.flow_sources: dict[str, str] = {}
        self.marked_defaults: dict[str, str] = {}

    def resolve(self, ref: str, path: Path, element_id: str | None = None) -> str:
        """The id of the element ``ref`` names (by id, else by unique name); ``ref`` itself if none."""
        if ref in self.entries:
            return ref
        named = self.by_name.get(ref, [])
        if len(named) == 1:
            return named[0]
        if named:
            message = f"several elements are named '{ref}' ({', '.join(named)}): refer to one by id"
        else:
            message = f"no element '{ref}' in this {self.where}{suggest(ref, [*self.entries, *self.by_name])}"
        self.diagnostics.add(path, message, code="reference", element_id=element_id)
        return ref

    def mark_default(self, source: str, flow_id: str, path: Path) -> None:
        entry = self.entries.get(source)
        if entry is None:
            return  # the unknown source is reported already
        if "default" not in type(entry).model_fields:
            self.diagnostics.add(
                path, f"'{source}' is a {entry.type}, which has no default flow", code="reference"
            )
        elif source in self.marked_defaults:
            self.diagnostics.add(
                path,
                f"'{source}' has a default flow already ('{self.marked_defaults[source]}')",
                code="reference",
            )
        else:
            self.marked_defaults[source] = flow_id


class _NodeScope:
    """The :class:`~.entry.NodeContext` of one entry."""

    def __init__(self, reader: _Reader, scope: _Scope, path: Path, node_id: str) -> None:
        self.reader = reader
        self.scope = scope
        self.path = path
        self.node_id = node_id

    def report(self, key: PathPart | tuple[PathPart, ...], message: str) -> None:
        keys = key if isinstance(key, tuple) else (key,)
        self.reader.diagnostics.add((*self.path, *keys), message, element_id=self.node_id)

    def duration(
        self, value: str | None, key: PathPart | tuple[PathPart, ...], *, strict: bool = True
    ) -> str | None:
        if value is None or is_iso_duration(value):
            return value
        try:
            return normalize_duration(value)
        except DurationError as exc:
            if not strict:
                return value
            self.report(key, exc.message)
            return None

    def resolve(self, ref: str, key: str) -> str:
        return self.scope.resolve(ref, (*self.path, key), self.node_id)

    def default_flow(self, written: str | None) -> str | None:
        marked = self.scope.marked_defaults.get(self.node_id)
        if written is None:
            return marked
        if marked is not None and marked != written:
            self.report(
                "default", f"'{written}' is given as default here, but flow '{marked}' says default: true"
            )
        source = self.scope.flow_sources.get(written)
        if source is None:
            where = self.scope.where
            self.report(
                "default", f"no flow '{written}' in this {where}{suggest(written, self.scope.flow_sources)}"
            )
        elif source != self.node_id:
            self.report("default", f"flow '{written}' does not leave '{self.node_id}' (it leaves '{source}')")
        return written

    def content(self, activities: list[Any], flows: list[Any]) -> dict[str, Any]:
        return self.reader.content(activities, flows, self.path, "sub-process")
