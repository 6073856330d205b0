"""Expressions and scripts: conditions, mappings, script tasks.

This layer imports nothing else of the platform, so the engine, the components and the CLI can
all use it. The default language is a safe subset of Python; Camunda 7 JUEL (``${…}``) and
Camunda 8 FEEL (``=…``) are recognised too.

>>> syntax_error("amount > 1000 and approved", kind="condition") is None
True
"""

from apg_workflow.expressions.dialects import Dialect, dialect_of
from apg_workflow.expressions.errors import ExpressionError, ExpressionSyntaxError
from apg_workflow.expressions.python import FORBIDDEN_CALLS, parse_python
from apg_workflow.expressions.syntax import EXPRESSION_KINDS, ExpressionKind, check_syntax, syntax_error

__all__ = [
    "EXPRESSION_KINDS",
    "FORBIDDEN_CALLS",
    "Dialect",
    "ExpressionError",
    "ExpressionKind",
    "ExpressionSyntaxError",
    "check_syntax",
    "dialect_of",
    "parse_python",
    "syntax_error",
]
