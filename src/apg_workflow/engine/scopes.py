"""Variables and scopes: reads walk outward, writes follow the scope rule, values stay JSON-ready.

Scopes nest: the process scope, sub-process scopes, multi-instance bodies and instances, and the
local scope of an activity with input mappings. Reading a name finds it in the nearest scope
that holds it. Writing a name changes it in the nearest scope that already holds it, else in the
process scope; only input mappings, ``inputElement`` and ``loopCounter`` create local variables.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from apg_workflow.engine.context import Ctx, Fault
from apg_workflow.engine.effects import History
from apg_workflow.engine.frozen import new_record
from apg_workflow.engine.state import ROOT_SCOPE
from apg_workflow.model import DataMapping, Expression, format_duration

_SCALARS = (str, int, float, bool, type(None))
_EXACT = frozenset({str, int, bool, type(None)})  # stored as they are (floats must be finite)
_CONTAINERS = (dict, list)


def visible(ctx: Ctx, scope_id: str) -> dict[str, Any]:
    """Every variable a reader in ``scope_id`` sees (inner scopes hide outer names).

    The dict may be the scope's own: callers must not change it.
    """
    scopes = ctx.state["scopes"]
    scope = scopes[scope_id]
    if scope["parent"] is None:
        return scope["variables"]  # type: ignore[no-any-return]
    chain = []
    while scope is not None:
        chain.append(scope["variables"])
        parent = scope["parent"]
        scope = scopes[parent] if parent is not None else None
    merged: dict[str, Any] = {}
    for variables in reversed(chain):
        merged.update(variables)
    return merged


def snapshot(ctx: Ctx, scope_id: str) -> dict[str, Any]:
    """A copy of every variable a reader in ``scope_id`` sees, for a worker, a person or a called
    process: deep enough that changing it cannot change the state."""
    scope = ctx.state["scopes"][scope_id]
    if scope["parent"] is None:
        return clone(scope["variables"])  # type: ignore[no-any-return]
    merged = visible(ctx, scope_id)  # a dict of its own, whose nested values are the state's
    for name, value in merged.items():
        if isinstance(value, _CONTAINERS):
            merged[name] = clone(value)
    return merged


def evaluate(
    ctx: Ctx, expression: Expression, scope_id: str, what: str, extra: Mapping[str, Any] | None = None
) -> Any:
    """Evaluate an expression in a scope; any failure becomes a :class:`Fault` naming ``what``."""
    variables = visible(ctx, scope_id)
    if extra:
        variables = {**variables, **extra}
    try:
        return ctx.program.sandbox.evaluate(expression.text, expression.language, variables, now=ctx.now)
    except Exception as exc:  # the sandbox's errors, whatever user code raised
        raise Fault(f"{what} `{expression.text}` failed: {exc}") from None


def run_script(
    ctx: Ctx, text: str, scope_id: str, what: str, element_id: str, instance_id: str
) -> dict[str, Any]:
    """Run a Python script in the sandbox against what ``scope_id`` sees. The variables it deletes
    (``del x``) are deleted here; the ones it assigns or changes are returned, for the caller to
    write. Any failure becomes a :class:`Fault` naming ``what``."""
    before = visible(ctx, scope_id)
    try:  # the sandbox copies what the script may change: ``before`` stays as it was
        after = ctx.program.sandbox.execute(text, before, now=ctx.now)
    except Exception as exc:  # whatever the user's script raised, reported by the sandbox
        raise Fault(f"{what} failed: {exc}") from None
    if not before.keys() <= after.keys():
        delete(ctx, scope_id, [k for k in before if k not in after], element_id, instance_id)
    changed = {}
    for name, value in after.items():  # a loop, not a comprehension: one Python frame fewer
        if name not in before or before[name] != value:
            changed[name] = value
    return changed


def apply_script(ctx: Ctx, text: str, scope_id: str, what: str, element_id: str, instance_id: str) -> None:
    """Run a script (an activity's pre- or post-script) and write what it changed."""
    changed = run_script(ctx, text, scope_id, what, element_id, instance_id)
    write(ctx, scope_id, changed, element_id, instance_id)


def holder(ctx: Ctx, scope_id: str, name: str) -> str:
    """The scope a write of ``name`` from ``scope_id`` goes to."""
    scopes = ctx.state["scopes"]
    current: str | None = scope_id
    while current is not None:
        scope = scopes[current]
        if name in scope["variables"]:
            return current
        current = scope["parent"]
    return ROOT_SCOPE


def write(
    ctx: Ctx, scope_id: str, values: Mapping[str, Any], element_id: str | None, instance_id: str | None
) -> None:
    """Write variables from ``scope_id`` following the scope rule; record what changed."""
    if not values:
        return
    changed: dict[str, Any] = {}
    for name, raw in values.items():
        value = raw if type(raw) in _EXACT else jsonable(raw, name)
        target = scope_id if scope_id == ROOT_SCOPE else holder(ctx, scope_id, name)
        current = ctx.scopes[target]["variables"]
        if name in current and current[name] == value and type(current[name]) is type(value):
            continue
        ctx.scope_variables(target)[name] = value
        changed[name] = value
    if changed:
        ctx.vars_changed = True
        ctx.effects.append(
            new_record(
                History, (ctx.now, "variables.changed", element_id, instance_id, {"variables": changed})
            )
        )


def delete(ctx: Ctx, scope_id: str, names: Iterable[str], element_id: str, instance_id: str) -> None:
    """Remove variables, each from the nearest scope that holds it."""
    for name in names:
        del ctx.scope_variables(holder(ctx, scope_id, name))[name]
    ctx.vars_changed = True
    ctx.history("variables.changed", element_id, instance_id, {"deleted": sorted(names)})


def new_scope(
    ctx: Ctx, parent: str, owner: str, element: str, variables: dict[str, Any], *, flow: bool = False
) -> str:
    """Create a scope; with ``flow`` it runs a (sub-)process body and counts its tokens."""
    scope_id = ctx.new_id()
    record: dict[str, Any] = {"parent": parent, "owner": owner, "element": element, "variables": variables}
    if flow:
        record["tokens"] = 0
    ctx.insert("scopes", scope_id, record)
    return scope_id


def map_values(ctx: Ctx, mappings: Iterable[DataMapping], scope_id: str, what: str) -> dict[str, Any]:
    """Evaluate every mapping's source in ``scope_id`` (all of them before anything is written)."""
    return {m.target: evaluate(ctx, m.source, scope_id, f"{what} '{m.target}'") for m in mappings}


def jsonable(value: Any, name: str = "value") -> Any:
    """``value`` as JSON-ready data: dates and times become ISO strings, Decimals numbers, tuples and
    sets lists. Anything else (a function, an object) cannot be stored in a variable."""
    if isinstance(value, _SCALARS):
        if isinstance(value, float) and not math.isfinite(value):
            raise Fault(f"variable '{name}' holds {value}, which cannot be stored")
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v, name) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, name) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v, name) for v in value), key=repr)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise Fault(f"variable '{name}' holds a {type(value).__name__}, which cannot be stored (JSON data only)")


def clone(value: Any) -> Any:
    """A copy of JSON-ready data deep enough that user code changing it cannot change the state.

    Containers are copied whole, then only their nested containers again: most values are
    scalars, which need no call of their own."""
    if isinstance(value, dict):
        copy = dict(value)
        for key, item in copy.items():
            if isinstance(item, _CONTAINERS):
                copy[key] = clone(item)
        return copy
    if isinstance(value, list):
        return [clone(item) if isinstance(item, _CONTAINERS) else item for item in value]
    return value
