"""Frozen values that are quick to make: slotted dataclasses and tuple records.

Effects, commands and the in-memory driver's views are frozen values made at every step. The
``__init__`` that ``@dataclass(frozen=True)`` writes sets each field through
``object.__setattr__``; :func:`quick_init` puts in its place one with the same signature and
defaults that fills the slots through their descriptors, which makes the same object in about
60 % of the time. Everything else (equality, hashing, ``repr``, immutability) stays as the
dataclass made it. The effects made for nearly every element (history entries, user tasks) are
:class:`TupleRecord` subclasses instead: a tuple with named read-only fields.
"""

from __future__ import annotations

import inspect
from dataclasses import KW_ONLY, MISSING, FrozenInstanceError, fields
from functools import partial
from operator import itemgetter
from typing import Any, ClassVar, TypeVar

T = TypeVar("T", bound=type)


def quick_init(cls: T) -> T:
    """Class decorator, above ``@dataclass(frozen=True, slots=True)``: a faster ``__init__``.

    Fields with a ``default_factory`` or ``init=False`` are not supported (none of ours has one).
    """
    namespace: dict[str, Any] = {}
    positional: list[str] = []
    keywords: list[str] = []
    body: list[str] = []
    for index, field in enumerate(fields(cls)):
        if not field.init or field.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: quick_init needs plain fields")
        parameter = field.name
        if field.default is not MISSING:
            namespace[f"_default{index}"] = field.default
            parameter += f"=_default{index}"
        (keywords if field.kw_only else positional).append(parameter)
        namespace[f"_set{index}"] = getattr(cls, field.name).__set__
        body.append(f"_set{index}(self, {field.name})")
    parameters = ["self", *positional, *(["*", *keywords] if keywords else [])]
    source = f"def __init__({', '.join(parameters)}) -> None:\n    " + "\n    ".join(body or ["pass"])
    exec(source, namespace)  # the same technique as dataclasses itself, over field names only
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[misc]
    return cls


_MISSING = object()

try:  # the C descriptor of namedtuple fields, as collections.namedtuple uses it
    from _collections import _tuplegetter as _field
except ImportError:  # another Python implementation

    def _field(index: int, doc: str) -> Any:
        return property(itemgetter(index), doc=doc)


new_record = tuple.__new__
"""``new_record(cls, values)``: the :class:`TupleRecord` ``cls`` holding ``values``, a tuple of
every field in order. One C call and no Python frame: well under half the time of a slotted
frozen dataclass made with :func:`quick_init`, for the values made at every element."""


class TupleRecord(tuple):  # type: ignore[type-arg]
    """An immutable record stored as a tuple of its fields, for values made many times a step.

    A subclass declares its fields as annotations, as a dataclass does (a class attribute gives
    the default; fields after ``_: KW_ONLY`` are keyword-only). It gets a constructor with that
    signature, a read-only property per field, equality only with records of its own type, a
    ``repr`` naming the fields, and ``make(values)``, which builds one from a tuple of every field
    in order without a Python frame (:data:`new_record` does the same a little quicker, for the
    engine's per-element paths).
    """

    __slots__ = ()
    FIELDS: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: list[str] = []
        parameters = ["cls"]
        namespace: dict[str, Any] = {"_new": tuple.__new__}
        for name, annotation in inspect.get_annotations(cls).items():
            text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
            if text.startswith(("ClassVar", "typing.ClassVar")):
                continue
            if annotation is KW_ONLY or text in ("KW_ONLY", "dataclasses.KW_ONLY"):
                parameters.append("*")
                continue
            names.append(name)
            default = cls.__dict__.get(name, _MISSING)
            if default is _MISSING:
                parameters.append(name)
            else:
                namespace[f"_default_{name}"] = default
                parameters.append(f"{name}=_default_{name}")
        if not names:
            return
        if cls.FIELDS:
            raise TypeError(f"{cls.__name__}: a record's fields cannot extend another record's")
        source = f"def __new__({', '.join(parameters)}):\n    return _new(cls, ({', '.join(names)},))"
        exec(source, namespace)  # as dataclasses and quick_init do, over the field names only
        new = namespace["__new__"]
        new.__qualname__ = f"{cls.__qualname__}.__new__"
        cls.__new__ = new  # type: ignore[method-assign]
        cls.FIELDS = tuple(names)
        cls.make = partial(tuple.__new__, cls)  # type: ignore[attr-defined]
        for index, name in enumerate(names):
            setattr(cls, name, _field(index, f"Field {index}: {name}."))

    __init__ = object.__init__  # __new__ does all

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field '{name}'")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field '{name}'")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and tuple.__eq__(self, other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__

    def __reduce__(self) -> tuple[Any, ...]:
        return (tuple.__new__, (type(self), tuple(self)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(self.FIELDS, self, strict=True))
        return f"{type(self).__name__}({fields})"
