"""A small XML tree and serializer for the writer: exact control over prefixes and layout.

lxml re-prefixes and re-declares namespaces when subtrees move between documents; preserved
fragments must keep theirs byte for byte (see :mod:`.canonical`), so the writer builds this
light tree instead and serializes it itself, pretty-printed with two spaces. Text and attribute
values are escaped so that they read back identical (new lines in attributes as ``&#10;``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from apg_workflow.formats.bpmn.namespaces import XML, split
from apg_workflow.formats.errors import FormatError

_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_INDENT = "  "


def _checked(value: str) -> str:
    bad = _NOT_XML.search(value)
    if bad is not None:
        character = f"U+{ord(bad.group()):04X}"
        raise FormatError(
            f"cannot write BPMN: the character {character} in {value[:40]!r} is not allowed in XML",
            format="bpmn",
        )
    return value


class Node:
    """An element to write: Clark tag, attributes (``None`` values are left out), text, children."""

    __slots__ = ("attributes", "children", "tag", "text")

    def __init__(
        self,
        tag: str,
        attributes: Iterable[tuple[str, str | None]] = (),
        *,
        text: str | None = None,
        children: Iterable[Node | Fragment] = (),
    ) -> None:
        self.tag = tag
        self.attributes = [(name, value) for name, value in attributes if value is not None]
        self.text = text
        self.children = list(children)


class Fragment:
    """Preserved XML written as it was kept (re-indented only)."""

    __slots__ = ("element",)

    def __init__(self, xml: str) -> None:
        try:
            self.element = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            raise FormatError(
                f"cannot write BPMN: preserved XML is not well-formed ({exc.msg}): {xml[:80]!r}",
                format="bpmn",
            ) from None

    @property
    def tag(self) -> str:
        return str(self.element.tag)


class Serializer:
    """Writes a :class:`Node` tree with the namespace prefixes given, declared on the root."""

    def __init__(self, declarations: dict[str, str]) -> None:
        self.declarations = dict(declarations)  # prefix ("" for the default namespace) → URI
        self._prefix_of: dict[str, str] = {}
        for prefix, uri in self.declarations.items():
            if prefix:
                self._prefix_of.setdefault(uri, prefix)

    def _name(self, clark: str) -> str:
        uri, local = split(clark)
        if not uri:
            return local
        if uri == XML:
            return f"xml:{local}"
        prefix = self._prefix_of.get(uri)
        if prefix is None:
            number = len(self._prefix_of)
            while f"ns{number}" in self.declarations:
                number += 1
            prefix = f"ns{number}"
            self.declarations[prefix] = uri
            self._prefix_of[uri] = prefix
        return f"{prefix}:{local}"

    def _attributes(self, node: Node) -> str:
        return "".join(
            f' {self._name(name)}="{_checked(value).translate(_ATTRIBUTE)}"'
            for name, value in node.attributes
        )

    def _without_root_declarations(self, element: etree._Element) -> str:
        """A fragment's XML without the namespace declarations the root already makes the same way."""
        xml = etree.tostring(element, encoding="unicode", with_tail=False)
        end = xml.index(">")
        head = xml[:end]
        for prefix, uri in element.nsmap.items():
            if self.declarations.get(prefix or "") == uri:
                declaration = f' xmlns{":" + prefix if prefix else ""}="{uri.translate(_ATTRIBUTE)}"'
                head = head.replace(declaration, "", 1)
        return head + xml[end:]

    def _write(self, item: Node | Fragment, out: list[str], depth: int) -> None:
        pad = "\n" + _INDENT * depth
        if isinstance(item, Fragment):
            etree.indent(item.element, space=_INDENT, level=depth)
            out.append(pad + self._without_root_declarations(item.element))
            return
        name = self._name(item.tag)
        out.append(f"{pad}<{name}{self._attributes(item)}")
        if item.children:
            out.append(">")
            for child in item.children:
                self._write(child, out, depth + 1)
            out.append(f"{pad}</{name}>")
        elif item.text is not None:
            out.append(f">{_checked(item.text).translate(_TEXT)}</{name}>")
        else:
            out.append("/>")

    def serialize(self, root: Node) -> str:
        body: list[str] = []
        for child in root.children:
            self._write(child, body, 1)
        name = self._name(root.tag)
        attributes = self._attributes(root)
        namespaces = "".join(
            f' xmlns{":" + prefix if prefix else ""}="{uri.translate(_ATTRIBUTE)}"'
            for prefix, uri in self.declarations.items()
        )
        head = f'<?xml version="1.0" encoding="UTF-8"?>\n<{name}{namespaces}{attributes}>'
        return head + "".join(body) + f"\n</{name}>\n"
