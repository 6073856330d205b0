"""Business-rule tasks evaluating DMN decision tables read from .dmn sources."""

from __future__ import annotations

from apg_workflow.formats.dmn import read_dmn
from apg_workflow.model import BusinessRuleTask

from .builders import END, START, definitions
from .conftest import CheckedEngine, EngineFactory

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="D" namespace="urn:test">
  <decision id="discount" name="Discount">
    <decisionTable id="t1" hitPolicy="UNIQUE">
      <input id="i1"><inputExpression id="ie1" typeRef="string"><text>tier</text></inputExpression></input>
      <input id="i2"><inputExpression id="ie2" typeRef="number"><text>amount</text></inputExpression></input>
      <output id="o1" name="rate" typeRef="number" />
      <rule id="gold"><inputEntry id="a1"><text>"gold"</text></inputEntry>
        <inputEntry id="a2"><text>&gt;= 100</text></inputEntry>
        <outputEntry id="a3"><text>0.2</text></outputEntry></rule>
      <rule id="other"><inputEntry id="b1"><text>not("gold")</text></inputEntry>
        <inputEntry id="b2"><text>-</text></inputEntry>
        <outputEntry id="b3"><text>0</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="fees" name="Fees">
    <decisionTable id="t2" hitPolicy="COLLECT" aggregation="SUM">
      <input id="j1"><inputExpression id="je1" typeRef="number"><text>amount</text></inputExpression></input>
      <output id="p1" name="fee" typeRef="number" />
      <rule id="base"><inputEntry id="c1"><text>-</text></inputEntry>
        <outputEntry id="c2"><text>1</text></outputEntry></rule>
      <rule id="big"><inputEntry id="d1"><text>&gt; 50</text></inputEntry>
        <outputEntry id="d2"><text>5</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def _run(engine: EngineFactory, **variables: object) -> tuple[CheckedEngine, str]:
    d = definitions(
        [START, BusinessRuleTask(id="rate", decision_ref="discount"),
         BusinessRuleTask(id="fee", decision_ref="Fees", result_variable="total_fee"), END],
        ["start > rate > fee > end"],
    )  # fmt: skip
    run = engine(d, decisions=[read_dmn(DMN)])
    return run, run.start(variables=variables)


def test_a_unique_table_merges_its_outputs_and_a_collect_sum_fills_the_result_variable(
    engine: EngineFactory,
) -> None:
    run, eid = _run(engine, tier="gold", amount=120)
    assert run.variables(eid) == {"tier": "gold", "amount": 120, "rate": 0.2, "total_fee": 6}
    [entry] = [
        h for h in run.history(eid) if h["event"] == "decision.evaluated" and h["element_id"] == "rate"
    ]
    assert [m["rule_id"] for m in entry["data"]["matched"]] == ["gold"]


def test_a_decision_that_is_not_deployed_opens_an_incident_on_the_task(engine: EngineFactory) -> None:
    run = engine(
        definitions([START, BusinessRuleTask(id="rate", decision_ref="nope"), END], ["start > rate > end"])
    )
    run.start()
    [(_, element, message)] = run.incidents.values()
    assert element == "rate" and "'nope' is not deployed" in message
