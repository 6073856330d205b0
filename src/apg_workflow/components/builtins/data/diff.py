"""Compare two values and list what changed, field by field."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import Field

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data import _paths
from apg_workflow.components.builtins.data._base import DataComponent, identity, prop, shape


class DiffConfig(ComponentConfig):
    ignore: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="Fields to leave out of the comparison, as dotted paths; `*` matches any one key or "
        "index (`lines.*.updated_at`). Whatever lies under them is ignored too.",
    )
    lists: Literal["index", "whole"] = Field(
        "index",
        description="`index`: compare lists item by item (changes name `lines.2.qty`); `whole`: a list "
        "that differs in any way is one change.",
    )
    max_changes: int = Field(1000, ge=1, le=100_000, description="List at most this many changes.")


class Diff(DataComponent[DiffConfig]):
    type = "data.diff"
    title = "Compare two values"
    description = (
        "Lists the differences between `before` and `after`: fields added, removed or changed, each "
        "with its dotted path and values. Numbers compare by value (1 equals 1.0); true differs from 1."
    )
    Config = DiffConfig
    inputs = shape(required=("before", "after"), before=prop("the old value"), after=prop("the new value"))
    outputs = shape(
        equal=prop("whether nothing changed", "boolean"),
        changes=prop(
            "`{op: added|removed|changed, path, before?, after?}` each, in document order",
            "array",
            items={"type": "object"},
        ),
        count=prop("how many changes there are (even past max_changes)", "integer"),
    )
    examples = (
        {
            "config": {"ignore": ["updated_at"]},
            "inputs": {
                "before": {"status": "open", "owner": "ada", "updated_at": "2024-05-01"},
                "after": {"status": "closed", "tags": ["urgent"], "updated_at": "2024-05-03"},
            },
            "outputs": {
                "equal": False,
                "changes": [
                    {"op": "changed", "path": "status", "before": "open", "after": "closed"},
                    {"op": "removed", "path": "owner", "before": "ada"},
                    {"op": "added", "path": "tags", "after": ["urgent"]},
                ],
                "count": 3,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: DiffConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        before, after = self.value(inputs, "before"), self.value(inputs, "after")
        ignored = [_paths.split(pattern) for pattern in config.ignore]
        changes, count = [], 0
        for change in _walk(before, after, (), ignored, config.lists):
            count += 1
            if count <= config.max_changes:
                changes.append(change)
        return {"equal": count == 0, "changes": changes, "count": count}


def _walk(
    before: Any, after: Any, path: tuple[str, ...], ignored: list[tuple[str, ...]], lists: str
) -> Iterator[dict[str, Any]]:
    if _ignored(path, ignored):
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key, old in before.items():
            if key in after:
                yield from _walk(old, after[key], (*path, str(key)), ignored, lists)
            elif not _ignored((*path, str(key)), ignored):
                yield {"op": "removed", "path": _name(path, key), "before": old}
        for key, new in after.items():
            if key not in before and not _ignored((*path, str(key)), ignored):
                yield {"op": "added", "path": _name(path, key), "after": new}
    elif isinstance(before, list | tuple) and isinstance(after, list | tuple) and lists == "index":
        for index, (old, new) in enumerate(zip(before, after, strict=False)):
            yield from _walk(old, new, (*path, str(index)), ignored, lists)
        for index in range(len(after), len(before)):
            if not _ignored((*path, str(index)), ignored):
                yield {"op": "removed", "path": _name(path, index), "before": before[index]}
        for index in range(len(before), len(after)):
            if not _ignored((*path, str(index)), ignored):
                yield {"op": "added", "path": _name(path, index), "after": after[index]}
    elif identity(before) != identity(after):
        yield {"op": "changed", "path": ".".join(path), "before": before, "after": after}


def _ignored(path: tuple[str, ...], ignored: list[tuple[str, ...]]) -> bool:
    return any(_paths.matches(path, pattern) for pattern in ignored)


def _name(path: tuple[str, ...], key: Any) -> str:
    return ".".join((*path, str(key)))
