"""XML in, hardened: no DOCTYPE, no entities, no network, no file access."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lxml import etree
from pydantic import Field

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data._base import DataComponent, prop, shape

_PROLOG_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_DOCTYPE = re.compile(r"\s*<!DOCTYPE", re.IGNORECASE)
_POSITION = re.compile(r",\s*line \d+, column \d+$")  # lxml repeats the position in its message
_XML_DECLARATION = re.compile(r"<\?xml[^>]*\?>")
_REFUSED = (
    "DOCTYPE and entity declarations are not accepted: they can expand entities without bound "
    "(billion laughs) or read files and URLs (XXE); remove the <!DOCTYPE …> declaration"
)


def _prolog_end(text: str) -> int:
    """Where the prolog's declaration, comments, processing instructions and white space end."""
    position = 0
    while (item := _PROLOG_ITEM.match(text, position)) is not None:
        position = item.end()
    return position


def _parser() -> etree.XMLParser:
    """A parser that substitutes no entities, loads no DTD, touches no network and keeps
    libxml2's limits on depth and node size (no ``huge_tree``)."""
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


class XmlParseConfig(ComponentConfig):
    strip_namespaces: bool = Field(
        True, description="Name elements and attributes by their local name (`Order`), else `prefix:Order`."
    )
    attribute_prefix: str = Field(
        "@", min_length=1, max_length=5, description="Prefix of the keys holding attributes."
    )
    text_key: str = Field(
        "#text",
        min_length=1,
        max_length=20,
        description="Key of an element's text when it also has attributes or children.",
    )
    force_list: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="Element names (local, or as written in the output) that always become lists, even "
        "when they occur once (e.g. `line`).",
    )


class XmlParse(DataComponent[XmlParseConfig]):
    type = "data.xml_parse"
    title = "Parse XML"
    description = (
        "Reads XML text into an object, the common way: an element with only text becomes that text, "
        "otherwise an object of its attributes (`@name`), children (repeated ones as a list) and text "
        "(`#text`). Hardened: documents with a DOCTYPE are refused, so no entity expansion (billion "
        "laughs) or external entity (XXE) can happen, and nothing is fetched."
    )
    Config = XmlParseConfig
    inputs = shape(required=("text",), text=prop("the XML document", "string"))
    outputs = shape(result=prop("`{root element name: its content}`", "object"))
    examples = (
        {
            "config": {"force_list": ["line"]},
            "inputs": {"text": '<order id="7"><customer>Ada</customer><line sku="A-1">2</line></order>'},
            "outputs": {
                "result": {"order": {"@id": "7", "customer": "Ada", "line": [{"@sku": "A-1", "#text": "2"}]}}
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: XmlParseConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        root = self._parse(self.text(inputs))
        return {"result": {self._name(root, config): self._convert(root, config)}}

    def _parse(self, text: str) -> etree._Element:
        text = text.removeprefix("\ufeff")
        if _DOCTYPE.match(text, _prolog_end(text)):
            raise self.invalid(_REFUSED)
        declaration = _XML_DECLARATION.match(text)  # the text is decoded already: its encoding is moot
        if declaration:
            text = " " * declaration.end() + text[declaration.end() :]
        try:
            root = etree.fromstring(text.encode("utf-8"), _parser())
        except etree.XMLSyntaxError as exc:
            where = f" at line {exc.position[0]}, column {exc.position[1]}" if exc.position else ""
            raise self.invalid(
                f"the XML is not well-formed{where}: {_POSITION.sub('', (exc.msg or str(exc)).strip())}"
            ) from None
        except ValueError as exc:  # text lxml cannot take (lone surrogates, …)
            raise self.invalid(f"cannot read the XML: {exc}") from None
        if root.getroottree().docinfo.doctype:  # a DOCTYPE the scan above could not see
            raise self.invalid(_REFUSED)
        return root

    def _name(self, node: etree._Element, config: XmlParseConfig) -> str:
        qname = etree.QName(node)
        if config.strip_namespaces or not node.prefix:
            return qname.localname
        return f"{node.prefix}:{qname.localname}"

    def _convert(self, node: etree._Element, config: XmlParseConfig) -> Any:
        texts = [node.text or ""]
        content: dict[str, Any] = {
            config.attribute_prefix + self._attribute(name, node, config): value
            for name, value in node.attrib.items()
        }
        listed: set[str] = set()  # names whose value is a list of children
        for child in node:
            texts.append(child.tail or "")
            name = self._name(child, config)
            value = self._convert(child, config)
            if name in listed:
                content[name].append(value)
            elif name in content:
                content[name] = [content[name], value]
                listed.add(name)
            elif name in config.force_list or etree.QName(child).localname in config.force_list:
                content[name] = [value]
                listed.add(name)
            else:
                content[name] = value
        text = "".join(texts).strip()
        if not content:
            return text or None
        if text:
            content[config.text_key] = text
        return content

    def _attribute(self, name: str, node: etree._Element, config: XmlParseConfig) -> str:
        qname = etree.QName(name)
        if config.strip_namespaces or qname.namespace is None:
            return qname.localname
        prefix = next((p for p, uri in node.nsmap.items() if uri == qname.namespace and p), None)
        return f"{prefix}:{qname.localname}" if prefix else qname.localname
