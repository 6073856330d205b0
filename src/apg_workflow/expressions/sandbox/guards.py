"""The guards compiled code calls, bound to one evaluation's budget.

The compiler rewrites sandboxed code so that attribute reads, method calls, calls of anything
that is not a plain built-in, ``+ * ** << %`` and slices go through a :class:`Run`, and so that
every loop iteration, comprehension item and call of a function the code defines ticks it. One
``Run`` is made per evaluation and is reachable from the code as ``__apg`` (a name sandboxed
code cannot write). Guards raise :class:`Violation`, which scripts cannot catch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from types import FunctionType
from typing import Any

from apg_workflow.expressions.sandbox import attributes
from apg_workflow.expressions.sandbox.attributes import SIZED
from apg_workflow.expressions.sandbox.errors import Violation
from apg_workflow.expressions.sandbox.formatting import SafeFormatter, check_percent, check_spec
from apg_workflow.expressions.sandbox.juel import JAVA_METHODS
from apg_workflow.expressions.sandbox.limits import Limits
from apg_workflow.expressions.sandbox.source import FILENAME

_clock = time.monotonic
_FAST_NUMBERS = (float, Decimal)
# Callees whose results are already counted: the code's own functions and guarded methods.
_SELF_COUNTING = (FunctionType, partial)
_HIGHER_ORDER = frozenset({map, filter, sorted, min, max})
# timeout, its limit's name, iterations, recursion depth, memory, length, integer bits and digits
Bounds = tuple[float, str, int, int, int, int, int, int]


class Run:
    """One evaluation's budget (time, iterations, depth, memory) and the guards that spend it."""

    __slots__ = (
        "_deadline",
        "_depth",
        "_formatter",
        "_max_bits",
        "_max_depth",
        "_max_digits",
        "_max_length",
        "_max_memory",
        "_max_steps",
        "_memory",
        "_steps",
        "_timeout",
        "_timeout_name",
    )

    def __init__(self, bounds: Bounds) -> None:
        """A fresh budget within ``bounds`` (see :meth:`bounds`), its clock started."""
        (
            self._timeout,
            self._timeout_name,
            self._max_steps,
            self._max_depth,
            self._max_memory,
            self._max_length,
            self._max_bits,
            self._max_digits,
        ) = bounds
        self._deadline = _clock() + self._timeout
        self._steps = self._depth = self._memory = 0
        self._formatter: SafeFormatter | None = None

    @staticmethod
    def bounds(limits: Limits, *, script: bool) -> Bounds:
        """What a budget of a script (or of an expression) under ``limits`` checks against, worked
        out once so that starting an evaluation's budget only copies it."""
        return (
            limits.script_timeout if script else limits.expression_timeout,
            "script_timeout" if script else "expression_timeout",
            limits.max_iterations,
            limits.max_recursion_depth,
            limits.max_memory,
            limits.max_length,
            limits.max_int_bits,
            limits.max_int_digits,
        )

    # -- time, iterations, depth ------------------------------------------------------------

    def tick(self) -> bool:
        """Count one loop iteration, comprehension item or call; stop at a limit. Always true."""
        self._steps += 1
        if self._steps > self._max_steps:
            raise Violation(
                f"the code ran more than {self._max_steps:,} loop iterations and calls",
                limit="max_iterations",
            )
        if _clock() > self._deadline:
            raise Violation(f"the code ran longer than {self._timeout:g} s", limit=self._timeout_name)
        return True

    def enter(self) -> None:
        """Start a call of a function the code defined (``def``)."""
        self.tick()
        self._depth += 1
        if self._depth > self._max_depth:
            raise Violation(
                f"functions nested deeper than {self._max_depth} calls", limit="max_recursion_depth"
            )

    def leave(self) -> None:
        """End a call started with :meth:`enter`."""
        self._depth -= 1

    def frame(self, body: Callable[[], Any]) -> Any:
        """Evaluate the body of a lambda the code defined, as one call."""
        self.enter()
        try:
            return body()
        finally:
            self.leave()

    # -- memory -----------------------------------------------------------------------------

    def _spend(self, length: int, kind: type, *, new: int | None = None) -> None:
        """Account for a string or collection of ``length`` items about to exist (or just made),
        of which ``new`` (all, by default) take fresh memory; ``new=0`` only checks the length."""
        if length > self._max_length:
            noun = "characters" if kind is str else "items"
            raise Violation(
                f"a {kind.__name__} of {length:,} {noun} exceeds the limit of {self._max_length:,}",
                limit="max_length",
            )
        self._memory += (length if new is None else new) * SIZED[kind]
        if self._memory > self._max_memory:
            raise Violation(
                f"the code built more than {self._max_memory // 1024 // 1024} MB of strings and collections",
                limit="max_memory",
            )

    def sized(self, value: Any) -> Any:
        """Account for a value just built (an f-string, a display with ``*``/``**``); return it."""
        kind = type(value)
        if kind in SIZED:
            self._spend(len(value), kind)
        return value

    def _bits(self, bits: int) -> None:
        if bits > self._max_bits:
            raise Violation(
                f"an integer of more than {self._max_digits:,} digits is not allowed",
                limit="max_int_digits",
            )

    # -- operators --------------------------------------------------------------------------

    def add(self, a: Any, b: Any) -> Any:
        kind = type(a)
        if kind in SIZED and type(b) is kind:
            self._spend(len(a) + len(b), kind)
        return a + b

    def mul(self, a: Any, b: Any) -> Any:
        kind_a, kind_b = type(a), type(b)
        if kind_a in _FAST_NUMBERS or kind_b in _FAST_NUMBERS:
            return a * b
        if kind_a is int and kind_b is int:
            if a and b:
                self._bits(a.bit_length() + b.bit_length())
            return a * b
        if kind_a in SIZED and isinstance(b, int):
            self._spend(len(a) * max(b, 0), kind_a)
        elif kind_b in SIZED and isinstance(a, int):
            self._spend(len(b) * max(a, 0), kind_b)
        return a * b

    def pow(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and b > 1 and abs(a) > 1:
            self._bits((abs(a).bit_length() - 1) * b)
        return a**b

    def lshift(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and a and b > 0:
            self._bits(a.bit_length() + b)
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        if type(a) is str:
            check_percent(a, b, self._max_length)
            return self.sized(a % b)
        return a % b

    def iadd(self, a: Any, b: Any) -> Any:
        """``a += b``, in place for lists as in Python."""
        kind = type(a)
        if kind in SIZED:
            self._spend(len(a) + _length(b), kind, new=_length(b) if kind is list else None)
        a += b
        return a

    def imul(self, a: Any, b: Any) -> Any:
        """``a *= b``, in place for lists as in Python."""
        if type(a) is list and isinstance(b, int):
            self._spend(len(a) * max(b, 0), list, new=len(a) * max(b - 1, 0))
            a *= b
            return a
        return self.mul(a, b)

    def augitem(self, container: Any, key: Any, operator: str, value: Any) -> None:
        """``container[key] op= value`` with ``op`` one of the guarded operators."""
        container[key] = getattr(self, operator)(container[key], value)

    def slice(self, obj: Any, start: Any, stop: Any, step: Any) -> Any:
        return self.sized(obj[start:stop:step])

    def fmt(self, value: Any, conversion: int, spec: str) -> str:
        """``f"{value!conversion:spec}"`` with the widths in ``spec`` checked."""
        check_spec(spec, self._max_length)
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("s"):
            value = str(value)
        elif conversion == ord("a"):
            value = ascii(value)
        return self.sized(format(value, spec))

    # -- attributes and calls ---------------------------------------------------------------

    def attr(self, obj: Any, name: str) -> Any:
        """``obj.name``, when allowed. Methods of strings and collections come back guarded."""
        if not attributes.allowed(obj, name):
            self._refuse(obj, name)
        if type(obj) in SIZED or (isinstance(obj, type) and obj in SIZED):
            return partial(self.method, obj, name)
        return getattr(obj, name)

    def method(self, obj: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
        """``obj.name(*args, **kwargs)``, when allowed, with growing methods checked first."""
        kind = type(obj)
        if not attributes.allowed(obj, name):
            self._refuse(obj, name)
        if kind is str:
            if name in attributes.STR_GROWING:
                return self._grow_str(obj, name, args, kwargs)
            if name in attributes.STR_FORMAT:
                return self._format(obj, name, args, kwargs)
        elif name in ("extend", "update") and kind in SIZED and args:
            self._spend(len(obj) + _length(args[0]), kind, new=_length(args[0]))
        elif name == "sort" and "key" in kwargs:
            kwargs["key"] = self._callback(kwargs["key"])
        result = getattr(obj, name)(*args, **kwargs)
        if type(result) in SIZED:
            self._spend(len(result), type(result))
        return result

    def call(self, func: Any, /, *args: Any, **kwargs: Any) -> Any:
        """``func(*args, **kwargs)`` for a callee that is not a plain built-in: count what it built.

        The callbacks handed to ``map``, ``filter``, ``sorted``, ``min`` and ``max`` are wrapped so
        that each call of them from inside the built-in ticks the budget too.
        """
        if func in _HIGHER_ORDER:
            args = tuple(self._callback(arg) if callable(arg) else arg for arg in args)
            if "key" in kwargs:
                kwargs["key"] = self._callback(kwargs["key"])
        result = func(*args, **kwargs)
        kind = type(result)
        if kind in SIZED and type(func) not in _SELF_COUNTING:
            self._spend(len(result), kind)
        return result

    # -- translated dialects (JUEL, FEEL) ----------------------------------------------------

    def member(self, obj: Any, key: Any) -> Any:
        """``obj.key`` / ``obj[key]`` as JUEL and FEEL mean it: ``null`` for a missing key or index."""
        if obj is None:
            return None
        if isinstance(obj, dict):
            return obj.get(key)
        if isinstance(key, int) and isinstance(obj, list | tuple | str):
            return obj[key] if -len(obj) <= key < len(obj) else None
        if isinstance(key, str):
            return self.attr(obj, key)
        raise TypeError(f"cannot read [{key!r}] of a {type(obj).__name__}")

    def item(self, obj: Any, index: Any) -> Any:
        """FEEL's ``list[index]``: 1-based, negative from the end, ``null`` when out of range."""
        if obj is None:
            return None
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError("a FEEL list index must be a whole number (filters are not supported)")
        return self.member(obj, index - 1 if index > 0 else index) if index else None

    def jcall(self, obj: Any, name: str, /, *args: Any) -> Any:
        """A Java method call in JUEL (``items.size()``), emulated, or the Python method."""
        emulated = JAVA_METHODS.get(name)
        if emulated is None or obj is None:
            return self.method(obj, name, *args)
        return self.sized(emulated(obj, *args))

    @staticmethod
    def empty(value: Any) -> bool:
        """JUEL's ``empty``: ``null``, or a string or collection without items."""
        return value is None or (type(value) in SIZED and not value)

    def text(self, value: Any) -> str:
        """An embedded value in a JUEL template, written as Java writes it."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if type(value) is str else self.sized(str(value))

    def _callback(self, func: Any) -> Any:
        """``func`` as a callback that ticks at every call (the code's own functions already do)."""
        if func is None or (type(func) is FunctionType and func.__code__.co_filename == FILENAME):
            return func
        return partial(self._ticking, func)

    def _ticking(self, func: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.tick()
        return self.call(func, *args, **kwargs)

    def _refuse(self, obj: Any, name: str) -> None:
        if attributes.exists(obj, name):
            raise Violation(f"access to '{attributes.owner(obj)}.{name}' is not allowed in expressions")
        raise AttributeError(f"'{attributes.owner(obj)}' object has no attribute '{name}'")

    def _grow_str(self, text: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        """``text.name(...)`` for a method whose result can dwarf its inputs: check the size first."""
        if name == "join":
            parts = list(args[0]) if args else []
            length = len(text) * max(len(parts) - 1, 0) + sum(len(p) for p in parts if type(p) is str)
            self._spend(length, str, new=0)
            return self.sized(text.join(parts))
        if name == "replace":
            old, new = (*args, None, None)[:2]
            if isinstance(old, str) and isinstance(new, str):
                matches = text.count(old) if old else len(text) + 1
                self._spend(len(text) + matches * max(len(new) - len(old), 0), str, new=0)
        elif name == "expandtabs":
            size = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(size, int):
                self._spend(len(text) * max(size, 1), str, new=0)
        else:
            width = args[0] if args else kwargs.get("width")
            if isinstance(width, int):
                self._spend(max(width, len(text)), str, new=0)
        return self.sized(getattr(text, name)(*args, **kwargs))

    def _format(self, template: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        if self._formatter is None:
            self._formatter = SafeFormatter(self._max_length)
        if name == "format_map":
            (mapping,) = args
            return self.sized(self._formatter.vformat(template, (), mapping))
        return self.sized(self._formatter.vformat(template, args, kwargs))


def _length(value: Any) -> int:
    """Items an ``extend``/``update`` argument adds (0 when unknown until iterated)."""
    try:
        return len(value)
    except TypeError:
        return 0
