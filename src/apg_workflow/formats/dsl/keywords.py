"""Which keyword writes which model class, and the rule of the implicit sequence.

Both directions use these tables: the reader to build a node from ``USER_TASK "Review"``, the
writer to pick the keyword of a node and to predict which flows the reader will add by itself.
"""

from __future__ import annotations

from typing import Any

from apg_workflow import model as m

# Keywords that write one flow node each.
NODE_KEYWORDS: dict[str, type[m.FlowNode]] = {
    "START": m.StartEvent,
    "END": m.EndEvent,
    "WAIT": m.IntermediateCatchEvent,
    "THROW": m.IntermediateThrowEvent,
    "ON": m.BoundaryEvent,
    "TASK": m.Task,
    "USER_TASK": m.UserTask,
    "SERVICE_TASK": m.ServiceTask,
    "SCRIPT_TASK": m.ScriptTask,
    "MANUAL_TASK": m.ManualTask,
    "BUSINESS_RULE_TASK": m.BusinessRuleTask,
    "SEND_TASK": m.SendTask,
    "RECEIVE_TASK": m.ReceiveTask,
    "CALL": m.CallActivity,
    "SUBPROCESS": m.SubProcess,
    "EVENT_SUBPROCESS": m.SubProcess,
    "TRANSACTION": m.Transaction,
    "ADHOC_SUBPROCESS": m.AdHocSubProcess,
    "EXCLUSIVE_GATEWAY": m.ExclusiveGateway,
    "PARALLEL_GATEWAY": m.ParallelGateway,
    "INCLUSIVE_GATEWAY": m.InclusiveGateway,
    "EVENT_GATEWAY": m.EventBasedGateway,
    "COMPLEX_GATEWAY": m.ComplexGateway,
}
# Fields a keyword implies beyond its class.
KEYWORD_FIELDS: dict[str, dict[str, Any]] = {"EVENT_SUBPROCESS": {"triggered_by_event": True}}

# Blocks that split the sequence into branches and join them again: keyword → gateway class.
SPLIT_KEYWORDS: dict[str, type[m.Gateway]] = {
    "DECISION": m.ExclusiveGateway,
    "INCLUSIVE": m.InclusiveGateway,
    "PARALLEL": m.ParallelGateway,
}

# Definition-level keywords: they appear at the top of a file only.
DECLARATION_KEYWORDS: dict[str, type[m.BaseElement]] = {
    "MESSAGE": m.Message,
    "SIGNAL": m.Signal,
    "ERROR": m.Error,
    "ESCALATION": m.Escalation,
}
TOP_LEVEL_KEYWORDS = frozenset({"WORKFLOW", "DEFINITIONS", *DECLARATION_KEYWORDS})


def keyword_of(node: m.FlowNode) -> str:
    """The keyword the writer uses for ``node``."""
    if type(node) is m.SubProcess and node.triggered_by_event:
        return "EVENT_SUBPROCESS"
    return _CLASS_KEYWORDS[type(node)]


_CLASS_KEYWORDS = {cls: kw for kw, cls in NODE_KEYWORDS.items() if kw not in KEYWORD_FIELDS}


def kind_name(cls: type[m.BaseElement]) -> str:
    """The kind used in derived ids (``userTask_1``) and in messages."""
    kind = getattr(cls, "KIND", None)
    return kind.value if kind is not None else cls.__name__[0].lower() + cls.__name__[1:]


# ---------------------------------------------------------------------------------------------
# The implicit sequence: each step follows the one written before it.


def in_sequence(cls: type[m.FlowNode], triggered_by_event: bool) -> bool:
    """Whether a node takes part in the implicit sequence at all.

    Boundary events hang off their activity and event sub-processes start on their own: neither
    is connected to the line before, and the line after still follows the step before them.
    """
    return not issubclass(cls, m.BoundaryEvent) and not (issubclass(cls, m.SubProcess) and triggered_by_event)


def receives_sequence(cls: type[m.FlowNode]) -> bool:
    """A start event begins a new sequence instead of following the step before it."""
    return not issubclass(cls, m.StartEvent)


def continues_sequence(cls: type[m.FlowNode]) -> bool:
    """An end event ends the sequence: the next step does not follow it."""
    return not issubclass(cls, m.EndEvent)
