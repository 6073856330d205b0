"""The ``key: value`` properties of the DSL: one table, read by the reader and by the writer.

Each :class:`Prop` names its key, the model classes it applies to, how a value sets model fields,
and how those fields are written back. The writer prints the properties of an object in the
order of this table, leaving out those at their default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from apg_workflow import model as m
from apg_workflow.formats.dsl import structures
from apg_workflow.formats.dsl import values as v
from apg_workflow.formats.dsl.syntax import (
    Entry,
    ListValue,
    MappingValue,
    Pos,
    Ref,
    Scalar,
    SourceError,
    Tagged,
    Value,
)

Fields = dict[str, Any]
Reader = Callable[[Value, Fields], None]
Writer = Callable[[Any], Value | None]


@dataclass(frozen=True, slots=True)
class Prop:
    key: str
    owners: tuple[type, ...]
    read: Reader
    write: Writer | None = None  # None: a shorthand the writer never uses
    target: str | None = None  # what it sets, so that two properties setting one thing are refused


# ---------------------------------------------------------------------------------------------
# Small builders of properties


def _field(
    key: str,
    owners: tuple[type, ...],
    name: str,
    read: Callable[[Value, str], Any],
    write: Callable[[Any], Value | None],
    default: Any = None,
) -> Prop:
    """A property that sets one model field."""

    def reader(value: Value, out: Fields) -> None:
        out[name] = read(value, key)

    def writer(obj: Any) -> Value | None:
        current = getattr(obj, name)
        return None if current == default else write(current)

    return Prop(key, owners, reader, writer, name)


def _text(key: str, owners: tuple[type, ...], name: str) -> Prop:
    return _field(key, owners, name, v.text, v.of_text)


def _word(key: str, owners: tuple[type, ...], name: str) -> Prop:
    return _field(key, owners, name, v.text, v.of_word)


def _flag(key: str, owners: tuple[type, ...], name: str, default: bool) -> Prop:
    return _field(key, owners, name, v.boolean, Scalar, default)


def _expression(key: str, owners: tuple[type, ...], name: str) -> Prop:
    return _field(key, owners, name, v.expression, v.of_expression)


def _mappings(key: str) -> Prop:
    def reader(value: Value, out: Fields) -> None:
        out[key] = tuple(
            m.DataMapping(entry.key, v.expression(entry.value, f"{key}.{entry.key}"))
            for entry in v.mapping(value, key)
        )

    def writer(node: m.FlowNode) -> Value | None:
        found: tuple[m.DataMapping, ...] = getattr(node, key)
        return (
            MappingValue(tuple(Entry(x.target, v.of_expression(x.source)) for x in found)) if found else None
        )

    return Prop(key, (m.FlowNode,), reader, writer, key)


def _assignment(key: str, read: Callable[[Value, str], Any], write: Callable[[Any], Value]) -> Prop:
    def reader(value: Value, out: Fields) -> None:
        out["assignment"] = replace(out.get("assignment", m.Assignment()), **{key: read(value, key)})

    def writer(node: m.UserTask) -> Value | None:
        current = getattr(node.assignment, key)
        return None if current in (None, ()) else write(current)

    return Prop(key, (m.UserTask,), reader, writer, f"assignment.{key}")


def _texts(items: tuple[str, ...]) -> Value:
    return ListValue(tuple(v.of_word(item) for item in items))


_COMPONENT_OWNERS = (m.ServiceTask, m.SendTask, m.BusinessRuleTask)


def _read_component(value: Value, out: Fields) -> None:
    config, _ = out.pop("_config", (m.EMPTY, None))  # a config: written before the component:
    out["component"] = m.ComponentRef(type=v.text(value, "component"), config=config)


def _write_component(node: Any) -> Value | None:
    component: m.ComponentRef | None = node.component
    return v.of_word(component.type) if component else None


def _read_config(value: Value, out: Fields) -> None:
    config = v.json_object(value, "config")
    if "component" in out:
        out["component"] = replace(out["component"], config=config)
    else:
        out["_config"] = (config, value.pos)


def _write_config(node: Any) -> Value | None:
    component: m.ComponentRef | None = node.component
    return v.of_json(m.thaw(component.config)) if component and component.config else None


def _read_script(value: Value, out: Fields) -> None:
    if isinstance(value, Tagged):
        out["script"] = m.Script(value.text, value.tag)
    else:
        out["script"] = m.Script(v.text(value, "script"))


def _write_script(node: m.ScriptTask) -> Value | None:
    script = node.script
    if script is None:
        return None
    return Tagged(script.format, script.text) if script.format is not None else v.of_text(script.text)


def _read_header(name: str) -> Reader:
    """``id:`` and ``name:``: the same as the id and "name" of a statement's first line."""

    def reader(value: Value, out: Fields) -> None:
        out[name] = v.text(value, name)

    return reader


