"""Reading .dmn files: DMN 1.1 to 1.5, Camunda and SpiffWorkflow styles, and refusing bad files
with the line of the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from apg_workflow.formats.dmn import read_dmn
from apg_workflow.formats.errors import FormatError
from apg_workflow.model.base import Expression
from apg_workflow.model.decisions import Aggregation, HitPolicy
from apg_workflow.model.errors import ElementNotFound

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dmn"
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def read(name: str):
    return read_dmn((FIXTURES / name).read_bytes(), source=name)


def test_camunda_modeler_dmn13_file() -> None:
    definitions = read("camunda_loan_approval.dmn")
    assert definitions.dmn_version == "1.3"
    assert definitions.name == "Loan approval"
    assert [d.id for d in definitions] == ["credit_rating", "loan_decision"]
    loan = definitions.get("Loan decision")
    assert loan is definitions.get("loan_decision")
    assert definitions.find("no such decision") is None
    with pytest.raises(ElementNotFound):
        definitions.get("no such decision")
    assert [d.id for d in loan.required_decisions] == ["credit_rating"]
    assert loan.required_decisions[0] is definitions.get("credit_rating")
    table = loan.table
    assert table is not None
    assert table.hit_policy is HitPolicy.UNIQUE
    assert [o.name for o in table.outputs] == ["approved", "reason"]
    assert table.inputs[0].input_values == Expression('"A","B","C"')
    assert table.rules[1].input_entries[1] == Expression("]10000..50000]")
    rating = definitions.get("credit_rating").table
    assert rating is not None
    assert rating.inputs[0].input_variable == "score"
    assert rating.rules[0].annotations == ("Excellent history",)
    assert rating.outputs[0].output_values == Expression('"A","B","C"')


def test_spiffworkflow_file_keeps_python_text() -> None:
    table = read("spiff_shipping.dmn").get("shipping_options").table
    assert table is not None
    assert table.hit_policy is HitPolicy.FIRST
    assert table.inputs[0].expression == Expression('order.get("total", 0)')
    assert table.rules[2].input_entries[0] == Expression("0 <= ? < 100")
    assert table.rules[0].input_entries[0] == Expression("")


def test_dmn11_file() -> None:
    definitions = read("dmn11_discount.dmn")
    assert definitions.dmn_version == "1.1"
    table = definitions.get("discount").table
    assert table is not None
    assert (table.hit_policy, table.aggregation) == (HitPolicy.COLLECT, Aggregation.SUM)


def test_dmn14_file_with_prefixes_literal_decision_and_declared_language() -> None:
    definitions = read("dmn14_eligibility.dmn")
    assert definitions.dmn_version == "1.4"
    age = definitions.get("age")
    assert age.literal_expression is not None
    assert age.literal_expression.text == "today().year - date(Applicant.birthDate).year"
    assert age.literal_expression.language == "https://www.omg.org/spec/DMN/20211108/FEEL/"
    assert age.variable_name == "Age"
    table = definitions.get("eligibility_decision").table
    assert table is not None
    assert table.hit_policy is HitPolicy.PRIORITY
    assert table.outputs[0].default_output == Expression(
        '"REVIEW"', "https://www.omg.org/spec/DMN/20211108/FEEL/"
    )
    assert table.rules[0].annotations == ("adult in a served country",)


def _decision(table: str, *, namespace: str = DMN13) -> str:
    return (
        f'<definitions xmlns="{namespace}" id="d" name="d" namespace="urn:test">\n'
        f'  <decision id="decision">\n{table}\n  </decision>\n</definitions>\n'
    )


ONE_RULE = """    <decisionTable id="t"{attributes}>
      <input id="in"><inputExpression><text>x</text></inputExpression></input>
      <output id="out" name="y"/>
      <rule id="r1"><inputEntry><text>1</text></inputEntry><outputEntry><text>2</text></outputEntry></rule>
    </decisionTable>"""


@pytest.mark.parametrize(
    ("namespace", "version"),
    [
        ("http://www.omg.org/spec/DMN/20151101/dmn.xsd", "1.1"),
        ("http://www.omg.org/spec/DMN/20180521/MODEL/", "1.2"),
        ("https://www.omg.org/spec/DMN/20191111/MODEL/", "1.3"),
        ("https://www.omg.org/spec/DMN/20211108/MODEL/", "1.4"),
        ("https://www.omg.org/spec/DMN/20230324/MODEL/", "1.5"),
    ],
)
def test_every_dmn_version_namespace(namespace: str, version: str) -> None:
    definitions = read_dmn(_decision(ONE_RULE.format(attributes=""), namespace=namespace))
    assert definitions.dmn_version == version
    assert definitions.get("decision").table is not None


@pytest.mark.parametrize(
    ("written", "policy"),
    [
        ("RULE ORDER", HitPolicy.RULE_ORDER),
        ("first", HitPolicy.FIRST),
        ("OUTPUT_ORDER", HitPolicy.OUTPUT_ORDER),
    ],
)
def test_hit_policy_spellings(written: str, policy: HitPolicy) -> None:
    extra = f' hitPolicy="{written}"'
    text = _decision(
        ONE_RULE.format(attributes=extra).replace(
            '<output id="out" name="y"/>',
            '<output id="out" name="y"><outputValues><text>2</text></outputValues></output>',
        )
    )
    assert read_dmn(text).get("decision").table.hit_policy is policy  # type: ignore[union-attr]


def _error(text: str | bytes) -> FormatError:
    with pytest.raises(FormatError) as caught:
        read_dmn(text, source="broken.dmn")
    return caught.value


def test_truncated_xml_is_located() -> None:
    text = _decision(ONE_RULE.format(attributes=""))
    error = _error(text[: text.index("<rule")])
    problem = error.problems[0]
    assert problem.line is not None and problem.line >= 5
    assert problem.column is not None
    assert "not well-formed" in problem.message
    assert problem.source == "broken.dmn"
    assert error.format == "dmn"


def test_entity_bomb_is_refused_before_parsing() -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
        ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n'
        f'<definitions xmlns="{DMN13}" id="d"><decision id="x" name="&lol3;"/></definitions>'
    )
    problem = _error(bomb).problems[0]
    assert problem.code == "security"
    assert (problem.line, problem.column) == (2, 1)
    assert "DOCTYPE" in problem.message


def test_external_entity_is_refused() -> None:
    xxe = (
        '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<definitions xmlns="{DMN13}">&xxe;</definitions>'
    )
    assert _error(xxe.encode()).problems[0].code == "security"


def test_unknown_hit_policy_is_located() -> None:
    error = _error(_decision(ONE_RULE.format(attributes=' hitPolicy="SOMETIMES"')))
    problem = error.problems[0]
    assert problem.line == 3
    assert problem.element_id == "t"
    assert problem.code == "dmn-hit-policy"
    assert "unknown hit policy 'SOMETIMES'" in problem.message


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (' hitPolicy="FIRST" aggregation="SUM"', "aggregation SUM needs hit policy COLLECT, not FIRST"),
        (' hitPolicy="COLLECT" aggregation="AVERAGE"', "unknown aggregation 'AVERAGE'"),
        (' hitPolicy="PRIORITY"', "no output column lists its values"),
    ],
)
def test_inconsistent_hit_policies(attributes: str, message: str) -> None:
    assert message in _error(_decision(ONE_RULE.format(attributes=attributes))).problems[0].message


def test_a_rule_that_does_not_fit_the_columns_is_located() -> None:
    text = _decision(ONE_RULE.format(attributes="").replace("<outputEntry><text>2</text></outputEntry>", ""))
    problem = _error(text).problems[0]
    assert problem.line == 6
    assert problem.message == "rule 'r1' has 0 output entries for 1 output columns"


def test_several_outputs_need_names() -> None:
    text = _decision(
        ONE_RULE.format(attributes="").replace(
            '<output id="out" name="y"/>', '<output id="a" label="A"/><output id="b" name="b"/>'
        )
    )
    assert "output column A has no name" in _error(text).problems[0].message


def test_required_decision_cycle_is_refused() -> None:
    def requiring(decision_id: str, required: str) -> str:
        return (
            f'<decision id="{decision_id}"><informationRequirement><requiredDecision href="#{required}"/>'
            f"</informationRequirement><literalExpression><text>1</text></literalExpression></decision>"
        )

    text = f'<definitions xmlns="{DMN13}">{requiring("a", "b")}{requiring("b", "a")}</definitions>'
    assert "cycle: a → b → a" in _error(text).problems[0].message


def test_unknown_required_decision_is_refused() -> None:
    text = (
        f'<definitions xmlns="{DMN13}"><decision id="a"><informationRequirement>'
        '<requiredDecision href="#ghost"/></informationRequirement>'
        "<literalExpression><text>1</text></literalExpression></decision></definitions>"
    )
    assert "requires decision 'ghost', which is not in this file" in _error(text).problems[0].message


def test_unsupported_decision_logic_is_refused() -> None:
    text = f'<definitions xmlns="{DMN13}">\n<decision id="boxed"><context/></decision></definitions>'
    problem = _error(text).problems[0]
    assert problem.code == "dmn-unsupported"
    assert problem.line == 2
    assert "<context> decision logic is not supported" in problem.message


def test_a_bpmn_file_is_not_a_dmn_file() -> None:
    text = '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'
    assert _error(text).problems[0].code == "not-dmn"
