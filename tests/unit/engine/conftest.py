"""Fixtures of the engine's scenario tests.

Every scenario runs twice: with states kept in memory, and with each state passed through JSON
between steps (as a database would). Every step is also checked not to change the state it was
given.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from apg_workflow.engine import Program
from apg_workflow.engine.effects import Effect
from apg_workflow.engine.memory import MemoryEngine
from apg_workflow.engine.step import step
from apg_workflow.expressions.sandbox import Sandbox


def make_sandbox() -> Sandbox:
    return Sandbox()


class CheckedEngine(MemoryEngine):
    """A MemoryEngine that asserts that every step leaves its input state untouched."""

    def _step(
        self, program: Program, state: dict[str, Any] | None, command: Any
    ) -> tuple[dict[str, Any] | None, list[Effect]]:
        before = copy.deepcopy(state)
        result = step(program, state, command, self.now)
        assert state == before, f"step mutated its input state on {command!r}"
        return result


EngineFactory = Callable[..., CheckedEngine]


@pytest.fixture(params=[False, True], ids=["memory", "serialized"])
def engine(request: pytest.FixtureRequest) -> EngineFactory:
    """``engine(definitions, ...)`` → a checked MemoryEngine, once in memory and once serialising."""

    def build(definitions: Any, **kwargs: Any) -> CheckedEngine:
        kwargs.setdefault("sandbox", make_sandbox())
        return CheckedEngine(definitions, serialize=request.param, **kwargs)

    return build
