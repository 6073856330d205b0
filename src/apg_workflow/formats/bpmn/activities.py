"""Tasks of every kind and call activities (sub-processes live in :mod:`.containers`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.extensions.apg import apg_extensions
from apg_workflow.formats.bpmn.loops import LOOP_CHILDREN, write_loop
from apg_workflow.formats.bpmn.namespaces import ACTIVITI, APG, CAMUNDA, FLOWABLE, SPIFF, ZEEBE, bpmn
from apg_workflow.formats.bpmn.reading import (
    NAMED,
    AttributeParser,
    Draft,
    ElementSpec,
    ReadContext,
    boolean,
    child_text,
    read_into,
    reader_for,
    reference,
    text,
)
from apg_workflow.formats.bpmn.registry import Category
from apg_workflow.formats.bpmn.writing import WriteContext, connections, element, optional_flag
from apg_workflow.formats.bpmn.xmlout import Node
from apg_workflow.model import (
    Activity,
    BusinessRuleTask,
    CallActivity,
    ManualTask,
    ReceiveTask,
    Script,
    ScriptTask,
    SendTask,
    ServiceTask,
    Task,
    UserTask,
)

ACTIVITY_ATTRIBUTES: Mapping[str, tuple[str, AttributeParser]] = MappingProxyType(
    {**NAMED, "isForCompensation": ("is_for_compensation", boolean), "default": ("default", text)}
)
ACTIVITY_CHILDREN = MappingProxyType(dict(LOOP_CHILDREN))


def _script_format(value: str, element: etree._Element, context: ReadContext) -> Script:
    """``scriptFormat`` alone (no ``<script>``) is an empty script in that language."""
    return Script("", value)


def _script(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    if draft.owners.get("script") == "bpmn":
        return False
    draft.set("script", Script(child_text(child), child.getparent().get("scriptFormat")))
    draft.owners["script"] = "bpmn"
    return True


def _task_spec(
    cls: type,
    attributes: Mapping[str, tuple[str, AttributeParser]] = MappingProxyType({}),
    children: Mapping[str, Any] = MappingProxyType({}),
) -> ElementSpec:
    return ElementSpec(
        cls,
        required=("id",),
        attributes={**ACTIVITY_ATTRIBUTES, **attributes},
        children={**ACTIVITY_CHILDREN, **children},
    )


_TASKS: dict[str, ElementSpec] = {
    "task": _task_spec(Task),
    "manualTask": _task_spec(ManualTask),
    "userTask": _task_spec(UserTask),
    "businessRuleTask": _task_spec(BusinessRuleTask),
    "serviceTask": _task_spec(ServiceTask, {"implementation": ("implementation", text)}),
    "sendTask": _task_spec(SendTask, {"messageRef": ("message_ref", reference)}),
    "receiveTask": _task_spec(
        ReceiveTask, {"messageRef": ("message_ref", reference), "instantiate": ("instantiate", boolean)}
    ),
    "scriptTask": _task_spec(
        ScriptTask, {"scriptFormat": ("script", _script_format)}, {bpmn("script"): _script}
    ),
}
_CALL_ACTIVITY = _task_spec(CallActivity, {"calledElement": ("called_element", reference)})

for _local, _spec in _TASKS.items():
    registry.flow_reader(Category.NODE, bpmn(_local))(reader_for(_spec))

_PASS_NOTHING = frozenset({CAMUNDA, ACTIVITI, FLOWABLE})


def passes_all_by_default(namespaces: Iterable[str], mapped: bool) -> bool:
    """Whether a call activity of a file declaring ``namespaces`` passes every variable in and out
    when the file does not say (``mapped``: it has input or output mappings).

    Files we write say it (``apg:propagateAll``). Zeebe passes everything unless
    ``propagateAllChildVariables`` is false; SpiffWorkflow passes everything when nothing is mapped;
    Camunda 7, Activiti and Flowable pass nothing without ``in`` / ``out`` mappings. A file of none
    of these dialects follows SpiffWorkflow, whose older files declare no namespace of their own.
    """
    uris = set(namespaces)
    if APG in uris:
        return False
    if ZEEBE in uris:
        return True
    if SPIFF in uris or not uris & _PASS_NOTHING:
        return not mapped
    return False


@registry.flow_reader(Category.NODE, bpmn("callActivity"))
def _read_call_activity(element: etree._Element, context: ReadContext) -> CallActivity:
    draft = read_into(Draft(CallActivity, element), element, _CALL_ACTIVITY, context)
    mapped = bool(draft.values.get("inputs") or draft.values.get("outputs"))
    if draft.free("propagate_all") and passes_all_by_default(element.nsmap.values(), mapped):
        draft.set("propagate_all", True)
    activity: CallActivity = draft.build(_CALL_ACTIVITY.defaults)
    return activity


def activity_attributes(activity: Activity) -> list[tuple[str, str | None]]:
    return [
        ("name", activity.name),
        ("isForCompensation", optional_flag(activity.is_for_compensation, False)),
        ("default", activity.default),
    ]


def activity_children(activity: Activity, context: WriteContext) -> list[Node]:
    loop = [] if activity.loop is None else [write_loop(activity.loop)]
    return [*connections(activity.id, context), *loop]


_Attributes = list[tuple[str, str | None]]
# The attributes particular to each task type (all others have only the activity's).
_SPECIFIC: dict[type, Callable[[Any], _Attributes]] = {
    ServiceTask: lambda task: [("implementation", task.implementation)],
    SendTask: lambda task: [("messageRef", task.message_ref)],
    ReceiveTask: lambda task: [
        ("messageRef", task.message_ref),
        ("instantiate", optional_flag(task.instantiate, False)),
    ],
    ScriptTask: lambda task: [("scriptFormat", None if task.script is None else task.script.format)],
    CallActivity: lambda task: [("calledElement", task.called_element)],
}


@registry.writer(
    Task, ManualTask, UserTask, BusinessRuleTask, ServiceTask, SendTask, ReceiveTask, ScriptTask, CallActivity
)
def _write_task(activity: Activity, context: WriteContext) -> Node:
    children = activity_children(activity, context)
    if isinstance(activity, ScriptTask) and activity.script is not None:
        children.append(Node(bpmn("script"), text=activity.script.text))
    specific = _SPECIFIC.get(type(activity))
    attributes = [*activity_attributes(activity), *(specific(activity) if specific else [])]
    return element(activity.KIND.value, activity, attributes, children, apg_extensions(activity))
