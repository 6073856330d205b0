"""A Jinja environment for templates written into workflow definitions: sandboxed and bounded.

Jinja's :class:`ImmutableSandboxedEnvironment` already refuses private attributes, the
interpreter's internals and changes to lists and dicts. On top of it every rendering gets a
:class:`Budget` of time and output size, spent at each attribute access, item access, call,
``+``, ``*``, ``**``, ``%``, ``~`` and filter, so that a template cannot run for ever or build a
string of gigabytes (``{{ "x" * 10**10 }}``, ``"{:>999999999}".format(x)``).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from types import TracebackType
from typing import Any

from jinja2 import Environment, StrictUndefined, Template, Undefined
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Concat, EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError, safe_range

TEMPLATE_FILE = "<template>"
# A width or precision of six digits or more, or taken from the arguments (`*`, nested `{}`).
_WIDE_PERCENT = re.compile(r"%(\([^)]*\))?[-#0 +]*(\d{6,}|\*|\d*\.(\d{6,}|\*))")
_WIDE_BRACES = re.compile(r"\{[^{}]*:[^{}]*(\d{6,}|\{)")


class TemplateLimitError(SecurityError):
    """A template overstepped its time or size budget."""


@dataclass(slots=True)
class Budget:
    """One rendering's allowance: a deadline (monotonic seconds) and a size in characters/items."""

    seconds: float
    max_size: int
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(f"the template ran longer than {self.seconds:g} s")

    def size(self, length: int) -> None:
        if length > self.max_size:
            raise TemplateLimitError(f"the template builds a value of {length:,} characters or items, "
                                     f"more than {self.max_size:,}")  # fmt: skip

    def measure(self, value: Any) -> Any:
        if isinstance(value, str | list | tuple | dict):
            self.size(len(value))
        return value


_BUDGET: ContextVar[Budget] = ContextVar("apg_template_budget")


def _budget() -> Budget:
    budget = _BUDGET.get(None)
    if budget is None:  # rendering outside `bounded()` is a programming error, never unbounded
        raise TemplateLimitError("templates render only within a budget")
    return budget


@contextmanager
def bounded(seconds: float, max_size: int) -> Iterator[Budget]:
    """Render templates inside this block, within ``seconds`` and ``max_size``."""
    token = _BUDGET.set(Budget(seconds, max_size))
    try:
        yield _BUDGET.get()
    finally:
        _BUDGET.reset(token)


class _Generator(CodeGenerator):
    """Compiles ``a ~ b`` to a size-checked join."""

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        self.write("environment.checked_concat((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


def _check_format(text: Any) -> None:
    if isinstance(text, str) and (_WIDE_PERCENT.search(text) or _WIDE_BRACES.search(text)):
        raise TemplateLimitError(
            "format widths and precisions above 99,999, or taken from arguments, are refused"
        )


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with the per-rendering budget enforced (see the module's documentation)."""

    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, undefined: type[Undefined] = StrictUndefined) -> None:
        super().__init__(autoescape=False, undefined=undefined, keep_trailing_newline=True)
        self.filters = {name: _bounded_filter(function) for name, function in self.filters.items()}
        self.globals["range"] = _Range

    def checked_concat(self, values: tuple[Any, ...]) -> str:
        budget = _budget()
        parts = [str(value) for value in values]
        budget.size(sum(len(part) for part in parts))
        return "".join(parts)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _budget().tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _budget().tick()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)
        return wrapped

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.tick()
        _check_arguments(budget, getattr(obj, "__name__", ""), getattr(obj, "__self__", None), args, kwargs)
        return budget.measure(super().call(context, obj, *args, **kwargs))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = _budget()
        budget.tick()
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                    budget.size(len(sequence) * max(times, 0))
        elif (
            operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple)
        ):
            budget.size(len(left) + len(right))
        elif (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right > 0
        ):
            if right * math.log10(abs(left)) > 4300:
                raise TemplateLimitError("the power has more than 4,300 digits")
        elif operator == "%":
            _check_format(left)
        return budget.measure(super().call_binop(context, operator, left, right))


def _check_arguments(
    budget: Budget, name: str, owner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Refuse calls whose result would be huge: a large width or count, or a replacement that
    multiplies the text."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool):
            budget.size(value)
    subject = owner if owner is not None else (args[0] if args else None)
    rest = args if owner is not None else args[1:]
    if name in ("replace", "do_replace") and isinstance(subject, str) and len(rest) >= 2:
        old, new = str(rest[0]), str(rest[1])
        budget.size(len(subject) + subject.count(old) * max(len(new) - len(old), 0) + len(new))
    elif name in ("expandtabs",) and isinstance(subject, str):
        budget.size(len(subject) * 8 if not rest else len(subject) * max(int(rest[0]), 1))
    elif name in ("format", "do_format"):
        _check_format(subject)


class _Range:
    """``range()`` for templates: at most ``MAX_RANGE`` numbers, spending the budget's time as a
    loop goes through them."""

    __slots__ = ("_numbers",)

    def __init__(self, *args: int) -> None:
        self._numbers = safe_range(*args)

    def __iter__(self) -> Iterator[int]:
        budget = _budget()
        for number in self._numbers:
            budget.tick()
            yield number

    def __len__(self) -> int:
        return len(self._numbers)

    def __getitem__(self, index: Any) -> Any:
        return self._numbers[index]

    def __contains__(self, number: object) -> bool:
        return number in self._numbers

    def __reversed__(self) -> Iterator[int]:
        return reversed(self._numbers)


def _bounded_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)  # keeps Jinja's pass_context / pass_environment markers
    def bounded_filter(*args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.tick()
        plain = [arg for arg in args if not isinstance(arg, Context | EvalContext | Environment)]
        _check_arguments(budget, function.__name__, None, tuple(plain), kwargs)
        return budget.measure(function(*args, **kwargs))

    return bounded_filter


def render(template: Template, variables: dict[str, Any], budget: Budget) -> str:
    """``template`` rendered over ``variables``, its output counted against ``budget`` as it grows."""
    length, chunks = 0, []
    for chunk in template.generate(variables):
        length += len(chunk)
        budget.size(length)
        budget.tick()
        chunks.append(chunk)
    return "".join(chunks)


def template_line(traceback: TracebackType | None) -> int | None:
    """The line of the template where an exception raised while rendering it happened."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == TEMPLATE_FILE:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line
