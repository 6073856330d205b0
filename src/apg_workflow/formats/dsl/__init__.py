"""The APG DSL: a readable, indentation-based text form of workflow definitions.

>>> definitions = read_dsl('WORKFLOW "Hello"\\n  START "Begin"\\n  END "Done"\\n')
>>> [node.id for node in definitions.main_process.nodes]
['Begin', 'Done']

:func:`write_dsl` writes any model so that :func:`read_dsl` gives it back unchanged. The language
is described in ``docs/formats.md``; the grammar is ``grammar.lark``.
"""

from __future__ import annotations

from apg_workflow.formats.dsl.builder import DefinitionsBuilder
from apg_workflow.formats.dsl.parser import parse
from apg_workflow.formats.dsl.syntax import SourceError
from apg_workflow.formats.dsl.writer import write_dsl
from apg_workflow.formats.errors import FormatError
from apg_workflow.model import Definitions


def read_dsl(text: str, *, source: str | None = None) -> Definitions:
    """The definitions a DSL text describes. Raises :class:`FormatError` with line and column."""
    try:
        return DefinitionsBuilder().build(parse(text))
    except SourceError as exc:
        line, column = (exc.pos.line, exc.pos.column) if exc.pos and exc.pos.line else (None, None)
        raise FormatError.at(
            exc.message, format="dsl", line=line, column=column, element_id=exc.element_id, source=source
        ) from None


__all__ = ["read_dsl", "write_dsl"]
