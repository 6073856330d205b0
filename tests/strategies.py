"""Hypothesis strategies for random, valid-looking definitions in the *semantic subset*: what
every format (BPMN XML, JSON, YAML, DSL) must carry without loss.

Not in the subset: diagrams, preserved foreign XML, data objects, artifacts, lanes,
collaborations, namespaces. Event definitions carry no id.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from apg_workflow import model as m

IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_NAME_CHARS = st.characters(
    categories=("L", "N", "P", "Zs", "S"), exclude_characters="\u2028\u2029\x85\xa0\u3000"
)
NAMES = st.text(_NAME_CHARS, min_size=1, max_size=24).filter(lambda s: s == s.strip() and bool(s))
DOCS = st.one_of(
    NAMES,
    st.lists(NAMES, min_size=2, max_size=3).map("\n".join),
)
EXPRESSION_TEXTS = st.sampled_from(
    [
        "amount > 1000",
        'status == "approved"',
        "x < 5 and y >= 3",
        "len(items) > 0",
        "not approved",
        "order['total'] * 1.2",
        "a & b",
        "${approved}",
        "=count > 3",
        "score <= 0.5 or vip",
    ]
)
EXPRESSIONS = st.builds(
    m.Expression, EXPRESSION_TEXTS, st.sampled_from([None, None, None, "python", "feel", "juel"])
)
DURATIONS = st.sampled_from(["PT5M", "PT1H", "PT4H", "P1D", "P2DT3H", "PT30S", "PT1H30M"])
SCRIPTS = st.sampled_from(
    [
        "x = 1",
        "total = sum(i['price'] for i in items)\ndiscount = total * 0.1",
        'message = "Hello, " + name',
        "if amount > 100:\n    level = 'high'\nelse:\n    level = 'low'",
    ]
)
COMPONENT_TYPES = st.sampled_from(["http.request", "data.filter", "noop", "delay", "email.send", "sql.query"])
_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10_000, 10_000),
    st.text(_NAME_CHARS, max_size=12),
    st.sampled_from([1.5, 0.25, -3.75]),
)
JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(IDENT, inner, max_size=3)),
    max_leaves=8,
)
CONFIGS = st.dictionaries(IDENT, JSON_VALUES, max_size=4).map(m.freeze)
MAPPINGS = st.lists(st.builds(m.DataMapping, IDENT, EXPRESSIONS), max_size=3).map(tuple)


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


RETRIES = st.builds(
    m.RetryPolicy,
    max_attempts=st.integers(1, 10),
    initial_backoff=st.sampled_from(["PT1S", "PT10S", "PT1M"]),
    multiplier=st.sampled_from([1.0, 1.5, 2.0]),
    max_backoff=st.sampled_from(["PT5M", "PT1H"]),
    jitter=st.booleans(),
)
LOOPS = st.one_of(
    st.builds(
        m.StandardLoop,
        condition=_opt(EXPRESSIONS),
        test_before=st.booleans(),
        maximum=_opt(st.integers(1, 100)),
    ),
    st.builds(
        m.MultiInstance,
        sequential=st.booleans(),
        cardinality=_opt(EXPRESSIONS),
        input_collection=_opt(EXPRESSIONS),
        input_element=_opt(IDENT),
        output_collection=_opt(IDENT),
        output_element=_opt(EXPRESSIONS),
        completion_condition=_opt(EXPRESSIONS),
    ),
)
FORMS = st.builds(
    m.Form,
    key=_opt(IDENT),
    schema=_opt(
        st.dictionaries(
            IDENT,
            st.sampled_from([{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]),
            min_size=1,
            max_size=3,
        ).map(lambda props: m.freeze({"type": "object", "properties": props}))
    ),
)
ASSIGNMENTS = st.builds(
    m.Assignment,
    assignee=_opt(IDENT),
    candidate_users=st.lists(IDENT, max_size=2, unique=True).map(tuple),
    candidate_groups=st.lists(IDENT, max_size=2, unique=True).map(tuple),
)


class _Refs:
    """Ids of the definition-level objects that event definitions may point at."""

    def __init__(
        self,
        messages: list[str],
        signals: list[str],
        errors: list[str],
        escalations: list[str],
        processes: list[str],
    ) -> None:
        self.messages, self.signals, self.errors = messages, signals, errors
        self.escalations, self.processes = escalations, processes


def _ref(draw: st.DrawFn, pool: list[str]) -> str | None:
    return draw(st.sampled_from(pool)) if pool and draw(st.booleans()) else None


def _event_definition(draw: st.DrawFn, kind: str, refs: _Refs) -> m.EventDefinition:
    if kind == "timer":
        timer = draw(st.sampled_from(list(m.TimerKind)))
        text = {"duration": draw(DURATIONS), "date": "2026-12-01T10:00:00Z", "cycle": "R3/PT10M"}[timer.value]
        return m.TimerDefinition(timer=timer, expression=m.Expression(text))
    if kind == "message":
        return m.MessageDefinition(
            message_ref=_ref(draw, refs.messages), correlation_key=draw(_opt(EXPRESSIONS))
        )
    if kind == "signal":
        return m.SignalDefinition(signal_ref=_ref(draw, refs.signals))
    if kind == "error":
        return m.ErrorDefinition(error_ref=_ref(draw, refs.errors))
    if kind == "escalation":
        return m.EscalationDefinition(escalation_ref=_ref(draw, refs.escalations))
    if kind == "conditional":
        return m.ConditionalDefinition(condition=draw(EXPRESSIONS))
    if kind == "link":
        return m.LinkDefinition(link_name=draw(IDENT))
    if kind == "compensate":
        return m.CompensateDefinition(wait_for_completion=draw(st.booleans()))
    if kind == "terminate":
        return m.TerminateDefinition()
    return m.CancelDefinition()


_TRIGGERS = {
    m.StartEvent: ["timer", "message", "signal", "conditional"],
    m.EndEvent: ["terminate", "error", "escalation", "message", "signal", "cancel", "compensate"],
    m.IntermediateCatchEvent: ["timer", "message", "signal", "conditional", "link"],
    m.IntermediateThrowEvent: ["message", "signal", "escalation", "link", "compensate"],
    m.BoundaryEvent: [
        "timer",
        "message",
        "signal",
        "error",
        "escalation",
        "conditional",
        "compensate",
        "cancel",
    ],
}


def _definitions_for(draw: st.DrawFn, cls: type, refs: _Refs) -> tuple[m.EventDefinition, ...]:
    kinds = _TRIGGERS[cls]
    count = (
        draw(st.sampled_from([0, 1, 1, 1, 2]))
        if cls is not m.BoundaryEvent
        else draw(st.sampled_from([1, 1, 2]))
    )
    if cls is m.IntermediateCatchEvent:
        count = max(count, 1)
    chosen = draw(st.lists(st.sampled_from(kinds), min_size=count, max_size=count, unique=True))
    return tuple(_event_definition(draw, k, refs) for k in chosen)


def _common(draw: st.DrawFn, node_id: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "name": draw(_opt(NAMES)),
        "documentation": draw(_opt(DOCS)),
        "inputs": draw(MAPPINGS),
        "outputs": draw(MAPPINGS),
    }


def _activity_fields(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "loop": draw(_opt(LOOPS)),
        "retry": draw(_opt(RETRIES)),
        "sla": draw(_opt(DURATIONS)),
        "is_for_compensation": draw(st.booleans()) if draw(st.integers(0, 9)) == 0 else False,
        "pre_script": draw(SCRIPTS) if draw(st.integers(0, 4)) == 0 else None,
        "post_script": draw(SCRIPTS) if draw(st.integers(0, 4)) == 0 else None,
    }


_SIMPLE = [
    "task",
    "manual",
    "service",
    "send",
    "receive",
    "script",
    "user",
    "rule",
    "call",
    "xor",
    "or",
    "and",
    "event_gw",
    "complex",
    "catch",
    "throw",
    "sub",
]


def _node(
    draw: st.DrawFn, kind: str, node_id: str, refs: _Refs, ids: itertools.count, depth: int
) -> m.FlowNode:
    c = _common(draw, node_id)
    if kind in ("xor", "or", "and", "event_gw", "complex"):
        c["direction"] = draw(st.sampled_from([None, None, "Diverging", "Converging", "Mixed"]))
        c["inputs"] = c["outputs"] = ()
    if kind == "xor":
        return m.ExclusiveGateway(**c)
    if kind == "or":
        return m.InclusiveGateway(**c)
    if kind == "and":
        return m.ParallelGateway(**c)
    if kind == "event_gw":
        return m.EventBasedGateway(**c, instantiate=draw(st.booleans()), exclusive=draw(st.booleans()))
    if kind == "complex":
        return m.ComplexGateway(**c, activation_condition=draw(_opt(EXPRESSIONS)))
    if kind == "catch":
        return m.IntermediateCatchEvent(
            **c, definitions=_definitions_for(draw, m.IntermediateCatchEvent, refs)
        )
    if kind == "throw":
        return m.IntermediateThrowEvent(
            **c, definitions=_definitions_for(draw, m.IntermediateThrowEvent, refs)
        )
    a = {**c, **_activity_fields(draw)}
    if kind == "task":
        return m.Task(**a)
    if kind == "manual":
        return m.ManualTask(**a)
    if kind == "service":
        return m.ServiceTask(
            **a,
            component=draw(_opt(st.builds(m.ComponentRef, type=COMPONENT_TYPES, config=CONFIGS))),
            implementation=draw(_opt(st.sampled_from(["com.example.Delegate", "${bean.call()}"]))),
            result_variable=draw(_opt(IDENT)),
        )
    if kind == "send":
        return m.SendTask(
            **a,
            message_ref=_ref(draw, refs.messages),
            component=draw(_opt(st.builds(m.ComponentRef, type=COMPONENT_TYPES, config=CONFIGS))),
        )
    if kind == "receive":
        return m.ReceiveTask(
            **a,
            message_ref=_ref(draw, refs.messages),
            correlation_key=draw(_opt(EXPRESSIONS)),
            instantiate=draw(st.booleans()),
        )
    if kind == "script":
        return m.ScriptTask(
            **a,
            script=draw(_opt(st.builds(m.Script, SCRIPTS, st.sampled_from([None, "python"])))),
            result_variable=draw(_opt(IDENT)),
        )
    if kind == "user":
        return m.UserTask(
            **a,
            assignment=draw(ASSIGNMENTS),
            form=draw(_opt(FORMS)),
            due=draw(_opt(DURATIONS)),
            priority=draw(_opt(st.integers(0, 100))),
        )
    if kind == "rule":
        return m.BusinessRuleTask(
            **a,
            decision_ref=draw(_opt(IDENT)),
            result_variable=draw(_opt(IDENT)),
            component=draw(_opt(st.builds(m.ComponentRef, type=COMPONENT_TYPES, config=CONFIGS))),
        )
    if kind == "call":
        return m.CallActivity(
            **a,
            called_element=_ref(draw, refs.processes) or draw(_opt(IDENT)),
            propagate_all=draw(st.booleans()),
        )
    cls = draw(st.sampled_from([m.SubProcess, m.SubProcess, m.Transaction, m.AdHocSubProcess]))
    content = _content(draw, refs, ids, depth + 1)
    extra: dict[str, Any] = {}
    if cls is m.AdHocSubProcess:
        extra = {
            "completion_condition": draw(_opt(EXPRESSIONS)),
            "ordering": draw(st.sampled_from([None, "Parallel", "Sequential"])),
        }
    return cls(**a, **content, triggered_by_event=False, **extra)


def _content(draw: st.DrawFn, refs: _Refs, ids: itertools.count, depth: int) -> dict[str, Any]:
    """Nodes and flows of one (sub-)process: start → middle nodes → end, plus branches and boundaries."""
    kinds = _SIMPLE if depth < 2 else [k for k in _SIMPLE if k != "sub"]
    middle = draw(st.lists(st.sampled_from(kinds), min_size=0, max_size=6 if depth == 0 else 3))

    def nid(prefix: str) -> str:
        return f"{prefix}_{next(ids)}"

    start = m.StartEvent(
        **_common(draw, nid("start")),
        definitions=_definitions_for(draw, m.StartEvent, refs) if depth == 0 else (),
    )
    nodes: list[m.FlowNode] = [start]
    nodes += [_node(draw, k, nid(k), refs, ids, depth) for k in middle]
    end = m.EndEvent(**_common(draw, nid("end")), definitions=_definitions_for(draw, m.EndEvent, refs))
    nodes.append(end)
    flows: list[m.SequenceFlow] = []
    defaults: dict[str, str] = {}

    def connect(source: m.FlowNode, target: m.FlowNode, *, conditional: bool) -> None:
        flows.append(
            m.SequenceFlow(
                id=nid("flow"),
                name=draw(_opt(NAMES)),
                source=source.id,
                target=target.id,
                condition=draw(EXPRESSIONS) if conditional else None,
            )
        )

    for index, (a, b) in enumerate(itertools.pairwise(nodes)):
        branching = isinstance(a, m.ExclusiveGateway | m.InclusiveGateway | m.ComplexGateway)
        connect(a, b, conditional=branching)
        if branching or isinstance(a, m.ParallelGateway | m.EventBasedGateway):
            later = nodes[index + 2 :] or [end]
            target = draw(st.sampled_from(later))
            connect(a, target, conditional=False)
            if branching:
                defaults[a.id] = flows[-1].id
    # Event sub-process and boundary events.
    activities = [n for n in nodes if isinstance(n, m.Activity)]
    if activities and draw(st.booleans()):
        host = draw(st.sampled_from(activities))
        boundary = m.BoundaryEvent(
            **_common(draw, nid("boundary")),
            attached_to=host.id,
            cancel_activity=draw(st.booleans()),
            definitions=_definitions_for(draw, m.BoundaryEvent, refs),
        )
        nodes.append(boundary)
        connect(boundary, end, conditional=False)
    if depth == 0 and draw(st.integers(0, 3)) == 0:
        inner_start = m.StartEvent(
            id=nid("start"),
            is_interrupting=draw(st.booleans()),
            definitions=(_event_definition(draw, "message", refs),),
        )
        inner_end = m.EndEvent(id=nid("end"))
        flow = m.SequenceFlow(id=nid("flow"), source=inner_start.id, target=inner_end.id)
        nodes.append(
            m.SubProcess(
                id=nid("event_sub"),
                name=draw(_opt(NAMES)),
                triggered_by_event=True,
                nodes=(inner_start, inner_end),
                flows=(flow,),
            )
        )
    nodes = [replace(n, default=defaults[n.id]) if n.id in defaults else n for n in nodes]
    return {"nodes": tuple(nodes), "flows": tuple(flows)}


@st.composite
def definitions(draw: st.DrawFn) -> m.Definitions:
    """A random definition in the semantic subset: 1 or 2 processes, messages, signals, errors…."""
    ids = itertools.count(1)
    messages = [
        m.Message(id=f"message_{next(ids)}", name=draw(_opt(NAMES))) for _ in range(draw(st.integers(0, 2)))
    ]
    signals = [
        m.Signal(id=f"signal_{next(ids)}", name=draw(_opt(NAMES))) for _ in range(draw(st.integers(0, 2)))
    ]
    errors = [
        m.Error(
            id=f"error_{next(ids)}",
            name=draw(_opt(NAMES)),
            error_code=draw(_opt(IDENT)),
            payload=draw(_opt(EXPRESSIONS)),
            payload_variable=draw(_opt(IDENT)),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    escalations = [
        m.Escalation(
            id=f"escalation_{next(ids)}",
            name=draw(_opt(NAMES)),
            escalation_code=draw(_opt(IDENT)),
            payload=draw(_opt(EXPRESSIONS)),
            payload_variable=draw(_opt(IDENT)),
        )
        for _ in range(draw(st.integers(0, 1)))
    ]
    process_ids = [f"process_{next(ids)}" for _ in range(draw(st.integers(1, 2)))]
    refs = _Refs(
        [x.id for x in messages],
        [x.id for x in signals],
        [x.id for x in errors],
        [x.id for x in escalations],
        process_ids,
    )
    processes = tuple(
        m.Process(
            id=pid,
            name=draw(_opt(NAMES)),
            documentation=draw(_opt(DOCS)),
            is_executable=draw(st.booleans()) if index else True,
            **_content(draw, refs, ids, 0),
        )
        for index, pid in enumerate(process_ids)
    )
    return m.Definitions(
        processes=processes,
        messages=tuple(messages),
        signals=tuple(signals),
        errors=tuple(errors),
        escalations=tuple(escalations),
    )
