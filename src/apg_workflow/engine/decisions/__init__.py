"""DMN decisions for business-rule tasks: evaluate a decision table or literal expression.

>>> result = evaluate_decision(decision, {"age": 20}, sandbox=sandbox, now=now)  # doctest: +SKIP
>>> result.value, [m.rule_id for m in result.matched_rules]  # doctest: +SKIP
('adult', ['rule_adult'])

Input entries are FEEL unary tests or, in SpiffWorkflow files, Python tests; input expressions and
output entries are FEEL, Python or JUEL (see :mod:`.cells`). Hit policies are in
:mod:`.hit_policies`. Every failure is a :class:`DecisionError` naming the decision and rule.
"""

from apg_workflow.engine.decisions.cells import ExpressionSandbox
from apg_workflow.engine.decisions.evaluation import evaluate_decision
from apg_workflow.engine.decisions.results import DecisionError, DecisionResult, MatchedRule

__all__ = ["DecisionError", "DecisionResult", "ExpressionSandbox", "MatchedRule", "evaluate_decision"]
