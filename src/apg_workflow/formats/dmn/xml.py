"""DMN XML: its namespaces, and safe parsing (formats.xmlsafe)."""

from __future__ import annotations

from lxml import etree

from apg_workflow.formats.errors import FormatError
from apg_workflow.formats.xmlsafe import parse_hardened

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


def parse_dmn_xml(data: str | bytes, *, source: str | None = None) -> tuple[etree._Element, str]:
    """The root ``definitions`` element of a DMN document and its model namespace.

    Raises :class:`FormatError` for a DOCTYPE, XML that is not well-formed (located) and a root
    element that is not DMN 1.1 to 1.5 ``definitions``.
    """
    root = parse_hardened(data, kind="DMN", format=FORMAT, source=source)
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
