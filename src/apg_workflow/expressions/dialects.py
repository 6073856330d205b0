"""Which expression language a text is written in.

The platform's default is a safe subset of Python (as SpiffWorkflow writes conditions and
scripts). Camunda 7 files write JUEL (``${amount > 1000}``), Camunda 8 files FEEL
(``=amount > 1000``). Any other language (JavaScript, Groovy, XPath, …) is not run by the engine.
"""

from __future__ import annotations

from enum import StrEnum


class Dialect(StrEnum):
    PYTHON = "python"
    JUEL = "juel"
    FEEL = "feel"


# A declared language is matched on these words, case-insensitively, so that MIME types
# ("text/x-python") and specification URIs ("https://www.omg.org/spec/DMN/20191111/FEEL/") work too.
_LANGUAGE_WORDS = (("python", Dialect.PYTHON), ("juel", Dialect.JUEL), ("feel", Dialect.FEEL))
JUEL_MARKERS = ("${", "#{")
FEEL_MARKER = "="


def dialect_of(text: str, language: str | None) -> Dialect | None:
    """The dialect to parse ``text`` with, or ``None`` for a language the engine does not run.

    Without a declared language the text decides: a text holding ``${…}`` / ``#{…}`` is JUEL
    (possibly a template such as ``Dear ${name}``), one starting with ``=`` is FEEL, anything else
    Python.
    """
    if language is None or not language.strip():
        if any(marker in text for marker in JUEL_MARKERS):
            return Dialect.JUEL
        if text.lstrip().startswith(FEEL_MARKER):
            return Dialect.FEEL
        return Dialect.PYTHON
    declared = language.strip().lower()
    return next((dialect for word, dialect in _LANGUAGE_WORDS if word in declared), None)
