"""From text to a guarded code object: parse, check against a whitelist, rewrite, compile.

The whitelist admits the Python subset workflow expressions and scripts use; anything else
(``import``, ``class``, ``with``, ``yield``, ``async``, ``global``, ``match``, dunder names,
private attributes, attribute assignment, a bare ``except:``) is refused with its line and
column. The rewriter then routes every operation that could reach outside the sandbox or spend
without bound through the guards of :mod:`.guards` (see there), reached as ``__apg``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from types import CodeType

from apg_workflow.expressions import juel
from apg_workflow.expressions.dialects import Dialect, dialect_of
from apg_workflow.expressions.sandbox.attributes import MUTATING_METHODS
from apg_workflow.expressions.sandbox.builtins import DIRECT_CALLS
from apg_workflow.expressions.sandbox.clock import CLOCK_NAMES
from apg_workflow.expressions.sandbox.errors import ExpressionError
from apg_workflow.expressions.sandbox.source import FILENAME, Source, parse

EXPRESSION = "expression"
SCRIPT = "script"
GUARDS = "__apg"


@dataclass(frozen=True, slots=True, eq=False)
class Compiled:
    """An expression or script ready to run (see ``Sandbox.compile``)."""

    code: CodeType
    script: bool
    source: Source
    names: frozenset[str]
    """Every global name the code reads, writes or deletes."""
    written: frozenset[str]
    """The names whose values the code may have replaced or changed."""
    mutates: bool
    """Whether the code may change a value in place (so it must work on copies of the variables)."""
    uses_clock: bool
    guarded: bool


def compile_code(text: str, language: str | None, kind: str) -> Compiled:
    """Compile ``text`` as an expression or a script of ``language`` (see ``Sandbox.compile``)."""
    if kind not in (EXPRESSION, SCRIPT):
        raise ValueError(f"kind must be {EXPRESSION!r} or {SCRIPT!r}, not {kind!r}")
    script = kind == SCRIPT
    dialect = Dialect.PYTHON if script and not language else dialect_of(text, language)
    if dialect is None:
        raise ExpressionError(f"expression language '{language}' is not supported")
    tree: ast.Expression | ast.Module
    if dialect is Dialect.PYTHON:
        tree, source = parse(text, script=script)
    elif script:
        raise ExpressionError(f"scripts in {dialect.value.upper()} are not supported; write them in Python")
    elif dialect is Dialect.FEEL:
        raise ValueError("FEEL expressions are compiled by apg_workflow.expressions.feel_eval")
    else:
        try:
            tree = juel.translate(text)
        except RecursionError:
            raise ExpressionError("the expression is nested too deeply") from None
        source = Source(text)
    checker = _Checker(source, trusted=dialect is not Dialect.PYTHON)
    rewriter = _Rewriter()
    try:
        checker.visit(tree)
        tree = ast.fix_missing_locations(rewriter.visit(tree))
        code = compile(tree, FILENAME, "exec" if script else "eval", dont_inherit=True)
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply") from None
    except (SyntaxError, ValueError) as exc:
        raise source.error(f"the code cannot be compiled: {exc}", None) from None
    return Compiled(
        code=code,
        script=script,
        source=source,
        names=frozenset(checker.names),
        written=frozenset(checker.names if checker.mutates else checker.stored),
        mutates=checker.mutates,
        uses_clock=bool(checker.names & CLOCK_NAMES),
        guarded=rewriter.guarded,
    )


_ALLOWED = (
    ast.Expression, ast.Module, ast.FunctionDef, ast.Return, ast.Delete, ast.Assign, ast.AugAssign,
    ast.AnnAssign, ast.For, ast.While, ast.If, ast.Raise, ast.Try, ast.Assert, ast.Expr, ast.Pass,
    ast.Break, ast.Continue, ast.BoolOp, ast.NamedExpr, ast.BinOp, ast.UnaryOp, ast.Lambda, ast.IfExp,
    ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Compare, ast.Call,
    ast.FormattedValue, ast.JoinedStr, ast.Constant, ast.Attribute, ast.Subscript, ast.Starred,
    ast.Name, ast.List, ast.Tuple, ast.Slice, ast.expr_context, ast.boolop, ast.operator, ast.unaryop,
    ast.cmpop, ast.comprehension, ast.ExceptHandler, ast.arguments, ast.arg, ast.keyword,
)  # fmt: skip

_REFUSED = {
    ast.Import: "imports are not allowed",
    ast.ImportFrom: "imports are not allowed",
    ast.ClassDef: "class definitions are not allowed",
    ast.AsyncFunctionDef: "'async' code is not allowed",
    ast.AsyncFor: "'async' code is not allowed",
    ast.AsyncWith: "'async' code is not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield from' is not allowed",
    ast.Global: "'global' is not allowed",
    ast.Nonlocal: "'nonlocal' is not allowed",
    ast.With: "'with' is not allowed",
    ast.Match: "'match' is not allowed",
    ast.TryStar: "'except*' is not allowed",
}


class _Checker(ast.NodeVisitor):
    """Refuse what is not on the whitelist; collect the facts the runner needs."""

    def __init__(self, source: Source, *, trusted: bool) -> None:
        self._source = source
        self._trusted = trusted  # translated dialects call the guards themselves
        self.names: set[str] = set()
        self.stored: set[str] = set()
        self.mutates = False

    def _refuse(self, message: str, node: ast.AST) -> ExpressionError:
        return self._source.error(message, node)

    def generic_visit(self, node: ast.AST) -> None:
        if not isinstance(node, _ALLOWED):
            message = _REFUSED.get(type(node), f"'{type(node).__name__}' is not allowed in expressions")
            raise self._refuse(message, node)
        super().generic_visit(node)

    def _identifier(self, name: str | None, node: ast.AST) -> None:
        """Refuse a dunder name, wherever it is bound or read (it could shadow the guards)."""
        if name and name.startswith("__") and not (self._trusted and name == GUARDS):
            raise self._refuse(f"the name '{name}' is not available", node)

    def visit_Name(self, node: ast.Name) -> None:
        self._identifier(node.id, node)
        self.names.add(node.id)
        if not isinstance(node.ctx, ast.Load):
            self.stored.add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_") and not (self._trusted and _is_guard(node)):
            raise self._refuse(f"the attribute '{node.attr}' is private and not accessible", node)
        if not isinstance(node.ctx, ast.Load):
            raise self._refuse(f"assigning or deleting the attribute '{node.attr}' is not supported", node)
        self.mutates = self.mutates or node.attr in MUTATING_METHODS
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not isinstance(node.ctx, ast.Load):
            self.mutates = True
            if isinstance(node.slice, ast.Slice) and isinstance(node.ctx, ast.Store):
                raise self._refuse("assigning to a slice is not supported", node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.mutates = True
        self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> None:
        self._identifier(node.arg, node)
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        self._identifier(node.arg, node)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._identifier(node.name, node)
        if node.decorator_list:
            raise self._refuse("decorators are not allowed", node.decorator_list[0])
        self.names.add(node.name)
        self.stored.add(node.name)
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is None:
            raise self._refuse("a bare 'except:' is not allowed: name the exceptions to catch", node)
        self._identifier(node.name, node)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, bytes):
            raise self._refuse("bytes literals are not supported", node)


def _is_guard(node: ast.expr) -> bool:
    """Whether ``node`` is ``__apg.<guard>`` (only translated dialects write it)."""
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == GUARDS


_BINARY_GUARDS = {ast.Add: "add", ast.Mult: "mul", ast.Pow: "pow", ast.LShift: "lshift", ast.Mod: "mod"}
_AUGMENTED_GUARDS = {ast.Add: "iadd", ast.Mult: "imul", ast.Pow: "pow", ast.LShift: "lshift", ast.Mod: "mod"}


class _Rewriter(ast.NodeTransformer):
    """Route operations through the guards and inject the budget's ticks."""

    def __init__(self) -> None:
        self.guarded = False

    def _guard(
        self, name: str, args: list[ast.expr], node: ast.AST, keywords: list[ast.keyword] | None = None
    ) -> ast.Call:
        self.guarded = True
        func = ast.Attribute(value=ast.Name(id=GUARDS, ctx=ast.Load()), attr=name, ctx=ast.Load())
        return ast.copy_location(ast.Call(func=func, args=args, keywords=keywords or []), node)

    def _tick(self, node: ast.AST) -> ast.Expr:
        return ast.copy_location(ast.Expr(value=self._guard("tick", [], node)), node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if _is_guard(node.func):
            self.guarded = True
            return self.generic_visit(node)
        if isinstance(node.func, ast.Attribute):
            target = self.visit(node.func.value)
            rest = [self.visit(arg) for arg in node.args]
            keywords = [self.visit(keyword) for keyword in node.keywords]
            return self._guard("method", [target, ast.Constant(node.func.attr), *rest], node, keywords)
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in DIRECT_CALLS:
            return node
        return self._guard("call", [node.func, *node.args], node, node.keywords)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if _is_guard(node):
            return node
        return self._guard("attr", [self.visit(node.value), ast.Constant(node.attr)], node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        guard = _BINARY_GUARDS.get(type(node.op))
        return self._guard(guard, [node.left, node.right], node) if guard else node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        guard = _AUGMENTED_GUARDS.get(type(node.op))
        target = node.target
        if guard is None:
            return node
        if isinstance(target, ast.Name):
            current = ast.copy_location(ast.Name(id=target.id, ctx=ast.Load()), target)
            value = self._guard(guard, [current, node.value], node)
            return ast.copy_location(ast.Assign(targets=[target], value=value), node)
        assert isinstance(target, ast.Subscript)  # attribute targets are refused by the checker
        call = self._guard("augitem", [target.value, target.slice, ast.Constant(guard), node.value], node)
        return ast.copy_location(ast.Expr(value=call), node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        """``x: T = v`` is ``x = v`` (annotations would land in a variable ``__annotations__``)."""
        self.generic_visit(node)
        if node.value is None:
            return ast.copy_location(ast.Pass(), node)
        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Slice):
            bounds = [
                part or ast.Constant(None) for part in (node.slice.lower, node.slice.upper, node.slice.step)
            ]
            return self._guard("slice", [node.value, *bounds], node)
        return node

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        node.body.insert(0, self._tick(node))
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        self.generic_visit(node)
        node.body.insert(0, self._tick(node))
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.ifs.insert(0, self._guard("tick", [], node.iter))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        self.generic_visit(node)
        thunk = ast.copy_location(ast.Lambda(args=_no_arguments(), body=node.body), node.body)
        node.body = self._guard("frame", [thunk], node.body)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        leave = ast.copy_location(ast.Expr(value=self._guard("leave", [], node)), node)
        protected = ast.copy_location(
            ast.Try(body=node.body, handlers=[], orelse=[], finalbody=[leave]), node
        )
        node.body = [ast.copy_location(ast.Expr(value=self._guard("enter", [], node)), node), protected]
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        self.generic_visit(node)
        if node.format_spec is None:
            return node
        formatted = self._guard("fmt", [node.value, ast.Constant(node.conversion), node.format_spec], node)
        return ast.copy_location(ast.FormattedValue(value=formatted, conversion=-1, format_spec=None), node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        self.generic_visit(node)
        return self._guard("sized", [node], node)

    def _display(self, node: ast.List | ast.Tuple | ast.Set) -> ast.AST:
        self.generic_visit(node)
        unpacks = any(isinstance(element, ast.Starred) for element in node.elts)
        if unpacks and isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
            return self._guard("sized", [node], node)
        return node

    visit_List = visit_Tuple = visit_Set = _display

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        return self._guard("sized", [node], node) if None in node.keys else node


def _no_arguments() -> ast.arguments:
    return ast.arguments(
        posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
    )
