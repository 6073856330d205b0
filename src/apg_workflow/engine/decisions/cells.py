"""Decision table cells compiled into functions: FEEL here, Python (and JUEL) through the sandbox.

The language of a cell is the one the file declares for it. A cell without one is read the way
its table is written: a table is *Python-style* (SpiffWorkflow) when one of its undeclared cells
only makes sense as Python (``len(name) > 3``, ``'gold'``, ``True``, ``x == 1``) or when it
declares Python somewhere; otherwise it is FEEL (the DMN default, Camunda). Each cell then tries
its table's language first and the other second, so a FEEL range in a Spiff table still works.

Python input entries follow SpiffWorkflow: ``?`` stands for the input value (``4 < ? < 6``); an
entry that is a whole expression is compared for equality (``"gold"``); one that starts with an
operator is appended to the input (``< 5``, ``in ["a", "b"]``, ``not in ("x",)``).
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from apg_workflow.expressions.dialects import JUEL_MARKERS, Dialect, dialect_of
from apg_workflow.expressions.errors import ExpressionError, ExpressionSyntaxError
from apg_workflow.expressions.feel_eval import compile_expression, compile_unary_tests
from apg_workflow.expressions.python import parse_python
from apg_workflow.model.base import Expression

INPUT_NAME = "dmn_input_value"
CAMUNDA_INPUT_NAME = "cellInput"
_STRING = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_PYTHON_WORDS = re.compile(r"\b(?:True|False|None)\b")


class ExpressionSandbox(Protocol):
    """What decisions need from :class:`apg_workflow.expressions.sandbox.Sandbox`."""

    def evaluate(
        self, text: str, language: str | None, variables: Mapping[str, Any], *, now: datetime
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class Env:
    """What one evaluation of a decision sees."""

    variables: Mapping[str, Any]
    now: datetime
    sandbox: ExpressionSandbox


Value = Callable[[Env], Any]
Test = Callable[[Env, Any], bool]


class CellError(Exception):
    """A cell that cannot be compiled; the caller says which cell it is."""


def _any(env: Env, value: Any) -> bool:
    return True


def _none(env: Env) -> Any:
    return None


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell before its table's style is known: what each language makes of it."""

    expression: Expression
    test: bool  # an input entry (unary tests) rather than an expression
    input_name: str | None = None  # Camunda's input variable, for FEEL input entries

    @property
    def blank(self) -> bool:
        text = self.expression.text.strip()
        return not text or (self.test and text == "-")

    def dialect(self) -> Dialect | None:
        """The declared dialect (``${…}`` declares JUEL); ``None`` when nothing is declared."""
        language = self.expression.language
        if language is None or not language.strip():
            return Dialect.JUEL if self.expression.text.lstrip().startswith(JUEL_MARKERS) else None
        dialect = dialect_of(self.expression.text, language)
        if dialect is None:
            raise CellError(f"expression language '{language}' is not supported")
        return dialect

    def python_only(self) -> bool:
        """An undeclared cell that must be Python: FEEL cannot read it, or it uses True/False/None."""
        if self.blank:
            return False
        dialect = self.dialect()
        if dialect is not None:
            return dialect is Dialect.PYTHON
        if isinstance(self._python(), CellError):
            return False
        return isinstance(self._feel(), CellError) or bool(
            _PYTHON_WORDS.search(_STRING.sub("", self.expression.text))
        )

    def compile(self, python_first: bool) -> Any:
        """The cell's function (:data:`Test` for input entries, else :data:`Value`)."""
        if self.blank:
            return _any if self.test else _none
        dialect = self.dialect()
        if dialect is Dialect.FEEL:
            return _ok(self._feel())
        if dialect is Dialect.PYTHON:
            return _ok(self._python())
        if dialect is Dialect.JUEL:
            return self._sandboxed()
        first, second = (self._python, self._feel) if python_first else (self._feel, self._python)
        compiled = first()
        if isinstance(compiled, CellError):
            alternative = second()
            if isinstance(alternative, CellError):
                raise compiled
            return alternative
        return compiled

    # ---- FEEL -----------------------------------------------------------------------------

    def _feel(self) -> Any:
        text = self.expression.text
        try:
            if not self.test:
                feel = compile_expression(text)
                return lambda env: _limited(text, feel.evaluate, env.variables, now=env.now)
            tests = compile_unary_tests(text)
        except ExpressionSyntaxError as exc:
            return CellError(f"`{text}` is not valid FEEL: {exc}")
        name = self.input_name or CAMUNDA_INPUT_NAME
        if name in text:
            return lambda env, value: _limited(
                text, tests.matches, value, ChainMap({name: value}, env.variables), now=env.now
            )
        return lambda env, value: _limited(text, tests.matches, value, env.variables, now=env.now)

    # ---- Python and other sandbox languages ----------------------------------------------

    def _python(self) -> Any:
        text = self.expression.text
        if not self.test:
            if not _parses(text):
                return CellError(f"`{text}` is not a valid Python expression")
            return _sandbox_value(text, "python")
        condition = _python_test(text)
        if condition is None:
            return CellError(f"`{text}` is not a valid Python test")

        def test(env: Env, value: Any) -> bool:
            return bool(_call_sandbox(env, condition, "python", {**env.variables, INPUT_NAME: value}))

        return test

    def _sandboxed(self) -> Any:
        """JUEL (Camunda 7): an input entry is a condition on the input variable, ``${cellInput > 5}``."""
        text, language = self.expression.text, self.expression.language or Dialect.JUEL.value
        if not self.test:
            return _sandbox_value(text, language)
        name = self.input_name or CAMUNDA_INPUT_NAME
        return lambda env, value: bool(_call_sandbox(env, text, language, {**env.variables, name: value}))


def _sandbox_value(text: str, language: str | None) -> Value:
    return lambda env: _call_sandbox(env, text, language, env.variables)


def _call_sandbox(env: Env, text: str, language: str | None, variables: Mapping[str, Any]) -> Any:
    try:
        return env.sandbox.evaluate(text, language, variables, now=env.now)
    except Exception as exc:  # the sandbox's errors, whatever the expression raised
        raise CellError(f"`{text}` failed: {exc}") from None


def _limited(text: str, evaluate: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A FEEL evaluation; a limit it runs into (too many iterations) fails the cell, not the caller."""
    try:
        return evaluate(*args, **kwargs)
    except ExpressionError as exc:
        raise CellError(f"`{text}` failed: {exc}") from None


def _python_test(text: str) -> str | None:
    """The Python condition SpiffWorkflow makes of an input entry, or ``None``."""
    blanked = _STRING.sub(lambda m: " " * len(m.group()), text)
    marks = [i for i, char in enumerate(blanked) if char == "?"]
    if marks:
        pieces, last = [], 0
        for index in marks:
            pieces += [text[last:index], INPUT_NAME]
            last = index + 1
        condition = "".join([*pieces, text[last:]])
        return condition if _parses(condition) else None
    if _parses(text):
        return f"{INPUT_NAME} == ({text.strip()})"
    condition = f"{INPUT_NAME} {text.strip()}"
    return condition if _parses(condition) else None


def _parses(text: str) -> bool:
    try:
        parse_python(text)
    except ExpressionSyntaxError:
        return False
    return True


def _ok(compiled: Any) -> Any:
    if isinstance(compiled, CellError):
        raise compiled
    return compiled
