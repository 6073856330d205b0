"""Immutable containers for JSON-like data carried by the model (component config, forms)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn


class FrozenDict(dict[str, Any]):
    """A ``dict`` that cannot change after it is built.

    It stays a real ``dict`` so ``json.dumps`` and equality with plain dicts work, but every
    mutating method raises. Build one with :func:`freeze`, which freezes nested values too.
    """

    __slots__ = ("_hash",)

    def _readonly(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("FrozenDict is immutable; build a new one with dict(...) and freeze()")

    __setitem__ = __delitem__ = _readonly  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        try:
            return self._hash
        except AttributeError:
            value = hash(frozenset((k, _hashable(v)) for k, v in self.items()))
            self._hash = value
            return value

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def thaw(self) -> dict[str, Any]:
        """A mutable deep copy (lists instead of tuples)."""
        return thaw(self)


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def freeze(value: Any) -> Any:
    """Deep-freeze JSON-like data: dicts become :class:`FrozenDict`, lists become tuples."""
    if isinstance(value, FrozenDict):
        return value
    if isinstance(value, Mapping):
        return FrozenDict({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Inverse of :func:`freeze`: plain dicts and lists, ready for ``json`` or YAML."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


EMPTY: FrozenDict = FrozenDict()


def frozen_items(pairs: Iterable[tuple[str, Any]]) -> FrozenDict:
    return FrozenDict({k: freeze(v) for k, v in pairs})
