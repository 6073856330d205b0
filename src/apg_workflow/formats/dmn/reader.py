"""Read a DMN 1.1 to 1.5 file (Camunda Modeler, SpiffWorkflow, Trisotech, …) into
:class:`~apg_workflow.model.decisions.DecisionDefinitions`.

Decision tables and literal expressions are read; diagrams, input data, knowledge sources and
annotations are skipped. Other decision logic (boxed contexts, invocations, …) is refused with its
line, as are tables whose rows do not fit their columns, unknown hit policies and cycles in the
decision requirement graph. Entry texts are kept as written, with the expression language the
file declares for them (``None`` when it declares none).
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from apg_workflow.formats.dmn.xml import CAMUNDA, FORMAT, VERSIONS, parse_dmn_xml
from apg_workflow.formats.errors import FormatError
from apg_workflow.model.base import Expression
from apg_workflow.model.decisions import (
    Aggregation,
    Decision,
    DecisionDefinitions,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
)

_DECISION_LOGIC = frozenset(
    {"context", "invocation", "relation", "list", "functionDefinition", "conditional", "filter", "iterator"}
)


def read_dmn(data: str | bytes, *, source: str | None = None) -> DecisionDefinitions:
    """Read a ``.dmn`` document. Raises :class:`FormatError` with the line of each problem."""
    root, namespace = parse_dmn_xml(data, source=source)
    return _Reader(namespace, source).definitions(root)


class _Reader:
    def __init__(self, namespace: str, source: str | None) -> None:
        self.ns = namespace
        self.source = source
        self.language: str | None = None

    def tag(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"

    def error(self, message: str, element: etree._Element, code: str = "dmn") -> FormatError:
        return FormatError.at(
            message,
            format=FORMAT,
            line=element.sourceline,
            element_id=element.get("id"),
            code=code,
            source=self.source,
        )

    # ---- document ------------------------------------------------------------------------

    def definitions(self, root: etree._Element) -> DecisionDefinitions:
        self.language = root.get("expressionLanguage")
        elements = root.findall(self.tag("decision"))
        decisions = {}
        for element in elements:
            decision = self.decision(element)
            if decision.id in decisions:
                raise self.error(f"two decisions have the id '{decision.id}'", element)
            decisions[decision.id] = decision
        resolved = _Resolver(self, decisions, {e.get("id"): e for e in elements}).all()
        return DecisionDefinitions(
            id=root.get("id"),
            name=root.get("name"),
            namespace=root.get("namespace"),
            dmn_version=VERSIONS[self.ns],
            decisions=resolved,
        )

    def decision(self, element: etree._Element) -> Decision:
        decision_id = element.get("id")
        if not decision_id:
            raise self.error("a <decision> has no id", element)
        table = element.find(self.tag("decisionTable"))
        literal = element.find(self.tag("literalExpression"))
        if table is None and literal is None:
            found = next(
                (etree.QName(c).localname for c in element if etree.QName(c).localname in _DECISION_LOGIC),
                None,
            )
            what = f"its <{found}> decision logic is not supported" if found else "it has no decision logic"
            raise self.error(
                f"decision '{decision_id}' cannot be evaluated: {what}; use a decision table or a literal "
                "expression",
                element,
                code="dmn-unsupported",
            )
        variable = element.find(self.tag("variable"))
        documentation = element.find(self.tag("description"))
        return Decision(
            id=decision_id,
            name=element.get("name"),
            table=self.table(table) if table is not None else None,
            literal_expression=self.expression(literal) if literal is not None else None,
            variable_name=variable.get("name") if variable is not None else None,
            documentation=_text(documentation),
        )

    # ---- decision tables -----------------------------------------------------------------

    def table(self, element: etree._Element) -> DecisionTable:
        hit_policy = self.hit_policy(element)
        aggregation = self.aggregation(element, hit_policy)
        inputs = tuple(self.input(e) for e in element.findall(self.tag("input")))
        outputs = tuple(self.output(e) for e in element.findall(self.tag("output")))
        if not outputs:
            raise self.error("the decision table has no output column", element)
        self.check_output_names(element, outputs)
        if aggregation is not None and len(outputs) > 1:
            raise self.error(
                f"aggregation {aggregation.value} combines one output column, but the table has "
                f"{len(outputs)}",
                element,
                code="dmn-hit-policy",
            )
        if hit_policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER) and all(
            o.output_values is None for o in outputs
        ):
            raise self.error(
                f"hit policy {hit_policy.value} orders results by the output values, but no output column "
                "lists its values",
                element,
            )
        rules = tuple(self.rule(e, len(inputs), len(outputs)) for e in element.findall(self.tag("rule")))
        return DecisionTable(
            id=element.get("id"),
            hit_policy=hit_policy,
            aggregation=aggregation,
            inputs=inputs,
            outputs=outputs,
            rules=rules,
            output_label=element.get("outputLabel"),
        )

    def hit_policy(self, element: etree._Element) -> HitPolicy:
        text = (element.get("hitPolicy") or HitPolicy.UNIQUE.value).strip().upper().replace("_", " ")
        try:
            return HitPolicy(text)
        except ValueError:
            known = ", ".join(p.value for p in HitPolicy)
            raise self.error(
                f"unknown hit policy '{element.get('hitPolicy')}'; expected one of {known}",
                element,
                code="dmn-hit-policy",
            ) from None

    def aggregation(self, element: etree._Element, hit_policy: HitPolicy) -> Aggregation | None:
        text = element.get("aggregation")
        if text is None:
            return None
        try:
            aggregation = Aggregation(text.strip().upper())
        except ValueError:
            known = ", ".join(a.value for a in Aggregation)
            raise self.error(
                f"unknown aggregation '{text}'; expected one of {known}", element, code="dmn-hit-policy"
            ) from None
        if hit_policy is not HitPolicy.COLLECT:
            raise self.error(
                f"aggregation {aggregation.value} needs hit policy COLLECT, not {hit_policy.value}",
                element,
                code="dmn-hit-policy",
            )
        return aggregation

    def check_output_names(self, table: etree._Element, outputs: tuple[OutputClause, ...]) -> None:
        if len(outputs) < 2:
            return
        seen: set[str] = set()
        for output in outputs:
            if not output.name:
                raise self.error(
                    f"output column {output.label or output.id or ''} has no name: a table with several "
                    "outputs needs a name for each",
                    table,
                )
            if output.name in seen:
                raise self.error(f"two output columns are named '{output.name}'", table)
            seen.add(output.name)

    def input(self, element: etree._Element) -> InputClause:
        expression = element.find(self.tag("inputExpression"))
        if expression is None:
            raise self.error("an <input> column has no <inputExpression>", element)
        return InputClause(
            id=element.get("id"),
            label=element.get("label"),
            expression=self.expression(expression),
            type_ref=expression.get("typeRef"),
            input_values=self.optional_expression(element.find(self.tag("inputValues"))),
            input_variable=element.get(f"{{{CAMUNDA}}}inputVariable"),
        )

    def output(self, element: etree._Element) -> OutputClause:
        return OutputClause(
            id=element.get("id"),
            label=element.get("label"),
            name=element.get("name") or None,
            type_ref=element.get("typeRef"),
            output_values=self.optional_expression(element.find(self.tag("outputValues"))),
            default_output=self.optional_expression(element.find(self.tag("defaultOutputEntry"))),
        )

    def rule(self, element: etree._Element, inputs: int, outputs: int) -> Rule:
        input_entries = tuple(self.expression(e) for e in element.findall(self.tag("inputEntry")))
        output_entries = tuple(self.expression(e) for e in element.findall(self.tag("outputEntry")))
        for found, expected, kind in ((input_entries, inputs, "input"), (output_entries, outputs, "output")):
            if len(found) != expected:
                raise self.error(
                    f"rule '{element.get('id') or '?'}' has {len(found)} {kind} entries for {expected} "
                    f"{kind} columns",
                    element,
                )
        annotations = [_text(element.find(self.tag("description")))]
        annotations += [_text(e.find(self.tag("text"))) for e in element.findall(self.tag("annotationEntry"))]
        return Rule(
            id=element.get("id"),
            input_entries=input_entries,
            output_entries=output_entries,
            annotations=tuple(a for a in annotations if a),
            line=element.sourceline,
        )

    # ---- expressions ---------------------------------------------------------------------

    def expression(self, element: etree._Element) -> Expression:
        """The ``<text>`` of an expression element, with its (or the file's) declared language."""
        text = _text(element.find(self.tag("text"))) or ""
        return Expression(text, element.get("expressionLanguage") or self.language)

    def optional_expression(self, element: etree._Element | None) -> Expression | None:
        if element is None:
            return None
        expression = self.expression(element)
        return expression if expression.text else None


class _Resolver:
    """Links each decision to the decisions it requires, refusing unknown ones and cycles."""

    def __init__(self, reader: _Reader, decisions: dict[str, Decision], elements: dict[str, etree._Element]):
        self.reader = reader
        self.decisions = decisions
        self.elements = elements
        self.done: dict[str, Decision] = {}

    def all(self) -> tuple[Decision, ...]:
        return tuple(self.resolve(decision_id, ()) for decision_id in self.decisions)

    def resolve(self, decision_id: str, path: tuple[str, ...]) -> Decision:
        if decision_id in self.done:
            return self.done[decision_id]
        element = self.elements[decision_id]
        if decision_id in path:
            cycle = " → ".join((*path[path.index(decision_id) :], decision_id))
            raise self.reader.error(f"decisions require each other in a cycle: {cycle}", element)
        required = []
        for requirement in element.iter(self.reader.tag("requiredDecision")):
            ref = (requirement.get("href") or "").rpartition("#")[2]
            if ref not in self.decisions:
                raise self.reader.error(
                    f"decision '{decision_id}' requires decision '{ref}', which is not in this file",
                    requirement,
                )
            required.append(self.resolve(ref, (*path, decision_id)))
        decision = replace(self.decisions[decision_id], required_decisions=tuple(required))
        self.done[decision_id] = decision
        return decision


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None
