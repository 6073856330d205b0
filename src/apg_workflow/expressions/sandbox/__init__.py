"""The sandboxed evaluator of expressions and scripts (a safe subset of Python, JUEL and FEEL).

    from apg_workflow.expressions.sandbox import Sandbox

    sandbox = Sandbox()
    sandbox.evaluate("amount > 1000 and approved", None, {"amount": 1500, "approved": True}, now=now)
    sandbox.execute("total = sum(i['price'] for i in items)", {"items": [...]}, now=now)

See ``docs/expressions.md`` for the language, the built-ins and the limits.
"""

from apg_workflow.expressions.sandbox.compiler import Compiled
from apg_workflow.expressions.sandbox.errors import ExpressionError
from apg_workflow.expressions.sandbox.limits import Limits
from apg_workflow.expressions.sandbox.sandbox import Sandbox

__all__ = ["Compiled", "ExpressionError", "Limits", "Sandbox"]
