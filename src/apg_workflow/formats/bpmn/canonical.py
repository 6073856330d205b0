"""Foreign XML kept verbatim in :class:`~apg_workflow.model.Preserved`, in a canonical form.

A preserved element is stored in the manner of Exclusive XML Canonicalization (C14N) of its
subtree: attributes and namespace declarations sorted, exactly the namespaces the fragment uses
declared on it (libxml2's own C14N is not used: it refuses the relative namespace URIs some tools
declare). Two more rules make the form stable when the fragment is written into another document
and read back:

* white space that only indents (text of elements that have children, and tails) is dropped, so
  the writer may pretty-print fragments;
* prefixes that occur inside attribute values or text as QNames (``xsi:type="bpmn:tFormalExpression"``,
  ``itemSubjectRef="tns:Order"``) are declared on the fragment too, so they keep their meaning
  wherever the fragment lands.
"""

from __future__ import annotations

import re

from lxml import etree

from apg_workflow.formats.bpmn.namespaces import XML, split

_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})
_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"}
)
# "prefix:local" at the start of a value; "http://" and the like are not QNames.
_QNAME = re.compile(r"\s*([A-Za-z_][\w.\-]*):(?!/)")


def _qname_prefixes(element: etree._Element) -> list[str]:
    found: set[str] = set()
    for node in element.iter():
        candidates = [*node.attrib.values(), node.text or ""]
        for value in candidates:
            match = _QNAME.match(value)
            if match and match.group(1) not in found and match.group(1) in node.nsmap:
                found.add(match.group(1))
    return sorted(found)


def _drop_indentation(element: etree._Element) -> None:
    for node in element.iter():
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
        if node is not element and node.tail is not None and not node.tail.strip():
            node.tail = None


def _prefix_for(uri: str, nsmap: dict[str | None, str], preferred: str | None) -> str:
    """The prefix an attribute in namespace ``uri`` is written with (the element's own if it fits)."""
    if uri == XML:
        return "xml"
    if preferred is not None and nsmap.get(preferred) == uri:
        return preferred
    return min(prefix for prefix, bound in nsmap.items() if prefix is not None and bound == uri)


def _render(
    node: etree._Element, out: list[str], rendered: dict[str | None, str], inclusive: list[str]
) -> None:
    """Exclusive canonical XML of ``node``: declarations for the prefixes it uses (and ``inclusive``)
    that no ancestor in the output declared the same way; attributes by namespace and name."""
    nsmap = node.nsmap
    uri, local = split(str(node.tag))
    needed: set[str | None] = {node.prefix, *inclusive}
    attributes: list[tuple[tuple[str, str], str, str]] = []
    for name, value in node.attrib.items():
        attribute_uri, attribute_local = split(name)
        if attribute_uri:
            prefix = _prefix_for(attribute_uri, nsmap, node.prefix)
            needed.add(prefix)
            attributes.append(((attribute_uri, attribute_local), f"{prefix}:{attribute_local}", value))
        else:
            attributes.append((("", attribute_local), attribute_local, value))
    scope = dict(rendered)
    declarations: list[tuple[str, str]] = []
    for prefix in needed:
        bound = uri if prefix == node.prefix else nsmap.get(prefix)
        if prefix == "xml" or bound is None or scope.get(prefix, "") == bound:
            continue
        declarations.append((prefix or "", bound))
        scope[prefix] = bound
    tag = f"{node.prefix}:{local}" if node.prefix else local
    declared = "".join(
        f' xmlns{":" + prefix if prefix else ""}="{bound.translate(_ATTRIBUTE)}"'
        for prefix, bound in sorted(declarations)
    )
    written = "".join(f' {name}="{value.translate(_ATTRIBUTE)}"' for _, name, value in sorted(attributes))
    out.append(f"<{tag}{declared}{written}>")
    if node.text:
        out.append(node.text.translate(_TEXT))
    for child in node:
        _render(child, out, scope, [])
        if child.tail:
            out.append(child.tail.translate(_TEXT))
    out.append(f"</{tag}>")


def canonical(element: etree._Element) -> str:
    """The canonical XML of ``element`` and its subtree (the element's tail excluded).

    Drops indentation white space inside ``element`` (the tree is the reader's own, parsed for
    this read only).
    """
    _drop_indentation(element)
    out: list[str] = []
    _render(element, out, {}, _qname_prefixes(element))
    return "".join(out)
