"""The default language: a safe subset of Python.

Conditions and expressions are single Python expressions (``ast.parse(mode="eval")``); scripts
are Python statements (``mode="exec"``). Text is dedented first, so that scripts indented inside
an XML element parse as written. On top of Python's own grammar the sandbox refuses:

- ``import`` and ``from … import`` (scripts get the modules the engine provides, nothing else);
- names that start with ``__`` (``__import__``, ``__builtins__``) and attributes that start with
  ``_`` (``x.__class__``, ``obj._secret``): the doors out of a sandbox;
- calls to the built-ins that reach outside it: ``eval``, ``exec``, ``compile``, ``open``,
  ``globals``, ``locals``, ``vars``, ``getattr``, ``setattr``, ``delattr``, ``breakpoint``.

``lambda``, comprehensions, ``def`` and ``class`` inside scripts are allowed: they cannot reach
anything the names above do not.
"""

from __future__ import annotations

import ast
import warnings

from apg_workflow.expressions.errors import ExpressionSyntaxError

FORBIDDEN_CALLS = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "open",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "breakpoint",
    }
)


def parse_python(text: str, *, script: bool = False) -> ast.Expression | ast.Module:
    """Parse ``text`` as a Python expression (or, with ``script``, statements) the sandbox accepts.

    Raises :class:`ExpressionSyntaxError` located in ``text`` as written.
    """
    if not text.strip():
        raise ExpressionSyntaxError("the script is empty" if script else "the expression is empty")
    body, margin = _dedent(text)
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" and the like are not our business
            warnings.simplefilter("ignore")
            tree: ast.Expression | ast.Module = (
                ast.parse(body, mode="exec") if script else ast.parse(body, mode="eval")
            )
            _refuse_unsafe(tree)
            compile(tree, "<expression>", "exec" if script else "eval")  # 'return' outside a function, …
    except SyntaxError as exc:
        raise _located(exc, body, margin, multiline="\n" in text.strip()) from None
    except ValueError as exc:  # null bytes, on Python releases that raise ValueError for them
        raise ExpressionSyntaxError(str(exc)) from None
    except (RecursionError, MemoryError):
        raise ExpressionSyntaxError("the expression is nested too deeply") from None
    return tree


class _Unsafe(SyntaxError):
    """A construct Python accepts and the sandbox refuses (raised inside the visitor)."""

    def __init__(self, reason: str, node: ast.AST) -> None:
        super().__init__(reason)
        self.lineno = getattr(node, "lineno", 1)
        self.offset = getattr(node, "col_offset", 0) + 1
        self.text = None


def _refuse_unsafe(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise _Unsafe("imports are not allowed", node)
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise _Unsafe(f"the name '{node.id}' is not available", node)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise _Unsafe(f"the attribute '{node.attr}' is private and not accessible", node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            raise _Unsafe(f"'{node.func.id}()' is not available", node.func)


def _located(exc: SyntaxError, body: str, margin: int, *, multiline: bool) -> ExpressionSyntaxError:
    """Turn Python's error into ours, with the position in the text as written (margin added back)."""
    reason = exc.msg
    if exc.lineno is None:  # e.g. "source code string cannot contain null bytes"
        return ExpressionSyntaxError(reason)
    lines = body.split("\n")
    line = min(exc.lineno, len(lines))
    source_line = lines[line - 1]
    end = len(source_line.rstrip()) + 1  # the column just after the line's last character
    if not exc.offset or exc.offset >= end:
        # Python points at the end of the line (or nowhere) when the input stops too early: say so.
        column = end
        if reason == "invalid syntax":
            last = not "\n".join(lines[line:]).strip()
            reason = "unexpected end of expression" if last else "unexpected end of line"
    else:
        column = exc.offset
        if reason.startswith("invalid syntax") and source_line[column - 1 : column] == "=":
            reason = "`=` assigns a value; compare with `==`"
    indent = margin if source_line.strip() else 0
    return ExpressionSyntaxError(
        reason, line=line, column=column + indent, snippet=source_line, multiline=multiline
    )


def _dedent(text: str) -> tuple[str, int]:
    """Remove the indentation every non-blank line shares; return the text and its width."""
    lines = text.split("\n")
    indents = [line[: len(line) - len(line.lstrip(" \t"))] for line in lines if line.strip()]
    prefix = indents[0] if indents else ""
    for indent in indents[1:]:
        while not indent.startswith(prefix):
            prefix = prefix[:-1]
    margin = len(prefix)
    if not margin:
        return text, 0
    return "\n".join(line[margin:] if line.strip() else "" for line in lines), margin
