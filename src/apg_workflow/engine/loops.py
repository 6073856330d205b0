"""Standard loops and multi-instance activities.

A looping activity runs as a *body* instance (it owns a scope with ``nrOfInstances``,
``nrOfActiveInstances`` and ``nrOfCompletedInstances``, and carries the boundary events) and one
*iteration* instance per pass, each with its own scope holding ``loopCounter`` (0-based) and the
multi-instance ``inputElement``. Iterations write other variables by the usual scope rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from apg_workflow.engine import scopes, tokens
from apg_workflow.engine.context import Ctx, Fault
from apg_workflow.model import Activity, MultiInstance, StandardLoop

if TYPE_CHECKING:
    from apg_workflow.engine.program import NodeInfo


def _loop_of(info: NodeInfo) -> StandardLoop | MultiInstance:
    node = info.node
    assert isinstance(node, Activity) and node.loop is not None
    return node.loop


def begin(ctx: Ctx, body_id: str, info: NodeInfo) -> None:
    """Start a loop or multi-instance body: work out the passes, start the first (or all)."""
    loop = _loop_of(info)
    body = ctx.state["instances"][body_id]
    if isinstance(loop, MultiInstance):
        items = _items(ctx, loop, body["scope"])
        count = len(items) if isinstance(items, list) else items
        record: dict[str, Any] = {"n": count, "next": 0, "done": 0, "active": 0}
        if isinstance(items, list):
            record["items"] = items
        if loop.output_collection:
            record["out"] = [None] * count
    else:
        count = -1
        record = {"n": -1, "next": 0, "done": 0, "active": 0}
    counters = {"nrOfInstances": count, "nrOfActiveInstances": 0, "nrOfCompletedInstances": 0}
    if "own" in body:  # started again after an incident
        ctx.remove("scopes", body["own"])
    own = scopes.new_scope(ctx, body["scope"], body_id, info.id, counters)
    inst = ctx.record("instances", body_id)
    inst["own"] = own
    inst["loop"] = record
    if isinstance(loop, StandardLoop):
        if loop.test_before and not _again(ctx, loop, body_id, 0):
            tokens.complete(ctx, body_id)
        else:
            _start_iteration(ctx, body_id, info.id, 0)
    elif count == 0:
        _finish(ctx, body_id, loop)
    elif loop.sequential:
        _start_iteration(ctx, body_id, info.id, 0)
    else:
        started = [_create_iteration(ctx, body_id, info, i) for i in range(count)]
        for inst_id in started:
            if inst_id in ctx.state["instances"]:
                info.behaviour.begin(ctx, inst_id, info)


def _items(ctx: Ctx, loop: MultiInstance, scope: str) -> list[Any] | int:
    if loop.input_collection is not None:
        value = scopes.evaluate(ctx, loop.input_collection, scope, "input collection")
        if isinstance(value, Mapping):
            return [scopes.jsonable(v) for v in value.values()]
        if isinstance(value, int) and not isinstance(value, bool):
            return max(value, 0)
        if isinstance(value, list | tuple):
            return [scopes.jsonable(v) for v in value]
        raise Fault(
            f"the input collection `{loop.input_collection.text}` is a {type(value).__name__}, not a list"
        )
    if loop.cardinality is not None:
        value = scopes.evaluate(ctx, loop.cardinality, scope, "loop cardinality")
        try:
            return max(int(value), 0)
        except (TypeError, ValueError):
            raise Fault(
                f"the loop cardinality `{loop.cardinality.text}` is {value!r}, not a number"
            ) from None
    raise Fault("a multi-instance activity needs an input collection or a cardinality")


def _create_iteration(ctx: Ctx, body_id: str, info: NodeInfo, index: int) -> str:
    body = ctx.record("instances", body_id)
    record = body["loop"] = dict(body["loop"])
    local: dict[str, Any] = {"loopCounter": index}
    loop = _loop_of(info)
    if isinstance(loop, MultiInstance) and loop.input_element and "items" in record:
        local[loop.input_element] = scopes.clone(record["items"][index])
    record["next"] = index + 1
    record["active"] += 1
    _counters(ctx, body["own"], record)
    inst_id = tokens.activate(ctx, body["own"], info, body=body_id)
    own = scopes.new_scope(ctx, body["own"], inst_id, info.id, local)
    ctx.record("instances", inst_id)["own"] = own
    return inst_id


def _start_iteration(ctx: Ctx, body_id: str, element_id: str, index: int) -> None:
    if body_id not in ctx.state["instances"]:
        return  # cancelled meanwhile
    info = ctx.info(element_id)
    inst_id = _create_iteration(ctx, body_id, info, index)
    info.behaviour.begin(ctx, inst_id, info)


def _counters(ctx: Ctx, scope: str, record: Mapping[str, Any]) -> None:
    variables = ctx.scope_variables(scope)
    variables["nrOfActiveInstances"] = record["active"]
    variables["nrOfCompletedInstances"] = record["done"]


def contribution(ctx: Ctx, inst: Mapping[str, Any], info: NodeInfo) -> tuple[int, Any, bool]:
    """What a finishing iteration hands its body, read in its own scope before the scope goes:
    its index, its output element, and whether the completion condition now holds."""
    loop = _loop_of(info)
    own = inst["own"]
    index = ctx.state["scopes"][own]["variables"]["loopCounter"]
    if not isinstance(loop, MultiInstance):
        return index, None, False
    value = None
    if loop.output_element is not None:
        value = scopes.evaluate(ctx, loop.output_element, own, "output element")
    elif loop.output_collection and loop.input_element:
        value = scopes.visible(ctx, own).get(loop.input_element)
    done = False
    if loop.completion_condition is not None:
        record = ctx.state["instances"][inst["body"]]["loop"]
        counters = {"nrOfActiveInstances": record["active"] - 1, "nrOfCompletedInstances": record["done"] + 1}
        done = bool(scopes.evaluate(ctx, loop.completion_condition, own, "completion condition", counters))
    return index, scopes.jsonable(value), done


def iteration_done(ctx: Ctx, body_id: str, result: tuple[int, Any, bool]) -> None:
    """An iteration completed: collect its output, then start the next, wait, or finish the body."""
    if body_id not in ctx.state["instances"]:
        return
    body = ctx.record("instances", body_id)
    record = body["loop"] = dict(body["loop"])
    record["active"] -= 1
    record["done"] += 1
    index, value, complete_now = result
    if "out" in record:
        record["out"] = list(record["out"])
        record["out"][index] = value
    _counters(ctx, body["own"], record)
    info = ctx.info(body["element"])
    loop = _loop_of(info)
    if isinstance(loop, StandardLoop):
        try:
            again = _again(ctx, loop, body_id, record["done"])
        except Fault as fault:  # a retry ends the loop
            tokens.open_incident(ctx, body_id, str(fault), "complete")
            return
        if again:
            ctx.defer(_deferred_iteration, body_id, info.id, record["done"])
        else:
            tokens.complete(ctx, body_id)
        return
    if complete_now or record["done"] == record["n"]:
        _finish(ctx, body_id, loop)
    elif loop.sequential:
        ctx.defer(_deferred_iteration, body_id, info.id, record["next"])


def _deferred_iteration(ctx: Ctx, body_id: str, element_id: str, index: int) -> None:
    try:
        _start_iteration(ctx, body_id, element_id, index)
    except Fault as fault:  # evaluating the next item failed
        tokens.open_incident(ctx, body_id, str(fault), "complete")


def _again(ctx: Ctx, loop: StandardLoop, body_id: str, done: int) -> bool:
    """Whether a standard loop runs another pass: under its maximum and while its condition holds."""
    if loop.maximum is not None and done >= loop.maximum:
        return False
    if loop.condition is None:
        return loop.maximum is not None
    scope = ctx.state["instances"][body_id]["own"]
    return bool(scopes.evaluate(ctx, loop.condition, scope, "loop condition"))


def _finish(ctx: Ctx, body_id: str, loop: MultiInstance) -> None:
    """Cancel the iterations still running (a completion condition held) and complete the body."""
    own = ctx.state["instances"][body_id]["own"]
    for inst_id in [i for i, inst in ctx.state["instances"].items() if inst["scope"] == own]:
        tokens.cancel(ctx, inst_id)
    record = ctx.state["instances"][body_id]["loop"]
    variables = {loop.output_collection: record["out"]} if loop.output_collection else None
    tokens.complete(ctx, body_id, variables)
