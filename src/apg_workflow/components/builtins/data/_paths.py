"""Dotted field paths (``customer.address.city``), the way every data component names a field.

Reading, a segment of digits indexes a list (``lines.0.sku``); writing and deleting work on
objects only. A path never fails on missing data: reading gives :data:`MISSING`.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Annotated, Any, Final

from pydantic import Field

from apg_workflow.components.builtins.data._base import kind


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""What :func:`get` returns for a path that leads nowhere (distinct from a ``null`` value)."""

FieldPath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=500,
        pattern=r"^[^.]+(\.[^.]+)*$",
        description="A field, as a dotted path: `status`, `customer.address.city`, `lines.0.sku`.",
    ),
]


def split(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def get(value: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` inside ``value``, or :data:`MISSING`."""
    for segment in path:
        if isinstance(value, Mapping):
            if segment not in value:
                return MISSING
            value = value[segment]
        elif isinstance(value, list | tuple) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return MISSING
    return value


def put(target: MutableMapping[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set ``path`` in ``target`` to ``value``, creating the objects on the way.

    Raises ``ValueError`` when a segment on the way holds something other than an object.
    """
    for depth, segment in enumerate(path[:-1]):
        inner = target.setdefault(segment, {})
        if not isinstance(inner, MutableMapping):
            raise ValueError(f"'{'.'.join(path[: depth + 1])}' holds {kind(inner)}, not an object")
        target = inner
    target[path[-1]] = value


def remove(target: MutableMapping[str, Any], path: tuple[str, ...]) -> Any:
    """Delete ``path`` from ``target``; the removed value, or :data:`MISSING` when absent."""
    for segment in path[:-1]:
        inner = target.get(segment)
        if not isinstance(inner, MutableMapping):
            return MISSING
        target = inner
    return target.pop(path[-1], MISSING)


def copy_objects(value: Any) -> Any:
    """A copy of ``value`` whose objects (at any depth) may be changed without touching it."""
    if isinstance(value, Mapping):
        return {key: copy_objects(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [copy_objects(item) for item in value]
    return value


def matches(path: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """True when ``path`` is ``pattern`` or lies under it; a ``*`` segment matches any one segment."""
    if len(path) < len(pattern):
        return False
    return all(want in ("*", have) for have, want in zip(path, pattern, strict=False))
