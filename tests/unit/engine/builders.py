"""Small helpers that build process definitions in code for the engine's scenario tests."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

from apg_workflow.model import (
    DataMapping,
    Definitions,
    EndEvent,
    Error,
    Escalation,
    Expression,
    FlowNode,
    Message,
    Process,
    ScriptTask,
    SequenceFlow,
    Signal,
    StartEvent,
    SubProcess,
)
from apg_workflow.model.specs import Script


def flows(*paths: str) -> list[SequenceFlow]:
    """``"a > b > c"`` chains; ``"g > x [amount > 10]"`` puts a condition on a flow; a flow's id is
    ``f_<source>_<target>``."""
    out = []
    for path in paths:
        condition = None
        if "[" in path:
            path, _, rest = path.partition("[")
            condition = Expression(rest.rstrip().rstrip("]").strip())
        ids = [p.strip() for p in path.split(">")]
        for source, target in pairwise(ids):
            out.append(
                SequenceFlow(
                    id=f"f_{source}_{target}",
                    source=source,
                    target=target,
                    condition=condition if target == ids[-1] else None,
                )
            )
    return out


def script(node_id: str, text: str, **kwargs: object) -> ScriptTask:
    return ScriptTask(id=node_id, script=Script(text), **kwargs)  # type: ignore[arg-type]


def mapping(target: str, source: str) -> DataMapping:
    return DataMapping(target, Expression(source))


def sub(node_id: str, nodes: Iterable[FlowNode], paths: Iterable[str], **kwargs: object) -> SubProcess:
    return SubProcess(id=node_id, nodes=tuple(nodes), flows=tuple(flows(*paths)), **kwargs)  # type: ignore[arg-type]


def definitions(
    nodes: Iterable[FlowNode],
    paths: Iterable[str],
    *,
    process_id: str = "p",
    messages: Iterable[str] = (),
    signals: Iterable[str] = (),
    errors: Iterable[tuple[str, str]] = (),
    escalations: Iterable[tuple[str, str]] = (),
    more: Iterable[Process] = (),
) -> Definitions:
    """A definition holding one process; messages and signals are named by their ids, errors and
    escalations are ``(id, code)`` pairs."""
    process = Process(id=process_id, nodes=tuple(nodes), flows=tuple(flows(*paths)))
    return Definitions(
        processes=(process, *more),
        messages=tuple(Message(id=m, name=m) for m in messages),
        signals=tuple(Signal(id=s, name=s) for s in signals),
        errors=tuple(Error(id=i, error_code=code) for i, code in errors),
        escalations=tuple(Escalation(id=i, escalation_code=code) for i, code in escalations),
    )


START = StartEvent(id="start")
END = EndEvent(id="end")
