"""List operations: filter, map, reduce, sort, deduplicate, chunk.

Each takes its list in the input ``items``; filter, map and reduce evaluate an expression per
item that sees ``item``, ``index`` and every other input by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data import _paths
from apg_workflow.components.builtins.data._base import (
    DataComponent,
    exactly_one,
    identity,
    kind,
    paced,
    prop,
    shape,
)
from apg_workflow.components.builtins.data._expressions import (
    Expression,
    JmesPath,
    evaluate,
    jmespath_truthy,
    search,
)
from apg_workflow.components.builtins.data._paths import FieldPath

_LIST = prop("the list to work on", "array")
_LIST_IN = shape(required=("items",), items=_LIST)
_ITEMS = prop("the resulting list", "array")
_COUNT = prop("how many items it holds", "integer")


class _OneExpression(ComponentConfig):
    """A configuration with either a sandboxed ``expression`` or a ``jmespath`` one."""

    expression: str | None
    jmespath: str | None

    @model_validator(mode="after")
    def _one_language(self) -> _OneExpression:
        exactly_one(self, "expression", "jmespath")
        return self


class _PerItem(DataComponent[_OneExpression]):
    """Evaluates the configured expression (sandboxed or JMESPath) once per item."""

    inputs = shape(
        required=("items",), variables="further variables the expression may use by name", items=_LIST
    )

    async def each(
        self, context: ComponentContext, config: _OneExpression, inputs: Mapping[str, Any]
    ) -> list[tuple[Any, Any]]:
        """``(item, value of the expression)`` for every item of the input ``items``."""
        items = self.items(inputs)
        variables = {name: value for name, value in inputs.items() if name != "items"}
        now = context.now()
        results = []
        async for index, item in paced(items):
            where = f"on items[{index}]"
            if config.jmespath is not None:
                results.append((item, search(self.type, config.jmespath, item, where)))
            else:
                scope = variables | {"item": item, "index": index}
                results.append((item, evaluate(self.type, config.expression, scope, now, where)))
        return results


class FilterConfig(_OneExpression):
    expression: Expression | None = Field(
        None,
        description="Keep the items for which this condition is true. It sees `item`, `index` and the "
        "other inputs, e.g. `item['amount'] > threshold`.",
    )
    jmespath: JmesPath | None = Field(
        None,
        description="Alternatively, a JMESPath expression applied to each item; the item is kept when "
        "the result is truthy (not false, null or empty), e.g. ``amount > `100` ``.",
    )


class Filter(_PerItem):
    type = "data.filter"
    title = "Filter a list"
    description = (
        "Keeps the items of a list for which a condition holds. The condition is a sandboxed "
        "expression over `item` (and `index` and the other inputs), or a JMESPath expression."
    )
    Config = FilterConfig
    outputs = shape(items=_ITEMS, count=_COUNT)
    examples = (
        {
            "config": {"expression": "item['total'] >= minimum"},
            "inputs": {"items": [{"id": 1, "total": 250}, {"id": 2, "total": 40}], "minimum": 100},
            "outputs": {"items": [{"id": 1, "total": 250}], "count": 1},
        },
        {
            "config": {"jmespath": "status == 'open'"},
            "inputs": {"items": [{"id": 1, "status": "open"}, {"id": 2, "status": "closed"}]},
            "outputs": {"items": [{"id": 1, "status": "open"}], "count": 1},
        },
    )

    async def run(
        self, context: ComponentContext, config: FilterConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        truthy = jmespath_truthy if config.jmespath is not None else bool
        kept = [item for item, value in await self.each(context, config, inputs) if truthy(value)]
        return {"items": kept, "count": len(kept)}


class MapConfig(_OneExpression):
    expression: Expression | None = Field(
        None,
        description="The new value of each item, computed from `item`, `index` and the other inputs, "
        "e.g. `{'sku': item['sku'], 'total': item['qty'] * item['price']}`.",
    )
    jmespath: JmesPath | None = Field(
        None, description="Alternatively, a JMESPath expression applied to each item, e.g. `{sku: sku}`."
    )


class Map(_PerItem):
    type = "data.map"
    title = "Map a list"
    description = "Replaces every item of a list by the value of an expression computed from it."
    Config = MapConfig
    outputs = shape(items=_ITEMS, count=_COUNT)
    examples = (
        {
            "config": {"expression": "item['qty'] * item['price']"},
            "inputs": {"items": [{"qty": 2, "price": 5}, {"qty": 1, "price": 30}]},
            "outputs": {"items": [10, 30], "count": 2},
        },
    )

    async def run(
        self, context: ComponentContext, config: MapConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        mapped = [value for _, value in await self.each(context, config, inputs)]
        return {"items": mapped, "count": len(mapped)}


class ReduceConfig(ComponentConfig):
    expression: Expression = Field(
        description="The next value of `accumulator`, computed from `accumulator`, `item`, `index` and "
        "the other inputs, e.g. `accumulator + item['amount']`."
    )
    initial: Any = Field(0, description="The value of `accumulator` before the first item.")


class Reduce(DataComponent[ReduceConfig]):
    type = "data.reduce"
    title = "Reduce a list"
    description = (
        "Folds a list into one value: the expression is evaluated for each item in turn with the "
        "previous result as `accumulator`; the last result is the output (`initial` for an empty list)."
    )
    Config = ReduceConfig
    inputs = _PerItem.inputs
    outputs = shape(result=prop("the final accumulator"))
    examples = (
        {
            "config": {"expression": "accumulator + item['amount']", "initial": 0},
            "inputs": {"items": [{"amount": 12.5}, {"amount": 7.5}]},
            "outputs": {"result": 20.0},
        },
    )

    async def run(
        self, context: ComponentContext, config: ReduceConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        items = self.items(inputs)
        variables = {name: value for name, value in inputs.items() if name != "items"}
        accumulator, now = config.initial, context.now()
        async for index, item in paced(items):
            scope = variables | {"accumulator": accumulator, "item": item, "index": index}
            accumulator = evaluate(self.type, config.expression, scope, now, f"on items[{index}]")
        return {"result": accumulator}


class SortKey(ComponentConfig):
    field: FieldPath
    direction: Literal["asc", "desc"] = Field("asc", description="Ascending or descending.")
    nulls: Literal["first", "last"] = Field(
        "last", description="Where items whose field is null or missing go, whatever the direction."
    )
    case_sensitive: bool = Field(True, description="Compare strings with their case (false: ignore case).")


class SortConfig(ComponentConfig):
    keys: list[SortKey] = Field(
        min_length=1,
        max_length=20,
        description="Fields to sort by, most significant first. Items equal on every key keep their order.",
    )


def _rank(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


class Sort(DataComponent[SortConfig]):
    type = "data.sort"
    title = "Sort a list"
    description = (
        "Sorts a list of objects by one or more fields, each ascending or descending, with null or "
        "missing values first or last. The sort is stable. Values of one field must all be numbers, "
        "all strings or all booleans (ISO dates sort correctly as strings)."
    )
    Config = SortConfig
    inputs = _LIST_IN
    outputs = shape(items=_ITEMS, count=_COUNT)
    examples = (
        {
            "config": {"keys": [{"field": "priority", "direction": "desc"}, {"field": "name"}]},
            "inputs": {"items": [{"name": "b", "priority": 1}, {"name": "c", "priority": 2}, {"name": "a"}]},
            "outputs": {
                "items": [{"name": "c", "priority": 2}, {"name": "b", "priority": 1}, {"name": "a"}],
                "count": 3,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: SortConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        items = self.records(inputs)
        for key in reversed(config.keys):  # stable sorts, least significant key first
            items = self._sorted(items, key)
        return {"items": items, "count": len(items)}

    def _sorted(self, items: list[Any], key: SortKey) -> list[Any]:
        path = _paths.split(key.field)
        present, absent, rank = [], [], None
        for index, item in enumerate(items):
            value = _paths.get(item, path)
            if value is None or value is _paths.MISSING:
                absent.append(item)
                continue
            this = _rank(value)
            if this is None or (rank is not None and this != rank):
                expected = f"{rank}s like the items before it" if rank else "a number, string or boolean"
                raise self.invalid(
                    f"cannot sort by '{key.field}': items[{index}] has {kind(value)} there, "
                    f"expected {expected}"
                )
            rank = this
            if this == "string" and not key.case_sensitive:
                value = value.casefold()
            present.append((value, item))
        present.sort(key=lambda pair: pair[0], reverse=key.direction == "desc")
        ordered = [item for _, item in present]
        return absent + ordered if key.nulls == "first" else ordered + absent


class DeduplicateConfig(ComponentConfig):
    keys: list[FieldPath] = Field(
        default_factory=list,
        max_length=20,
        description="Fields that identify an item; items with equal values there are duplicates. "
        "Empty: whole items are compared.",
    )
    keep: Literal["first", "last"] = Field("first", description="Which of the duplicates to keep.")


class Deduplicate(DataComponent[DeduplicateConfig]):
    type = "data.deduplicate"
    title = "Remove duplicates"
    description = (
        "Removes duplicate items from a list, comparing whole items or the given key fields. "
        "The items kept stay in their original order."
    )
    Config = DeduplicateConfig
    inputs = _LIST_IN
    outputs = shape(items=_ITEMS, count=_COUNT, removed=prop("how many duplicates were removed", "integer"))
    examples = (
        {
            "config": {"keys": ["email"]},
            "inputs": {"items": [{"email": "a@x.org", "n": 1}, {"email": "b@x.org"}, {"email": "a@x.org"}]},
            "outputs": {
                "items": [{"email": "a@x.org", "n": 1}, {"email": "b@x.org"}],
                "count": 2,
                "removed": 1,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: DeduplicateConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        items = self.records(inputs) if config.keys else self.items(inputs)
        paths = [_paths.split(key) for key in config.keys]
        chosen: dict[Any, int] = {}
        for index, item in enumerate(items):
            key = identity([_paths.get(item, path) for path in paths] if paths else item)
            if config.keep == "last" or key not in chosen:
                chosen[key] = index
        kept = [items[index] for index in sorted(chosen.values())]
        return {"items": kept, "count": len(kept), "removed": len(items) - len(kept)}


class ChunkConfig(ComponentConfig):
    size: int = Field(ge=1, le=1_000_000, description="Items per chunk; the last chunk may hold fewer.")


class Chunk(DataComponent[ChunkConfig]):
    type = "data.chunk"
    title = "Split a list into chunks"
    description = (
        "Splits a list into consecutive chunks of at most `size` items, e.g. to feed a "
        "multi-instance activity one batch at a time."
    )
    Config = ChunkConfig
    inputs = _LIST_IN
    outputs = shape(
        chunks=prop("the chunks, in order", "array", items={"type": "array"}),
        count=prop("how many chunks there are", "integer"),
    )
    examples = (
        {
            "config": {"size": 2},
            "inputs": {"items": [1, 2, 3, 4, 5]},
            "outputs": {"chunks": [[1, 2], [3, 4], [5]], "count": 3},
        },
    )

    async def run(
        self, context: ComponentContext, config: ChunkConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        items = self.items(inputs)
        chunks = [items[start : start + config.size] for start in range(0, len(items), config.size)]
        return {"chunks": chunks, "count": len(chunks)}
