"""Hardened XML parsing for every XML format we read (BPMN, DMN): no DTDs, no entities, no
network, no file access.

Our formats never need a DOCTYPE, so any DOCTYPE is refused *before* the parser sees it: entity
bombs ("billion laughs") and external entities (XXE: ``SYSTEM "file:///etc/passwd"``, parameter
entities fetching URLs) never get a chance to expand or to read anything. The parser itself is
configured defensively as well (no entity substitution, no DTD loading, no network, libxml2's
default depth and size limits), in case a DOCTYPE hides behind an encoding the pre-scan cannot read.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from apg_workflow.formats.errors import FormatError

# What may come before the root element: white space, the XML declaration, processing
# instructions and comments.
_PROLOG_ITEM = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_DOCTYPE = re.compile(rb"\s*<!DOCTYPE", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^<\?xml[^>]*\?>")
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _refused(kind: str) -> str:
    return (
        f"DOCTYPE/entity declarations are not allowed in {kind} files: they can expand entities or "
        f"read other files, and {kind} never needs them; remove the <!DOCTYPE …> declaration"
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


def _refuse_doctype(data: bytes, *, kind: str, format: str, source: str | None) -> None:
    position = 3 if data.startswith(codecs.BOM_UTF8) else 0
    while (item := _PROLOG_ITEM.match(data, position)) is not None:
        position = item.end()
    doctype = _DOCTYPE.match(data, position)
    if doctype is not None:
        start = doctype.end() - len(b"<!DOCTYPE")
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise FormatError.at(
            _refused(kind), format=format, line=line, column=column, code="security", source=source
        )


def parse_hardened(data: str | bytes, *, kind: str, format: str, source: str | None = None) -> etree._Element:
    """The root element of an XML document, parsed safely. ``kind`` names the format in messages
    ("BPMN", "DMN"); ``format`` is the FormatError's format.

    Raises :class:`FormatError` for a DOCTYPE and for XML that is not well-formed (with lxml's line
    and column). Checking the root element is the caller's business.
    """
    raw = _as_bytes(data)
    _refuse_doctype(raw, kind=kind, format=format, source=source)
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        message = (exc.msg or str(exc)).strip()
        raise FormatError.at(
            f"the XML is not well-formed: {message}", format=format, line=line, column=column, source=source
        ) from None
    except ValueError as exc:  # lxml refuses some inputs (unknown encodings, …) before parsing
        raise FormatError.at(f"cannot read the XML: {exc}", format=format, source=source) from None
    if root.getroottree().docinfo.doctype:
        raise FormatError.at(_refused(kind), format=format, line=1, code="security", source=source)
    return root


__all__ = ["parse_hardened"]
