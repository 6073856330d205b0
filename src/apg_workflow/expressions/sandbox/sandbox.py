"""The sandbox: evaluate conditions and mappings, execute scripts."""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, cast

from apg_workflow.expressions.dialects import Dialect, dialect_of
from apg_workflow.expressions.feel_eval import FeelExpression, compile_expression
from apg_workflow.expressions.sandbox.builtins import make_builtins, with_clock
from apg_workflow.expressions.sandbox.compiler import EXPRESSION, GUARDS, SCRIPT, Compiled, compile_code
from apg_workflow.expressions.sandbox.errors import ExpressionError, Violation
from apg_workflow.expressions.sandbox.guards import Run
from apg_workflow.expressions.sandbox.limits import Limits
from apg_workflow.expressions.sandbox.values import approximate_size, copy_value, unstorable

_NUMBERS = frozenset({int, float, bool, type(None)})
_UNAVAILABLE = frozenset(
    {"type", "object", "super", "getattr", "setattr", "delattr", "hasattr", "eval", "exec", "compile", "open",
     "globals", "locals", "vars", "dir", "id", "input", "breakpoint", "memoryview", "bytearray", "bytes",
     "classmethod", "staticmethod", "property", "help", "exit", "quit", "iter", "next", "callable", "format",
     "repr", "chr", "ord", "hash", "pow", "issubclass"}
)  # fmt: skip


class Sandbox:
    """Evaluates expressions and runs scripts of untrusted workflow definitions, within ``limits``.

    Safe to share between threads. Compiled code is cached (``cache_size`` entries, least
    recently used first out) by text, language and kind.
    """

    def __init__(self, limits: Limits | None = None, *, cache_size: int = 4096) -> None:
        self.limits = limits or Limits()
        self._builtins = make_builtins(self.limits)
        self._bounds = (Run.bounds(self.limits, script=False), Run.bounds(self.limits, script=True))
        self._clock_lock = threading.Lock()
        self._clock: tuple[_dt.datetime, dict[str, Any]] | None = None
        self._compile = lru_cache(maxsize=cache_size)(_compile)

    def compile(self, text: str, language: str | None, kind: str = EXPRESSION) -> Compiled | FeelExpression:
        """Compile (once: the result is cached) an ``"expression"`` or a ``"script"``.

        A FEEL expression becomes a :class:`FeelExpression`, anything else guarded Python code.
        Raises :class:`ExpressionError` for a syntax error, a forbidden construct or an
        unsupported language, so that a definition can be checked when it is loaded.
        """
        return self._compile(text, language, kind)

    def evaluate(
        self, text: str, language: str | None, variables: Mapping[str, Any], *, now: _dt.datetime
    ) -> Any:
        """The value of the expression ``text`` (Python unless ``language`` or ``${…}``/``=…`` say
        otherwise) over ``variables``, with ``now()`` reading ``now``. FEEL is evaluated by
        :mod:`apg_workflow.expressions.feel_eval`, its filters and quantifiers within
        ``limits.max_iterations``."""
        compiled = self._compile(text, language, EXPRESSION)
        if type(compiled) is FeelExpression:
            return compiled.evaluate(variables, now=now, max_iterations=self.limits.max_iterations)
        namespace = self._namespace(compiled, variables, now)
        try:
            result = eval(compiled.code, namespace)
        except Exception as exc:
            raise _failure(exc, compiled) from None
        except Violation as exc:
            raise compiled.source.error_in(exc.message, exc.__traceback__, limit=exc.limit) from None
        problem = unstorable(result) or ("a function" if callable(result) else None)
        if problem:
            raise ExpressionError(f"the expression's value is {problem}")
        return result

    def execute(self, script: str, variables: Mapping[str, Any], *, now: _dt.datetime) -> dict[str, Any]:
        """Run the Python ``script`` over a copy of ``variables``; return all variables afterwards.

        Names the script binds to functions are left out (as SpiffWorkflow does); ``variables``
        itself is never changed. Compare the result with ``variables`` to find what changed.
        """
        compiled = cast(Compiled, self._compile(script, None, SCRIPT))  # scripts are never FEEL
        namespace = self._namespace(compiled, variables, now)
        try:
            exec(compiled.code, namespace)
        except Exception as exc:
            raise _failure(exc, compiled) from None
        except Violation as exc:
            raise compiled.source.error_in(exc.message, exc.__traceback__, limit=exc.limit) from None
        del namespace["__builtins__"]
        namespace.pop(GUARDS, None)
        result = {name: value for name, value in namespace.items() if not callable(value)}
        self._check_output(compiled, result)
        return result

    def _namespace(
        self, compiled: Compiled, variables: Mapping[str, Any], now: _dt.datetime
    ) -> dict[str, Any]:
        namespace = dict(variables)
        if compiled.mutates:
            for name in compiled.names & namespace.keys():
                namespace[name] = copy_value(namespace[name])
        namespace["__builtins__"] = self._clock_builtins(now) if compiled.uses_clock else self._builtins
        if compiled.guarded:
            namespace[GUARDS] = Run(self._bounds[compiled.script])
        return namespace

    def _clock_builtins(self, now: _dt.datetime) -> dict[str, Any]:
        """The built-ins with the clock at ``now`` (kept for the next evaluation at the same time)."""
        cached = self._clock
        if cached is not None and cached[0] == now and cached[0].tzinfo is now.tzinfo:
            return cached[1]
        builtins = with_clock(self._builtins, now)
        with self._clock_lock:
            self._clock = (now, builtins)
        return builtins

    def _check_output(self, compiled: Compiled, result: dict[str, Any]) -> None:
        size = 0
        written = []
        for name in compiled.written & result.keys():
            kind = type(result[name])
            if kind is str:  # storable, and sized as approximate_size does
                size += len(result[name]) + 2
            elif kind in _NUMBERS:
                size += 8
            else:
                written.append(name)
        for name in written:
            problem = unstorable(result[name])
            if problem:
                raise ExpressionError(f"the variable '{name}' holds {problem}")
        budget = self.limits.max_output_size
        for name in written:
            try:
                size += approximate_size(result[name], budget)
            except ValueError as exc:
                raise ExpressionError(f"the variable '{name}' holds {exc} inside") from None
        if size > budget:
            raise ExpressionError(
                f"the variables the script wrote take about {size:,} bytes, more than {budget:,}",
                limit="max_output_size",
            )


def _compile(text: str, language: str | None, kind: str) -> Compiled | FeelExpression:
    """FEEL expressions are evaluated by :mod:`apg_workflow.expressions.feel_eval`, which never
    runs Python; everything else is compiled to guarded Python code."""
    if kind == EXPRESSION and dialect_of(text, language) is Dialect.FEEL:
        return compile_expression(text, comments=True)
    return compile_code(text, language, kind)


def _failure(exc: Exception, compiled: Compiled) -> ExpressionError:
    """The error for an exception raised by sandboxed code, located in its text."""
    limit = None
    if isinstance(exc, NameError):
        name = getattr(exc, "name", None) or str(exc)
        message = (
            f"'{name}' is not available in expressions"
            if name in _UNAVAILABLE
            else f"unknown variable '{name}'"
        )
    elif isinstance(exc, RecursionError):
        message, limit = "functions nested too deeply (Python's recursion limit)", "max_recursion_depth"
    elif isinstance(exc, MemoryError):
        message, limit = "the code ran out of memory", "max_memory"
    elif isinstance(exc, KeyError):
        message = f"KeyError: no key {exc.args[0]!r}" if exc.args else "KeyError"
    else:
        detail = str(exc)
        message = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return compiled.source.error_in(message, exc.__traceback__, limit=limit)
