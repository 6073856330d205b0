"""Definition sources ⇄ programs: read the files of a deployment (definitions in any format, DMN
decision tables) and compile a stored version's sources for the engine."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from apg_workflow.engine.program import Program, compile_program
from apg_workflow.expressions.sandbox import Sandbox
from apg_workflow.formats import FormatError, detect_format, load
from apg_workflow.formats.dmn import VERSIONS, read_dmn
from apg_workflow.model import Definitions
from apg_workflow.model.decisions import DecisionDefinitions
from apg_workflow.store.records import Source

DMN = "dmn"


def read_source(path: Path) -> Source:
    """One file as a source; raises :class:`FormatError` when it cannot be read as text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return Source(name=path.name, format=source_format(text, path.name), text=text)


def source_format(text: str, name: str) -> str:
    head = text[:4096]
    if name.lower().endswith(".dmn") or any(ns in head for ns in VERSIONS):
        return DMN
    return detect_format(head, name)


def parse_sources(sources: Sequence[Source]) -> tuple[list[Definitions], list[DecisionDefinitions]]:
    definitions: list[Definitions] = []
    decisions: list[DecisionDefinitions] = []
    for source in sources:
        data = source.text.encode("utf-8") if source.format in ("bpmn", DMN) else source.text
        if source.format == DMN:
            decisions.append(read_dmn(data, source=source.name))
        else:
            definitions.append(load(data, format=source.format, source=source.name))
    if not definitions:
        raise FormatError("no process definition among the files (only DMN decision tables)")
    return definitions, decisions


def compile_sources(sources: Sequence[Source]) -> Program:
    """The program of a version: its first definition's main process runs by default."""
    return compile_parsed(*parse_sources(sources))


def compile_parsed(definitions: Sequence[Definitions], decisions: Sequence[DecisionDefinitions]) -> Program:
    return compile_program(definitions, sandbox=Sandbox(), decisions=decisions)


def checksum(sources: Sequence[Source]) -> str:
    """Identifies a deployment's content: the same files, in the same order, give the same sum."""
    canonical = json.dumps([[s.format, s.text] for s in sources], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


__all__ = ["checksum", "compile_parsed", "compile_sources", "parse_sources", "read_source", "source_format"]
