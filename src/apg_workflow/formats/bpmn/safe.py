"""Safe parsing of BPMN 2.0 documents (see :mod:`apg_workflow.formats.xmlsafe` for what "safe" means)."""

from __future__ import annotations

from lxml import etree

from apg_workflow.formats.bpmn.namespaces import MODEL, bpmn
from apg_workflow.formats.errors import FormatError
from apg_workflow.formats.xmlsafe import parse_hardened

_FORMAT = "bpmn"


def parse_xml(data: str | bytes, *, source: str | None = None) -> etree._Element:
    """The root element of a BPMN 2.0 document, parsed safely.

    Raises :class:`FormatError` for a DOCTYPE, XML that is not well-formed (with lxml's line and
    column) and a root element other than BPMN ``definitions``.
    """
    root = parse_hardened(data, kind="BPMN", format=_FORMAT, source=source)
    if root.tag != bpmn("definitions"):
        name = etree.QName(root)
        where = f" in namespace '{name.namespace}'" if name.namespace else " without a namespace"
        raise FormatError.at(
            f"not a BPMN 2.0 file: the root element is <{name.localname}>{where}; expected <definitions> "
            f"in the BPMN model namespace {MODEL}",
            format=_FORMAT,
            line=root.sourceline,
            code="not-bpmn",
            source=source,
        )
    return root
