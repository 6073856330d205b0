"""Evaluate a decision: its required decisions first, then its table or literal expression.

A table is compiled once (every cell parsed, the table's language style settled) and the compiled
form is kept for as long as the table object lives in a bounded cache, so evaluating a decision
again costs only the evaluation. Every failure leaves as a :class:`DecisionError` naming the
decision, the rule and the cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from apg_workflow.engine.decisions.cells import Cell, CellError, Env, ExpressionSandbox, Test, Value
from apg_workflow.engine.decisions.hit_policies import Hit, Outcome, PolicyViolation, decide
from apg_workflow.engine.decisions.results import DecisionError, DecisionResult, MatchedRule
from apg_workflow.model.base import Expression
from apg_workflow.model.decisions import Decision, DecisionTable, HitPolicy

_CACHE_SIZE = 512
_RANKED = frozenset({HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER})


@dataclass(frozen=True, slots=True)
class CompiledRule:
    row: int
    tests: tuple[Test, ...]
    outputs: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class CompiledTable:
    inputs: tuple[Value, ...]
    rules: tuple[CompiledRule, ...]
    defaults: tuple[Value, ...] | None
    ranks: tuple[Value | None, ...]


# Compiled tables by the identity of the (immutable) table; the table is kept alongside so that
# its id cannot be reused while the entry exists.
_compiled_tables: dict[int, tuple[DecisionTable, CompiledTable]] = {}


def evaluate_decision(
    decision: Decision, variables: Mapping[str, Any], *, sandbox: ExpressionSandbox, now: datetime
) -> DecisionResult:
    """Evaluate ``decision`` against ``variables``; raises only :class:`DecisionError`.

    The decisions it requires are evaluated first (each once); their values are visible to its
    expressions under the required decision's variable name, name and id. ``sandbox`` runs Python
    and JUEL cells; FEEL is evaluated here; ``now`` is the engine's clock (``today()``, ``now()``).
    """
    return _Evaluation(sandbox, now).run(decision, variables)


class _Evaluation:
    def __init__(self, sandbox: ExpressionSandbox, now: datetime) -> None:
        self.sandbox = sandbox
        self.now = now
        self.results: dict[str, DecisionResult] = {}

    def run(self, decision: Decision, variables: Mapping[str, Any]) -> DecisionResult:
        done = self.results.get(decision.id)
        if done is not None:
            return done
        required = {r.id: self.run(r, variables) for r in decision.required_decisions}
        visible: Mapping[str, Any] = variables
        if required:
            visible = dict(variables)
            for r in decision.required_decisions:
                for name in (r.id, r.name, r.variable_name):
                    if name:
                        visible[name] = required[r.id].value
        env = Env(visible, self.now, self.sandbox)
        if decision.table is not None:
            outcome = _evaluate_table(decision, decision.table, env)
        elif decision.literal_expression is not None:
            outcome = _evaluate_literal(decision, decision.literal_expression, env)
        else:
            raise DecisionError(
                f"decision {decision.label} has no decision table or literal expression", decision.id
            )
        result = DecisionResult(
            decision_id=decision.id,
            value=outcome.value,
            variables=outcome.variables,
            matched_rules=tuple(_matched(decision.table, hit) for hit in outcome.used),
            required=required,
        )
        self.results[decision.id] = result
        return result


def _evaluate_literal(decision: Decision, expression: Expression, env: Env) -> Outcome:
    try:
        value = _literal(Cell(expression, test=False))(env)
    except CellError as exc:
        raise DecisionError(f"decision {decision.label}: {exc}", decision.id) from None
    return Outcome(value, {decision.variable_name or decision.name or decision.id: value}, ())


@lru_cache(maxsize=_CACHE_SIZE)
def _literal(cell: Cell) -> Value:
    compiled: Value = cell.compile(python_first=cell.python_only())
    return compiled


def _evaluate_table(decision: Decision, table: DecisionTable, env: Env) -> Outcome:
    compiled = _compiled(decision, table)
    inputs = []
    for index, (clause, cell) in enumerate(zip(table.inputs, compiled.inputs, strict=True), start=1):
        try:
            inputs.append(cell(env))
        except CellError as exc:
            raise DecisionError(
                f"decision {decision.label}: input {_column(clause, index)}: {exc}", decision.id
            ) from None
    hits: list[Hit] = []
    for rule, spec in zip(table.rules, compiled.rules, strict=True):
        try:
            if all(test(env, value) for test, value in zip(spec.tests, inputs, strict=True)):
                hits.append(Hit(rule, spec.row, tuple(output(env) for output in spec.outputs)))
        except CellError as exc:
            raise DecisionError(
                f"decision {decision.label}: rule {rule.label} (row {spec.row}): {exc}", decision.id, rule.id
            ) from None
        if hits and table.hit_policy is HitPolicy.FIRST:
            break
    try:
        defaults = None if hits or compiled.defaults is None else tuple(d(env) for d in compiled.defaults)
        ranked = table.hit_policy in _RANKED
        ranks = [None if r is None or not ranked else _as_list(r(env)) for r in compiled.ranks]
        return decide(decision, table, hits, defaults, ranks)
    except CellError as exc:
        raise DecisionError(f"decision {decision.label}: {exc}", decision.id) from None
    except PolicyViolation as exc:
        raise DecisionError(str(exc), decision.id, exc.rule_id) from None


def _compiled(decision: Decision, table: DecisionTable) -> CompiledTable:
    cached = _compiled_tables.get(id(table))
    if cached is not None and cached[0] is table:
        return cached[1]
    compiled = _compile(decision, table)
    if len(_compiled_tables) >= _CACHE_SIZE:
        _compiled_tables.pop(next(iter(_compiled_tables)))
    _compiled_tables[id(table)] = (table, compiled)
    return compiled


def _compile(decision: Decision, table: DecisionTable) -> CompiledTable:
    """Compile every cell, each error naming the cell it is in."""
    input_cells = [Cell(clause.expression, test=False) for clause in table.inputs]
    rule_cells = [
        (
            [
                Cell(entry, test=True, input_name=clause.input_variable)
                for entry, clause in zip(rule.input_entries, table.inputs, strict=True)
            ],
            [Cell(entry, test=False) for entry in rule.output_entries],
        )
        for rule in table.rules
    ]
    has_default = any(output.default_output is not None for output in table.outputs)
    default_cells = [Cell(output.default_output or Expression(""), test=False) for output in table.outputs]
    rank_cells = [
        None
        if output.output_values is None
        else Cell(Expression(f"[{output.output_values.text}]", output.output_values.language), test=False)
        for output in table.outputs
    ]
    try:
        every = [*input_cells, *(c for tests, outputs in rule_cells for c in (*tests, *outputs))]
        python_first = any(cell.python_only() for cell in every)
    except CellError as exc:
        raise DecisionError(f"decision {decision.label}: {exc}", decision.id) from None

    def build(cell: Cell, where: str, rule_id: str | None = None) -> Any:
        try:
            return cell.compile(python_first)
        except CellError as exc:
            raise DecisionError(f"decision {decision.label}: {where}: {exc}", decision.id, rule_id) from None

    rules = []
    for row, (rule, (tests, outputs)) in enumerate(zip(table.rules, rule_cells, strict=True), start=1):
        where = f"rule {rule.label} (row {row})"
        rules.append(
            CompiledRule(
                row=row,
                tests=tuple(
                    build(c, f"{where}, input entry for {_column(table.inputs[i], i + 1)}", rule.id)
                    for i, c in enumerate(tests)
                ),
                outputs=tuple(
                    build(c, f"{where}, output entry for '{table.outputs[i].key}'", rule.id)
                    for i, c in enumerate(outputs)
                ),
            )
        )
    return CompiledTable(
        inputs=tuple(build(c, f"input {_column(table.inputs[i], i + 1)}") for i, c in enumerate(input_cells)),
        rules=tuple(rules),
        defaults=tuple(
            build(c, f"default output of '{table.outputs[i].key}'") for i, c in enumerate(default_cells)
        )
        if has_default
        else None,
        ranks=tuple(
            None if c is None else build(c, f"output values of '{table.outputs[i].key}'")
            for i, c in enumerate(rank_cells)
        ),
    )


def _column(clause: Any, index: int) -> str:
    return f"column {index} ('{clause.label}')" if clause.label else f"column {index}"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _matched(table: DecisionTable | None, hit: Hit) -> MatchedRule:
    keys = [output.key for output in table.outputs] if table is not None else []
    return MatchedRule(
        rule_id=hit.rule.id,
        row=hit.row,
        annotations=hit.rule.annotations,
        outputs=dict(zip(keys, hit.outputs, strict=True)),
    )
