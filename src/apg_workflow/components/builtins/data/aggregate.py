"""Group a list of records and compute count, sum, average, minimum, maximum and percentiles."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data import _paths
from apg_workflow.components.builtins.data._base import (
    DataComponent,
    identity,
    invalid_config,
    is_number,
    kind,
    prop,
    shape,
)
from apg_workflow.components.builtins.data._paths import FieldPath

Number = int | float | Decimal


class Metric(ComponentConfig):
    name: str = Field(min_length=1, max_length=200, description="The output field that holds the value.")
    op: Literal["count", "sum", "avg", "min", "max", "percentile"] = Field(
        description="`count`: records (with `field`: records where it is not null); `sum`, `avg`: of "
        "numbers; `min`, `max`: of numbers or of strings; `percentile`: the `p`-th percentile of numbers."
    )
    field: FieldPath | None = Field(None, description="The field the metric reads (not needed for `count`).")
    p: float | None = Field(
        None,
        ge=0,
        le=100,
        description="For `percentile`: 0 to 100 (50 is the median), interpolated linearly between the "
        "nearest values like NumPy's default and Excel's PERCENTILE.INC.",
    )

    @model_validator(mode="after")
    def _needs(self) -> Metric:
        if self.op != "count" and self.field is None:
            raise invalid_config(f"the '{self.op}' metric '{self.name}' needs a 'field'")
        if (self.op == "percentile") != (self.p is not None):
            raise invalid_config(
                f"'p' is for the percentile metric only, and it needs one (metric '{self.name}')"
            )
        return self


class AggregateConfig(ComponentConfig):
    group_by: list[FieldPath] = Field(
        default_factory=list,
        max_length=20,
        description="Fields whose values form a group; empty: the whole list is one group.",
    )
    metrics: list[Metric] = Field(min_length=1, max_length=100, description="What to compute per group.")

    @model_validator(mode="after")
    def _distinct_names(self) -> AggregateConfig:
        names = [*self.group_by, *(metric.name for metric in self.metrics)]
        clashes = sorted({name for name in names if names.count(name) > 1})
        if clashes:
            raise invalid_config(f"output fields named twice: {', '.join(clashes)}")
        return self


class Aggregate(DataComponent[AggregateConfig]):
    type = "data.aggregate"
    title = "Aggregate (group by)"
    description = (
        "Groups a list of records by key fields and computes metrics per group, like SQL's GROUP BY. "
        "Null and missing values are skipped by every metric but a plain `count`; a metric over no "
        "values is null (a sum is 0). Groups come in the order their first record appears; each "
        "holds its key fields (named as in `group_by`) and its metrics."
    )
    Config = AggregateConfig
    inputs = shape(required=("items",), items=prop("the records", "array", items={"type": "object"}))
    outputs = shape(
        groups=prop("one record per group", "array", items={"type": "object"}),
        count=prop("how many groups there are", "integer"),
    )
    examples = (
        {
            "config": {
                "group_by": ["region"],
                "metrics": [
                    {"name": "orders", "op": "count"},
                    {"name": "revenue", "op": "sum", "field": "total"},
                    {"name": "median", "op": "percentile", "field": "total", "p": 50},
                ],
            },
            "inputs": {
                "items": [
                    {"region": "north", "total": 100},
                    {"region": "south", "total": 40},
                    {"region": "north", "total": 300},
                ]
            },
            "outputs": {
                "groups": [
                    {"region": "north", "orders": 2, "revenue": 400, "median": 200.0},
                    {"region": "south", "orders": 1, "revenue": 40, "median": 40},
                ],
                "count": 2,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: AggregateConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        records = self.records(inputs)
        keys = [_paths.split(field) for field in config.group_by]
        groups: dict[Any, tuple[list[Any], list[int]]] = {}
        for index, record in enumerate(records):
            values = [_value_or_none(record, path) for path in keys]
            groups.setdefault(identity(values), (values, []))[1].append(index)
        result = []
        for values, members in groups.values():
            row = dict(zip(config.group_by, values, strict=True))
            for metric in config.metrics:
                row[metric.name] = self._compute(metric, [records[i] for i in members], members)
            result.append(row)
        return {"groups": result, "count": len(result)}

    def _compute(self, metric: Metric, records: list[Any], positions: list[int]) -> Any:
        if metric.field is None:
            return len(records)
        path = _paths.split(metric.field)
        present = [
            (position, value)
            for position, record in zip(positions, records, strict=True)
            if (value := _value_or_none(record, path)) is not None
        ]
        if metric.op == "count":
            return len(present)
        if metric.op in ("min", "max"):
            return self._extreme(metric, present)
        numbers = [self._number(metric, position, value) for position, value in present]
        return _NUMERIC[metric.op](numbers, metric.p or 0.0)

    def _number(self, metric: Metric, position: int, value: Any) -> Number:
        if not is_number(value):
            raise self.invalid(
                f"items[{position}].{metric.field} is {kind(value)}; the '{metric.op}' metric "
                f"'{metric.name}' needs numbers"
            )
        return value  # type: ignore[no-any-return]

    def _extreme(self, metric: Metric, present: list[tuple[int, Any]]) -> Any:
        if not present:
            return None
        numeric = is_number(present[0][1])
        for position, value in present:
            if not (is_number(value) if numeric else isinstance(value, str)):
                raise self.invalid(
                    f"items[{position}].{metric.field} is {kind(value)}; the '{metric.op}' metric "
                    f"'{metric.name}' compares numbers or strings, all of one kind"
                )
        values = [value for _, value in present]
        return min(values) if metric.op == "min" else max(values)


def _value_or_none(record: Any, path: tuple[str, ...]) -> Any:
    value = _paths.get(record, path)
    return None if value is _paths.MISSING else value


def _sum(numbers: list[Number], _p: float = 0.0) -> Number:
    if all(type(n) is int for n in numbers):
        return sum(numbers)  # type: ignore[arg-type]
    if not any(isinstance(n, float) for n in numbers):
        return sum((Decimal(n) for n in numbers), Decimal(0))
    return math.fsum(float(n) for n in numbers)


def _avg(numbers: list[Number], _p: float = 0.0) -> Number | None:
    if not numbers:
        return None
    total = _sum(numbers)
    return total / len(numbers) if isinstance(total, Decimal) else float(total) / len(numbers)


def _percentile(numbers: list[Number], p: float) -> Number | None:
    """Linear interpolation between the closest ranks (NumPy's default, Excel's PERCENTILE.INC)."""
    if not numbers:
        return None
    ordered = sorted(numbers)
    rank = p / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    fraction = rank - low
    if fraction == 0:
        return ordered[low]
    below, above = float(ordered[low]), float(ordered[low + 1])
    return below + (above - below) * fraction


_NUMERIC: dict[str, Callable[[list[Number], float], Number | None]] = {
    "sum": _sum,
    "avg": _avg,
    "percentile": _percentile,
}
