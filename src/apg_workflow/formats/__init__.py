"""Definition formats: BPMN 2.0 XML, JSON, YAML and the APG DSL, each read into and written from
:class:`apg_workflow.model.Definitions`.

>>> from apg_workflow.formats import load, dump
>>> definitions = load('WORKFLOW "Hello"\\n  START "Begin"\\n  END "Done"\\n')
>>> print(dump(definitions, "json"))  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from apg_workflow.formats.errors import FormatError
from apg_workflow.model import Definitions

FORMATS = ("bpmn", "json", "yaml", "dsl")
_EXTENSIONS = {
    ".bpmn": "bpmn",
    ".bpmn2": "bpmn",
    ".xml": "bpmn",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".apg": "dsl",
    ".dsl": "dsl",
    ".wf": "dsl",
}
# The statements a DSL file may open with (see formats/dsl/keywords.py TOP_LEVEL_KEYWORDS).
_DSL_START = re.compile(r"(WORKFLOW|DEFINITIONS|MESSAGE|SIGNAL|ERROR|ESCALATION)\b")


def detect_format(data: str | bytes, filename: str | None = None) -> str:
    """The format of a source, from its content first and its file name second."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        return "bpmn"
    if head.startswith(("{", "[")):
        return "json"
    first_code = next(
        (line.strip() for line in head.splitlines() if line.strip() and not line.strip().startswith("#")), ""
    )
    if _DSL_START.match(first_code):
        return "dsl"
    if filename:
        by_name = _EXTENSIONS.get(Path(filename).suffix.lower())
        if by_name:
            return by_name
    return "yaml"


def _readers() -> dict[str, Callable[..., Definitions]]:
    from apg_workflow.formats.bpmn import read_bpmn
    from apg_workflow.formats.dsl import read_dsl
    from apg_workflow.formats.jsonyaml import read_json, read_yaml

    return {"bpmn": read_bpmn, "json": read_json, "yaml": read_yaml, "dsl": read_dsl}


def _writers() -> dict[str, Callable[[Definitions], str]]:
    from apg_workflow.formats.bpmn import write_bpmn
    from apg_workflow.formats.dsl import write_dsl
    from apg_workflow.formats.jsonyaml import write_json, write_yaml

    return {"bpmn": write_bpmn, "json": write_json, "yaml": write_yaml, "dsl": write_dsl}


def load(data: str | bytes, *, format: str | None = None, source: str | None = None) -> Definitions:
    """Read a definition of any format. ``format`` is detected from the content when omitted.

    Raises :class:`FormatError` with located problems when the source cannot be read.
    """
    fmt = format or detect_format(data, source)
    if fmt not in FORMATS:
        raise FormatError(f"unknown format '{fmt}'; expected one of {', '.join(FORMATS)}", format=fmt)
    if fmt != "bpmn" and isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FormatError.at(
                f"the file is not UTF-8 text (byte {exc.start})", format=fmt, source=source, code="encoding"
            ) from None
    return _readers()[fmt](data, source=source)


def load_file(path: str | Path, *, format: str | None = None) -> Definitions:
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise FormatError(f"{file}: cannot read: {exc.strerror or exc}", format=format) from None
    return load(data, format=format, source=str(file))


def dump(definitions: Definitions, format: str) -> str:
    """Write definitions in ``format`` (``bpmn``, ``json``, ``yaml`` or ``dsl``)."""
    if format not in FORMATS:
        raise FormatError(f"unknown format '{format}'; expected one of {', '.join(FORMATS)}", format=format)
    return _writers()[format](definitions)


__all__ = ["FORMATS", "FormatError", "detect_format", "dump", "load", "load_file"]
