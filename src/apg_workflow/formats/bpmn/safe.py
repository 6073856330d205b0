"""Hardened XML parsing: no DTDs, no entities, no network, no file access.

A BPMN file never needs a DOCTYPE, so any DOCTYPE is refused *before* the parser sees it: entity
bombs ("billion laughs") and external entities (XXE: ``SYSTEM "file:///etc/passwd"``, parameter
entities fetching URLs) never get a chance to expand or to read anything. The parser itself is
configured defensively as well (no entity substitution, no DTD loading, no network, libxml2's
default depth and size limits), in case a DOCTYPE hides behind an encoding the pre-scan cannot read.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from apg_workflow.formats.bpmn.namespaces import MODEL, bpmn
from apg_workflow.formats.errors import FormatError

_FORMAT = "bpmn"
# What may come before the root element: white space, the XML declaration, processing
# instructions and comments.
_PROLOG_ITEM = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_DOCTYPE = re.compile(rb"\s*<!DOCTYPE", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^<\?xml[^>]*\?>")
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_REFUSED = (
    "DOCTYPE/entity declarations are not allowed in BPMN files: they can expand entities or read "
    "other files, and BPMN 2.0 never needs them; remove the <!DOCTYPE …> declaration"
)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def _as_bytes(data: str | bytes) -> bytes:
    """Bytes lxml can read, with line and column numbers unchanged.

    Text is encoded as UTF-8 and its XML declaration blanked out (it may name another encoding);
    UTF-16/32 bytes with a byte order mark are decoded first so that the DOCTYPE scan can read them.
    """
    if isinstance(data, bytes):
        if not data.startswith(_WIDE_BOMS):
            return data
        data = data.decode("utf-32" if data.startswith(_WIDE_BOMS[:2]) else "utf-16")
    text = data.removeprefix("\ufeff")
    declaration = _XML_DECLARATION.match(text)
    if declaration:
        text = " " * declaration.end() + text[declaration.end() :]
    return text.encode("utf-8")


def _refuse_doctype(data: bytes, source: str | None) -> None:
    position = 3 if data.startswith(codecs.BOM_UTF8) else 0
    while (item := _PROLOG_ITEM.match(data, position)) is not None:
        position = item.end()
    doctype = _DOCTYPE.match(data, position)
    if doctype is not None:
        start = doctype.end() - len(b"<!DOCTYPE")
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise FormatError.at(
            _REFUSED, format=_FORMAT, line=line, column=column, code="security", source=source
        )


def parse_xml(data: str | bytes, *, source: str | None = None) -> etree._Element:
    """The root element of a BPMN 2.0 document, parsed safely.

    Raises :class:`FormatError` for a DOCTYPE, XML that is not well-formed (with lxml's line and
    column) and a root element other than BPMN ``definitions``.
    """
    raw = _as_bytes(data)
    _refuse_doctype(raw, source)
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        message = (exc.msg or str(exc)).strip()
        raise FormatError.at(
            f"the XML is not well-formed: {message}", format=_FORMAT, line=line, column=column, source=source
        ) from None
    except ValueError as exc:  # lxml refuses some inputs (unknown encodings, …) before parsing
        raise FormatError.at(f"cannot read the XML: {exc}", format=_FORMAT, source=source) from None
    if root.getroottree().docinfo.doctype:
        raise FormatError.at(_REFUSED, format=_FORMAT, line=1, code="security", source=source)
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
