"""XML namespaces of BPMN 2.0, its diagram interchange, and the dialects we read."""

from __future__ import annotations

MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML = "http://www.w3.org/XML/1998/namespace"

APG = "urn:apg-workflow:bpmn:1.0"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ACTIVITI = "http://activiti.org/bpmn"  # Camunda 7's ancestor: same attributes, older namespace
FLOWABLE = "http://flowable.org/bpmn"  # Activiti's other heir: the same attributes again
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"

# The prefixes the writer always declares, in this order.
STANDARD_PREFIXES: dict[str, str] = {
    "bpmn": MODEL,
    "bpmndi": BPMNDI,
    "dc": DC,
    "di": DI,
    "xsi": XSI,
    "apg": APG,
}

# Namespaces whose elements the schema order tables (:mod:`.schema`) know by local name.
STANDARD_NAMESPACES = frozenset({MODEL, BPMNDI, DC, DI})

XSI_TYPE = f"{{{XSI}}}type"


def bpmn(local: str) -> str:
    """The Clark name of a BPMN model element: ``bpmn("task")`` → ``{…/MODEL}task``."""
    return f"{{{MODEL}}}{local}"


def apg(local: str) -> str:
    return f"{{{APG}}}{local}"


def split(clark: str) -> tuple[str, str]:
    """``{uri}local`` → ``(uri, local)``; a name without namespace → ``("", name)``."""
    if clark[:1] == "{":
        uri, _, local = clark[1:].partition("}")
        return uri, local
    return "", clark


def local_name(clark: str) -> str:
    return clark.rpartition("}")[2]


def namespace_of(clark: str) -> str:
    return split(clark)[0]
