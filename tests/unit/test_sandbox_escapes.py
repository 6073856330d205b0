"""Known sandbox escapes and denial-of-service attempts: each fails cleanly, within its limits.

Every attempt must raise ``ExpressionError`` (never anything else), with a message that says what
was refused and, for a limit, which one, and must do so quickly. The corpus sandbox lowers
``max_memory`` so that the memory cases stop after 32 MB rather than the default 256 MB; every
other limit is the default.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from apg_workflow.expressions.sandbox import ExpressionError, Limits, Sandbox

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
SANDBOX = Sandbox(Limits(max_memory=32 * 1024 * 1024))
PRIVATE = "is private and not accessible"

EXPRESSIONS = [
    # Walking dunders to object.__subclasses__() and from there to os, sys, builtins.
    ("().__class__.__bases__[0].__subclasses__()", PRIVATE, None),
    ("[].__class__.__mro__[-1].__subclasses__()", PRIVATE, None),
    ("''.__class__.__base__", PRIVATE, None),
    ("dict.__class__", PRIVATE, None),
    ("(1).__class__", PRIVATE, None),
    ("str.mro()", "access to 'str.mro' is not allowed", None),
    ("Decimal.from_float", "access to 'Decimal.from_float' is not allowed", None),
    # Reaching the interpreter: imports, builtins, reflection.
    ("__import__('os').system('true')", "the name '__import__' is not available", None),
    ("__builtins__['eval']('1')", "the name '__builtins__' is not available", None),
    ("getattr((), '__class__')", "'getattr()' is not available", None),
    ("type(x)", "'type' is not available in expressions", None),
    ("object", "'object' is not available in expressions", None),
    ("vars()", "'vars()' is not available", None),
    ("globals()", "'globals()' is not available", None),
    ("locals()", "'locals()' is not available", None),
    ("exec('x = 1')", "'exec()' is not available", None),
    ("eval('1')", "'eval()' is not available", None),
    ("open('/etc/passwd').read()", "'open()' is not available", None),
    ("operator.attrgetter('__class__')(x)", "unknown variable 'operator'", None),
    # Attributes reached without a dot in the code: format strings.
    ("'{0.__class__}'.format(1)", "attribute access in a format field", None),
    ("'{x.__class__.__init__.__globals__}'.format_map({'x': 1})", "attribute access in a format field", None),
    ("str.format('{0.__class__}', 1)", "access to 'str.format' is not allowed", None),
    ('f"{x.__class__}"', PRIVATE, None),
    # Functions, frames and generators.
    ("(lambda: 0).__code__", PRIVATE, None),
    ("(lambda: 0).__globals__", PRIVATE, None),
    ("(lambda c=().__class__: c)()", PRIVATE, None),
    ("(x for x in []).gi_frame", "access to 'generator.gi_frame' is not allowed", None),
    ("(x for x in []).gi_code", "access to 'generator.gi_code' is not allowed", None),
    ("now.__globals__", PRIVATE, None),
    ("datetime._now", PRIVATE, None),
    ("print.__self__", PRIVATE, None),
    ("'x'.encode()", "access to 'str.encode' is not allowed", None),
    ("b'x' * 10", "bytes literals are not supported", None),
    ("lambda: 0", "the expression's value is a function", None),
    # Huge numbers.
    ("9**9**9", "digits is not allowed", "max_int_digits"),
    ("1 << 10**9", "digits is not allowed", "max_int_digits"),
    ("int('9' * 100000)", "digits is not allowed", "max_int_digits"),
    ("int(Decimal('1e999999'))", "digits is not allowed", "max_int_digits"),
    # Huge strings and collections.
    ("'a' * 10**10", "exceeds the limit", "max_length"),
    ("[0] * 10**9", "exceeds the limit", "max_length"),
    ("'-'.join(['x' * 10**5] * 10**4)", "exceeds the limit", "max_length"),
    ("('a' * 10**6).replace('', 'b')", "exceeds the limit", "max_length"),
    ("'x'.ljust(10**9)", "exceeds the limit", "max_length"),
    ("'%0999999999d' % 1", "format width or precision", "max_length"),
    ("'%*d' % (10**9, 1)", "format width or precision", "max_length"),
    ("f'{x:>{10**9}}'", "format width or precision", "max_length"),
    ("'{:>999999999}'.format(1)", "format width or precision", "max_length"),
    # Endless or enormous work.
    ("sum(range(10**12))", "exceeds the iteration limit", "max_iterations"),
    ("[[i for i in range(10**4)] for j in range(10**4)]", "loop iterations", "max_iterations"),
    ("''.join('x' for i in range(10**6) for j in range(10**6))", "loop iterations", "max_iterations"),
    ("(lambda f: f(f))(lambda f: f(f))", "nested deeper than 100 calls", "max_recursion_depth"),
]

SCRIPTS = [
    ("import os", "imports are not allowed", None),
    ("from os import system", "imports are not allowed", None),
    ("class Escape:\n    pass", "class definitions are not allowed", None),
    ("global x", "'global' is not allowed", None),
    ("def f():\n    x = 1\n    def g():\n        nonlocal x", "'nonlocal' is not allowed", None),
    ("def numbers():\n    yield 1", "'yield' is not allowed", None),
    ("async def f():\n    pass", "'async' code is not allowed", None),
    ("@decorate\ndef f():\n    pass", "decorators are not allowed", None),
    ("with lock:\n    pass", "'with' is not allowed", None),
    ("match x:\n    case 1:\n        pass", "'match' is not allowed", None),
    ("x.real = 2", "assigning or deleting the attribute 'real' is not supported", None),
    ("__builtins__ = {}", "the name '__builtins__' is not available", None),
    # Binding a dunder name anywhere could shadow the guards the compiled code calls.
    ("def f(__apg):\n    return 1", "the name '__apg' is not available", None),
    ("def __apg():\n    return 1", "the name '__apg' is not available", None),
    ("try:\n    1 / 0\nexcept ValueError as __apg:\n    pass", "the name '__apg' is not available", None),
    ("f = lambda *__apg: 1", "the name '__apg' is not available", None),
    ("try:\n    1 / 0\nexcept:\n    pass", "a bare 'except:' is not allowed", None),
    ("try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    tb = e.__traceback__", PRIVATE, None),
    ("try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    w = e.with_traceback", "is not allowed", None),
    ("g = (x for x in [1])\nframe = g.gi_frame", "access to 'generator.gi_frame' is not allowed", None),
    ("while True:\n    pass", "loop iterations", "max_iterations"),
    ("for i in range(10**12):\n    pass", "exceeds the iteration limit", "max_iterations"),
    ("def f(n):\n    return f(n + 1)\nf(0)", "nested deeper than 100 calls", "max_recursion_depth"),
    ("def f(n):\n    return n and f(n - 1) + f(n - 1)\nx = f(60)", "loop iterations", "max_iterations"),
    # A limit cannot be caught: the guards raise outside the Exception hierarchy.
    ("while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
     "loop iterations", "max_iterations"),
    ("items = [1]\nfor i in range(64):\n    items.extend(items)", "exceeds the limit", "max_length"),
    ("items = [1]\nfor i in range(64):\n    items += items", "exceeds the limit", "max_length"),
    ("text = 'ab'\nfor i in range(64):\n    text = text + text", "exceeds the limit", "max_length"),
    ("big = 10**4000\nbigger = big * big", "digits is not allowed", "max_int_digits"),
    ("s = 'x' * 10**6\nkeep = [s.upper() for i in range(1000)]", "MB of strings", "max_memory"),
    ("s = 'x' * 10**6\nkeep = [s[1:] for i in range(1000)]", "MB of strings", "max_memory"),
    ("s = 'x' * 10**6\nkeep = [[*s] for i in range(1000)]", "MB of strings", "max_memory"),
    ("big = ['x' * 1000 for i in range(20000)]", "bytes, more than", "max_output_size"),
    ("numbers = map(str, [1, 2])", "holds a map object", None),
]  # fmt: skip


def _fails(run: object, message: str, limit: str | None) -> None:
    started = time.perf_counter()
    with pytest.raises(ExpressionError) as caught:
        run()  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    assert message in str(caught.value)
    assert caught.value.limit == limit
    assert elapsed < 2.0, f"took {elapsed:.2f} s"


@pytest.mark.parametrize(
    ("text", "message", "limit"), EXPRESSIONS, ids=[case[0][:40] for case in EXPRESSIONS]
)
def test_an_escaping_expression_fails_cleanly(text: str, message: str, limit: str | None) -> None:
    _fails(lambda: SANDBOX.evaluate(text, None, {"x": 1}, now=NOW), message, limit)


@pytest.mark.parametrize(("script", "message", "limit"), SCRIPTS, ids=[case[0][:40] for case in SCRIPTS])
def test_an_escaping_script_fails_cleanly(script: str, message: str, limit: str | None) -> None:
    _fails(lambda: SANDBOX.execute(script, {"x": 1}, now=NOW), message, limit)


def test_the_corpus_is_large() -> None:
    assert len(EXPRESSIONS) + len(SCRIPTS) >= 25


def test_a_script_stops_at_its_deadline() -> None:
    sandbox = Sandbox(Limits(script_timeout=0.2, max_iterations=10**9))
    _fails(
        lambda: sandbox.execute("while True:\n    pass", {}, now=NOW), "longer than 0.2 s", "script_timeout"
    )


def test_an_expression_stops_at_its_deadline() -> None:
    sandbox = Sandbox(Limits(expression_timeout=0.1, max_iterations=10**12))
    text = "len([x for x in range(10**6) for y in range(10**6)])"
    _fails(lambda: sandbox.evaluate(text, None, {}, now=NOW), "longer than 0.1 s", "expression_timeout")


def test_a_failed_evaluation_leaves_the_sandbox_usable() -> None:
    with pytest.raises(ExpressionError):
        SANDBOX.execute("while True:\n    pass", {}, now=NOW)
    assert SANDBOX.execute("total = sum(range(10))", {}, now=NOW) == {"total": 45}
