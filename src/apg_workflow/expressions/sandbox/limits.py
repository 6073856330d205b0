"""The bounds every evaluation runs within."""

from __future__ import annotations

from dataclasses import dataclass

_MB = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What one evaluation (a condition, a mapping, a script task) may spend.

    Exceeding any of them stops the evaluation with an :class:`ExpressionError` whose ``limit``
    is the field's name. The defaults suit workflow data; a deployment sets its own with
    ``Sandbox(Limits(script_timeout=10.0, ...))``.
    """

    expression_timeout: float = 1.0
    """Seconds an expression (condition, mapping) may run."""
    script_timeout: float = 5.0
    """Seconds a script may run."""
    max_iterations: int = 1_000_000
    """Loop iterations, comprehension items and function calls, together; also the longest
    ``range()``."""
    max_recursion_depth: int = 100
    """Nesting of calls to functions and lambdas the code defines."""
    max_length: int = 1_000_000
    """Characters of a string, items of a list, tuple, set or dict built by one operation."""
    max_int_digits: int = 4300
    """Decimal digits of an integer (Python's own limit for converting integers to text)."""
    max_memory: int = 256 * _MB
    """Bytes (approximately) of the strings and collections the code builds, counted as they
    are made. It is an allocation budget: a string grown with ``+=`` in a loop spends its size at
    every step, so build a list and ``"".join()`` it instead."""
    max_output_size: int = 16 * _MB
    """Bytes (approximately, as JSON) of the variables a script assigns or changes."""

    def __post_init__(self) -> None:
        for name in ("expression_timeout", "script_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"Limits.{name} must be positive")
        for name in (
            "max_iterations",
            "max_recursion_depth",
            "max_length",
            "max_int_digits",
            "max_memory",
            "max_output_size",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be at least 1")

    @property
    def max_int_bits(self) -> int:
        """``max_int_digits`` in bits (an integer of n digits needs n·log2(10) bits)."""
        return int(self.max_int_digits * 3.3219280948873626) + 1