def _read_reference(name: str) -> Reader:
    """A reference to an element or flow checked once every id is known (``default``, ``attached_to``)."""

    def reader(value: Value, out: Fields) -> None:
        out[name] = Ref(v.text(value, name), value.pos or Pos(0, 0))

    return reader


def _write_default(node: Any) -> Value | None:
    return v.of_word(node.default) if node.default is not None else None


def _read_timer(kind: m.TimerKind) -> Reader:
    """``duration:``, ``date:`` and ``cycle:`` on an event: one more timer definition."""

    def reader(value: Value, out: Fields) -> None:
        timer = v.timer(kind, v.expression(value, kind.value), value.pos)
        out["definitions"] = (*out.get("definitions", ()), timer)

    return reader


def _read_parallel_multiple(value: Value, out: Fields) -> None:
    out["parallel_multiple"] = out.get("parallel_multiple", False) or v.boolean(value, "parallel_multiple")


def _write_parallel_multiple(node: m.Event) -> Value | None:
    return Scalar(True) if node.parallel_multiple and len(node.definitions) < 2 else None


def _read_flows(value: Value, out: Fields) -> None:
    out["_explicit"] = v.choice(value, "flows", ("implicit", "explicit")) == "explicit"


def _due(key: str) -> Prop:
    """``UserTask.due``: ``duration: "2h"`` (a duration, made ISO 8601) or ``due: "..."`` (as
    written: a date-time, an expression)."""
    as_duration = key == "duration"

    def reader(value: Value, out: Fields) -> None:
        out["due"] = v.duration(value, key) if as_duration else v.text(value, key)

    def writer(node: m.UserTask) -> Value | None:
        if node.due is None or m.is_iso_duration(node.due) != as_duration:
            return None
        return v.of_duration(node.due) if as_duration else v.of_text(node.due)

    return Prop(key, (m.UserTask,), reader, writer, "due")


def _read_triggered_by_event(value: Value, out: Fields) -> None:
    out["triggered_by_event"] = v.boolean(value, "triggered_by_event")


def _write_triggered_by_event(node: m.SubProcess) -> Value | None:
    """Only transactions and ad-hoc sub-processes say it: a sub-process is an EVENT_SUBPROCESS."""
    return Scalar(True) if node.triggered_by_event and type(node) is not m.SubProcess else None


_GATEWAYS_WITH_DEFAULT = (m.ExclusiveGateway, m.InclusiveGateway, m.ComplexGateway)
_CONTAINERS = (m.Process, m.SubProcess)

