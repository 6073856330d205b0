"""Combining data: join two lists of records on keys, deep-merge objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data import _paths
from apg_workflow.components.builtins.data._base import DataComponent, identity, invalid_config, prop, shape
from apg_workflow.components.builtins.data._paths import FieldPath


class JoinConfig(ComponentConfig):
    how: Literal["inner", "left", "right", "outer"] = Field(
        "inner",
        description="`inner`: matched pairs only; `left` / `right`: also the unmatched records of that side; "
        "`outer`: also the unmatched records of both sides.",
    )
    on: list[FieldPath] = Field(
        min_length=1, max_length=10, description="Key fields of the `left` records (and of `right` ones too)."
    )
    right_on: list[FieldPath] | None = Field(
        None, description="Key fields of the `right` records when they are named differently, matching `on`."
    )
    right_suffix: str = Field(
        "_right",
        min_length=1,
        max_length=50,
        description="Appended to a field of the right record that the left one has with another value.",
    )
    max_rows: int = Field(
        100_000, ge=1, le=10_000_000, description="Refuse to produce more rows than this (many-to-many keys)."
    )

    @model_validator(mode="after")
    def _same_arity(self) -> JoinConfig:
        if self.right_on is not None and len(self.right_on) != len(self.on):
            raise invalid_config(
                f"'right_on' names {len(self.right_on)} fields but 'on' names {len(self.on)}"
            )
        return self


class Join(DataComponent[JoinConfig]):
    type = "data.join"
    title = "Join two lists"
    description = (
        "Joins two lists of records on key fields, like SQL: each matched pair becomes one record holding "
        "the fields of both (a clashing right field gets `right_suffix`). Null or missing keys never "
        "match. Rows come in the order of `left`, then the unmatched `right` records."
    )
    Config = JoinConfig
    inputs = shape(
        required=("left", "right"),
        left=prop("the left records", "array", items={"type": "object"}),
        right=prop("the right records", "array", items={"type": "object"}),
    )
    outputs = shape(items=prop("the joined records", "array"), count=prop("how many there are", "integer"))
    examples = (
        {
            "config": {"how": "left", "on": ["customer_id"], "right_on": ["id"]},
            "inputs": {
                "left": [{"order": 1, "customer_id": 7}, {"order": 2, "customer_id": 9}],
                "right": [{"id": 7, "name": "Ada"}],
            },
            "outputs": {
                "items": [
                    {"order": 1, "customer_id": 7, "id": 7, "name": "Ada"},
                    {"order": 2, "customer_id": 9},
                ],
                "count": 2,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: JoinConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        left, right = self.records(inputs, "left"), self.records(inputs, "right")
        left_keys = [_paths.split(field) for field in config.on]
        right_keys = [_paths.split(field) for field in config.right_on or config.on]
        index: dict[Any, list[int]] = {}
        for position, record in enumerate(right):
            key = _key(record, right_keys)
            if key is not None:
                index.setdefault(key, []).append(position)
        rows: list[dict[str, Any]] = []
        matched: set[int] = set()
        for record in left:
            key = _key(record, left_keys)
            partners = index.get(key, []) if key is not None else []
            if partners:
                matched.update(partners)
                rows.extend(_combine(record, right[p], config.right_suffix) for p in partners)
            elif config.how in ("left", "outer"):
                rows.append(dict(record))
            self._check_size(rows, config)
        if config.how in ("right", "outer"):
            rows.extend(dict(record) for p, record in enumerate(right) if p not in matched)
            self._check_size(rows, config)
        return {"items": rows, "count": len(rows)}

    def _check_size(self, rows: list[dict[str, Any]], config: JoinConfig) -> None:
        if len(rows) > config.max_rows:
            raise self.invalid(f"the join produces more than {config.max_rows:,} rows (the 'max_rows' limit)")


def _key(record: Mapping[str, Any], paths: list[tuple[str, ...]]) -> Any:
    """The identity of ``record``'s key values, or None when one of them is null or missing."""
    values = [_paths.get(record, path) for path in paths]
    if any(value is None or value is _paths.MISSING for value in values):
        return None
    return identity(values)


def _combine(left: Mapping[str, Any], right: Mapping[str, Any], suffix: str) -> dict[str, Any]:
    row = dict(left)
    for name, value in right.items():
        if name not in row:
            row[name] = value
        elif identity(row[name]) != identity(value):
            row[f"{name}{suffix}"] = value
    return row


class MergeConfig(ComponentConfig):
    lists: Literal["replace", "concat", "union"] = Field(
        "replace",
        description="When both objects have a list at the same place: `replace` takes the later one, "
        "`concat` appends it, `union` appends only the items not already there.",
    )
    nulls: Literal["overwrite", "ignore"] = Field(
        "overwrite", description="Whether a null in a later object replaces an earlier value or is skipped."
    )


class Merge(DataComponent[MergeConfig]):
    type = "data.merge"
    title = "Deep-merge objects"
    description = (
        "Merges a list of objects into one, later objects winning: nested objects are merged field by "
        "field, other values replaced; lists are replaced, concatenated or united as configured."
    )
    Config = MergeConfig
    inputs = shape(
        required=("objects",),
        objects=prop(
            "the objects to merge, lowest priority first (e.g. defaults, then overrides)",
            "array",
            items={"type": "object"},
        ),
    )
    outputs = shape(result=prop("the merged object", "object"))
    examples = (
        {
            "config": {"lists": "union"},
            "inputs": {
                "objects": [
                    {"retries": 3, "http": {"timeout": 10, "headers": {"Accept": "text/csv"}}, "tags": ["a"]},
                    {"http": {"timeout": 30}, "tags": ["a", "b"]},
                ]
            },
            "outputs": {
                "result": {
                    "retries": 3,
                    "http": {"timeout": 30, "headers": {"Accept": "text/csv"}},
                    "tags": ["a", "b"],
                }
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: MergeConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        merged: dict[str, Any] = {}
        for record in self.records(inputs, "objects"):
            merged = _merge(merged, record, config)
        return {"result": merged}


def _merge(base: Mapping[str, Any], override: Mapping[str, Any], config: MergeConfig) -> dict[str, Any]:
    result = dict(base)
    for name, value in override.items():
        current = result.get(name)
        if value is None and config.nulls == "ignore" and name in result:
            continue
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            result[name] = _merge(current, value, config)
        elif (
            config.lists != "replace"
            and isinstance(current, list | tuple)
            and isinstance(value, list | tuple)
        ):
            result[name] = _combine_lists(current, value, unique=config.lists == "union")
        else:
            result[name] = _paths.copy_objects(value)
    return result


def _combine_lists(first: Any, second: Any, *, unique: bool) -> list[Any]:
    if not unique:
        return [*first, *second]
    seen: set[Any] = set()
    combined = []
    for item in [*first, *second]:
        key = identity(item)
        if key not in seen:
            seen.add(key)
            combined.append(item)
    return combined
