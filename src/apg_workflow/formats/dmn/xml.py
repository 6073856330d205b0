"""DMN XML: its namespaces, and safe parsing with the BPMN reader's hardened parser."""

from __future__ import annotations

from lxml import etree

from apg_workflow.formats.bpmn.safe import _as_bytes, _parser, _refuse_doctype
from apg_workflow.formats.errors import FormatError

FORMAT = "dmn"

# The model namespace of each DMN version.
VERSIONS: dict[str, str] = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
CAMUNDA = "http://camunda.org/schema/1.0/dmn"

_REFUSED = (
    "DOCTYPE/entity declarations are not allowed in DMN files: they can expand entities or read "
    "other files, and DMN never needs them; remove the <!DOCTYPE …> declaration"
)


def parse_dmn_xml(data: str | bytes, *, source: str | None = None) -> tuple[etree._Element, str]:
    """The root ``definitions`` element of a DMN document and its model namespace.

    Raises :class:`FormatError` for a DOCTYPE, XML that is not well-formed (located) and a root
    element that is not DMN 1.1 to 1.5 ``definitions``.
    """
    raw = _as_bytes(data)
    try:
        _refuse_doctype(raw, source)
    except FormatError as exc:
        where = exc.problems[0] if exc.problems else None
        raise FormatError.at(
            _REFUSED,
            format=FORMAT,
            line=where.line if where else None,
            column=where.column if where else None,
            code="security",
            source=source,
        ) from None
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        message = (exc.msg or str(exc)).strip()
        raise FormatError.at(
            f"the XML is not well-formed: {message}", format=FORMAT, line=line, column=column, source=source
        ) from None
    except ValueError as exc:  # lxml refuses some inputs (unknown encodings, …) before parsing
        raise FormatError.at(f"cannot read the XML: {exc}", format=FORMAT, source=source) from None
    if root.getroottree().docinfo.doctype:
        raise FormatError.at(_REFUSED, format=FORMAT, line=1, code="security", source=source)
    name = etree.QName(root)
    if name.localname != "definitions" or name.namespace not in VERSIONS:
        where = f" in namespace '{name.namespace}'" if name.namespace else " without a namespace"
        raise FormatError.at(
            f"not a DMN 1.1 to 1.5 file: the root element is <{name.localname}>{where}; expected "
            "<definitions> in a DMN model namespace",
            format=FORMAT,
            line=root.sourceline,
            code="not-dmn",
            source=source,
        )
    return root, name.namespace