PROPS: tuple[Prop, ...] = (
    Prop("id", (m.BaseElement,), _read_header("id"), None, "id"),
    Prop("name", (m.BaseElement,), _read_header("name"), None, "name"),
    _text("description", (m.BaseElement,), "documentation"),
    Prop("flows", _CONTAINERS, _read_flows, None, "_explicit"),
    _flag("executable", (m.Process,), "is_executable", True),
    _text("version_tag", (m.Process,), "version_tag"),
    _text("target_namespace", (m.Definitions,), "target_namespace"),
    _text("exporter", (m.Definitions,), "exporter"),
    _text("exporter_version", (m.Definitions,), "exporter_version"),
    _word("item_ref", (m.Message,), "item_ref"),
    _text("code", (m.Error,), "error_code"),
    _text("code", (m.Escalation,), "escalation_code"),
    _expression("payload", (m.Error, m.Escalation), "payload"),
    _word("payload_variable", (m.Error, m.Escalation), "payload_variable"),
    _expression("condition", (m.SequenceFlow,), "condition"),
    # events
    _flag("interrupting", (m.StartEvent,), "is_interrupting", True),
    _flag("interrupting", (m.BoundaryEvent,), "cancel_activity", True),
    Prop("attached_to", (m.BoundaryEvent,), _read_reference("attached_to"), None, "attached_to"),
    Prop("parallel_multiple", (m.Event,), _read_parallel_multiple, _write_parallel_multiple),
    Prop("duration", (m.Event,), _read_timer(m.TimerKind.DURATION)),
    Prop("date", (m.Event,), _read_timer(m.TimerKind.DATE)),
    Prop("cycle", (m.Event,), _read_timer(m.TimerKind.CYCLE)),
    # activities
    Prop("component", _COMPONENT_OWNERS, _read_component, _write_component, "component"),
    Prop("config", _COMPONENT_OWNERS, _read_config, _write_config, "config"),
    _text("implementation", (m.ServiceTask,), "implementation"),
    _word("message", (m.SendTask, m.ReceiveTask), "message_ref"),
    _expression("correlation_key", (m.ReceiveTask,), "correlation_key"),
    _flag("instantiate", (m.ReceiveTask,), "instantiate", False),
    Prop("script", (m.ScriptTask,), _read_script, _write_script, "script"),
    _word("decision", (m.BusinessRuleTask,), "decision_ref"),
    _word("result_variable", (m.ServiceTask, m.ScriptTask, m.BusinessRuleTask), "result_variable"),
    _word("process", (m.CallActivity,), "called_element"),
    _flag("propagate_all", (m.CallActivity,), "propagate_all", False),
    _due("duration"),
    _due("due"),
    _assignment("assignee", v.text, v.of_word),
    _assignment("candidate_users", v.texts, _texts),
    _assignment("candidate_groups", v.texts, _texts),
    _field("form", (m.UserTask,), "form", structures.read_form, structures.write_form),
    _field("priority", (m.UserTask,), "priority", v.integer, Scalar),
    Prop(
        "triggered_by_event",
        (m.SubProcess,),
        _read_triggered_by_event,
        _write_triggered_by_event,
        "triggered_by_event",
    ),
    _expression("completion_condition", (m.AdHocSubProcess,), "completion_condition"),
    _text("ordering", (m.AdHocSubProcess,), "ordering"),
    _field("loop", (m.Activity,), "loop", structures.read_loop, structures.write_loop),
    _field(
        "multi_instance",
        (m.Activity,),
        "loop",
        structures.read_multi_instance,
        structures.write_multi_instance,
    ),
    _field("retry", (m.Activity,), "retry", structures.read_retry, structures.write_retry),
    _field("sla", (m.Activity,), "sla", v.duration, v.of_duration),
    _flag("compensation", (m.Activity,), "is_for_compensation", False),
    _text("pre_script", (m.Activity,), "pre_script"),
    _text("post_script", (m.Activity,), "post_script"),
    Prop(
        "default",
        (m.Activity, *_GATEWAYS_WITH_DEFAULT),
        _read_reference("default"),
        _write_default,
        "default",
    ),
    # gateways
    _text("direction", (m.Gateway,), "direction"),
    _flag("instantiate", (m.EventBasedGateway,), "instantiate", False),
    _flag("exclusive", (m.EventBasedGateway,), "exclusive", True),
    _expression("activation_condition", (m.ComplexGateway,), "activation_condition"),
    _mappings("inputs"),
    _mappings("outputs"),
)


def props_for(cls: type) -> tuple[Prop, ...]:
    return tuple(prop for prop in PROPS if issubclass(cls, prop.owners))


def read_properties(
    entries: Iterable[Entry], cls: type, out: Fields, where: str, given: dict[str, str]
) -> None:
    """Apply ``entries`` to ``out`` (model field → value). ``given`` maps what is already set
    (``id``, ``name`` from the header) to where it was written, and collects what these set."""
    table = {prop.key: prop for prop in props_for(cls)}
    for entry in entries:
        prop = table.get(entry.key)
        if prop is None:
            raise structures.unknown_key(entry, where, table)
        if prop.target is not None:
            if prop.target in given:
                raise SourceError(f"'{entry.key}' repeats what {given[prop.target]} already sets", entry.pos)
            given[prop.target] = f"'{entry.key}'"
        prop.read(v.located(entry.value, entry.pos), out)
    if "_config" in out:
        _, pos = out.pop("_config")
        raise SourceError("config: needs a component: (the component the configuration is for)", pos)


def written_properties(obj: Any, skip: frozenset[str] = frozenset()) -> list[Entry]:
    """The properties that write ``obj``'s fields, in table order, defaults left out."""
    found = []
    for prop in props_for(type(obj)):
        if prop.write is None or prop.key in skip:
            continue
        value = prop.write(obj)
        if value is not None:
            found.append(Entry(prop.key, value))
    return found
