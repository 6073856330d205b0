"""Reshaping objects: flatten, unflatten, pick, omit, rename.

Each takes the input ``data``: an object, or a list of objects that are reshaped one by one, and
returns ``result`` of the same shape. The input is never changed in place.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data import _paths
from apg_workflow.components.builtins.data._base import ConfigT, DataComponent, kind, prop, shape
from apg_workflow.components.builtins.data._paths import FieldPath

_SHAPE_IN = shape(
    required=("data",), data=prop("an object, or a list of objects (each is reshaped)", ["object", "array"])
)
_SHAPE_OUT = shape(result=prop("the reshaped object(s)", ["object", "array"]))


class _Reshape(DataComponent[ConfigT]):
    """Applies :meth:`reshape` to the object in ``data``, or to each object of the list there."""

    inputs = _SHAPE_IN
    outputs = _SHAPE_OUT

    async def run(
        self, context: ComponentContext, config: ConfigT, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        data = self.value(inputs, "data")
        if isinstance(data, Mapping):
            return {"result": self._one(config, data, "in 'data'")}
        if isinstance(data, list | tuple):
            return {"result": [self._one(config, item, f"in data[{i}]") for i, item in enumerate(data)]}
        raise self.invalid(f"the input 'data' must be an object or a list of objects, not {kind(data)}")

    def _one(self, config: ConfigT, record: Any, where: str) -> dict[str, Any]:
        if not isinstance(record, Mapping):
            raise self.invalid(f"{where}: expected an object, not {kind(record)}")
        try:
            return self.reshape(config, record)
        except ValueError as exc:
            raise self.invalid(f"{where}: {exc}") from None

    @abstractmethod
    def reshape(self, config: ConfigT, record: Mapping[str, Any]) -> dict[str, Any]:
        """The reshaped copy of ``record``; ``ValueError`` for data it cannot reshape."""


class FlattenConfig(ComponentConfig):
    separator: str = Field(".", min_length=1, max_length=5, description="Joins the keys of nested fields.")
    lists: Literal["index", "keep"] = Field(
        "index",
        description="`index`: list items become fields too (`tags.0`, `tags.1`); `keep`: lists stay values.",
    )
    max_depth: int = Field(
        100, ge=1, le=1000, description="Levels of nesting to flatten; values nested deeper are kept whole."
    )


class Flatten(_Reshape[FlattenConfig]):
    type = "data.flatten"
    title = "Flatten an object"
    description = (
        "Turns nested objects into one level of fields whose keys are dotted paths, e.g. before "
        "writing rows to CSV. Empty objects and lists are kept as values. `data.unflatten` reverses it."
    )
    Config = FlattenConfig
    examples = (
        {
            "config": {},
            "inputs": {"data": {"id": 7, "customer": {"name": "Ada", "tags": ["vip"]}}},
            "outputs": {"result": {"id": 7, "customer.name": "Ada", "customer.tags.0": "vip"}},
        },
    )

    def reshape(self, config: FlattenConfig, record: Mapping[str, Any]) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        pending: list[tuple[str | None, Any, int]] = [(None, record, 0)]
        while pending:
            prefix, value, depth = pending.pop()
            deeper = value and depth <= config.max_depth
            if isinstance(value, Mapping) and (prefix is None or deeper):
                children = list(value.items())
            elif isinstance(value, list | tuple) and deeper and config.lists == "index":
                children = [(str(index), item) for index, item in enumerate(value)]
            else:
                flat[prefix or ""] = value
                continue
            for key, child in reversed(children):  # reversed: popped back in their original order
                name = str(key) if prefix is None else f"{prefix}{config.separator}{key}"
                pending.append((name, child, depth + 1))
        return flat


class UnflattenConfig(ComponentConfig):
    separator: str = Field(".", min_length=1, max_length=5, description="Separates nested fields' keys.")
    lists: bool = Field(
        True, description="Turn objects whose keys are exactly 0, 1, 2, … into lists (as flatten wrote them)."
    )


class Unflatten(_Reshape[UnflattenConfig]):
    type = "data.unflatten"
    title = "Unflatten an object"
    description = (
        "Turns fields whose keys are dotted paths into nested objects (and lists, for numbered keys): "
        "the reverse of `data.flatten`, e.g. for rows read from CSV. A key that is both a value and a "
        "parent (`a` and `a.b`) is an error."
    )
    Config = UnflattenConfig
    examples = (
        {
            "config": {},
            "inputs": {"data": {"id": 7, "customer.name": "Ada", "customer.tags.0": "vip"}},
            "outputs": {"result": {"id": 7, "customer": {"name": "Ada", "tags": ["vip"]}}},
        },
    )

    def reshape(self, config: UnflattenConfig, record: Mapping[str, Any]) -> dict[str, Any]:
        nested: dict[str, Any] = {}
        for key, value in record.items():
            path = tuple(str(key).split(config.separator))
            if _paths.get(nested, path) is not _paths.MISSING:
                raise ValueError(f"the field '{key}' clashes with the fields nested under it")
            _paths.put(nested, path, value)
        return _listify(nested) if config.lists else nested


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {key: _listify(item) for key, item in value.items()}
    if converted and all(key == str(index) for index, key in enumerate(sorted(converted, key=_numeric))):
        return [converted[str(index)] for index in range(len(converted))]
    return converted


def _numeric(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (-1, key)


class FieldsConfig(ComponentConfig):
    fields: list[FieldPath] = Field(min_length=1, max_length=500, description="The fields, as dotted paths.")


class Pick(_Reshape[FieldsConfig]):
    type = "data.pick"
    title = "Pick fields"
    description = (
        "Keeps only the listed fields of an object (or of each object of a list); nested fields keep "
        "their nesting. Fields that are absent are left out."
    )
    Config = FieldsConfig
    examples = (
        {
            "config": {"fields": ["id", "customer.email"]},
            "inputs": {"data": {"id": 7, "note": "x", "customer": {"email": "a@x.org", "phone": "1"}}},
            "outputs": {"result": {"id": 7, "customer": {"email": "a@x.org"}}},
        },
    )

    def reshape(self, config: FieldsConfig, record: Mapping[str, Any]) -> dict[str, Any]:
        picked: dict[str, Any] = {}
        for field in config.fields:
            path = _paths.split(field)
            value = _paths.get(record, path)
            if value is not _paths.MISSING:
                _paths.put(picked, path, _paths.copy_objects(value))
        return picked


class Omit(_Reshape[FieldsConfig]):
    type = "data.omit"
    title = "Omit fields"
    description = (
        "Removes the listed fields from an object (or from each object of a list), e.g. to drop "
        "secrets before logging. Fields that are absent are ignored."
    )
    Config = FieldsConfig
    examples = (
        {
            "config": {"fields": ["password", "profile.ssn"]},
            "inputs": {
                "data": {"user": "ada", "password": "s3cret", "profile": {"ssn": "1", "city": "Oslo"}}
            },
            "outputs": {"result": {"user": "ada", "profile": {"city": "Oslo"}}},
        },
    )

    def reshape(self, config: FieldsConfig, record: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = _paths.copy_objects(record)
        for field in config.fields:
            _paths.remove(result, _paths.split(field))
        return result


class RenameConfig(ComponentConfig):
    fields: dict[FieldPath, FieldPath] = Field(
        min_length=1,
        description='Old field path → new field path, e.g. `{"cust_id": "customer.id"}`, in order.',
    )


class Rename(_Reshape[RenameConfig]):
    type = "data.rename"
    title = "Rename fields"
    description = (
        "Renames (moves) fields of an object, or of each object of a list; a new path may nest the "
        "value deeper. Absent fields are ignored; an existing field at the new path is replaced."
    )
    Config = RenameConfig
    examples = (
        {
            "config": {"fields": {"cust_id": "customer.id", "amt": "amount"}},
            "inputs": {"data": [{"cust_id": 3, "amt": 9.5}]},
            "outputs": {"result": [{"customer": {"id": 3}, "amount": 9.5}]},
        },
    )

    def reshape(self, config: RenameConfig, record: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = _paths.copy_objects(record)
        for old, new in config.fields.items():
            value = _paths.remove(result, _paths.split(old))
            if value is not _paths.MISSING:
                _paths.put(result, _paths.split(new), value)
        return result
