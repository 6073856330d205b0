"""The content of a process or sub-process: statements → node and flow drafts.

Steps written one under the other follow each other (the *implicit sequence*); ``DECISION``,
``INCLUSIVE`` and ``PARALLEL`` blocks split it into branches and join them again where the
branches meet; ``-> id`` and ``FLOW`` lines add flows anywhere; ``flows: explicit`` turns the
implicit sequence off (the form the writer uses for graphs that are not a simple sequence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from apg_workflow import model as m
from apg_workflow.formats.dsl.drafts import ContainerDraft, Draft, FlowDraft
from apg_workflow.formats.dsl.keywords import (
    KEYWORD_FIELDS,
    NODE_KEYWORDS,
    SPLIT_KEYWORDS,
    TOP_LEVEL_KEYWORDS,
    continues_sequence,
    in_sequence,
    receives_sequence,
)
from apg_workflow.formats.dsl.properties import Fields, read_properties
from apg_workflow.formats.dsl.syntax import (
    BranchStatement,
    ElementStatement,
    FlowStatement,
    ForEachStatement,
    LoopStatement,
    Ref,
    SourceError,
    Statement,
)
from apg_workflow.formats.dsl.triggers import Declare, read_trigger


@dataclass(frozen=True, slots=True)
class _Pending:
    """The source of a flow that the next step will receive, with what the flow carries."""

    source: Draft
    condition: m.Expression | None = None
    default: bool = False
    name: str | None = None


@dataclass(slots=True)
class _Tail:
    """The open ends of the sequence; several after a split block, joined by a ``join`` gateway."""

    ends: list[_Pending] = field(default_factory=list)
    join: type[m.Gateway] | None = None
    split: Draft | None = None


def build_content(statements: Sequence[Statement], content: ContainerDraft, declare: Declare) -> None:
    """Fill ``content`` from the statements of a WORKFLOW or sub-process."""
    _Sequence(declare, content).run(statements, _Tail())


def header_fields(
    stmt: ElementStatement, cls: type, extra: Fields | None = None, declare: Declare | None = None
) -> Fields:
    """The fields a statement's first line and properties give: id, name, triggers, properties.

    ``declare`` resolves quoted references of triggers; without it (declarations, workflows) the
    statement may have neither triggers nor ``-> target``.
    """
    fields: Fields = dict(extra or {})
    given = {name: f"{stmt.keyword} itself" for name in fields}
    if stmt.ident is not None:
        fields["id"], given["id"] = stmt.ident.text, "the id on the first line"
    if stmt.name is not None:
        fields["name"], given["name"] = stmt.name, "the name on the first line"
    if stmt.triggers:
        if declare is None or not issubclass(cls, m.Event):
            raise SourceError(
                f"{stmt.keyword} takes no {stmt.triggers[0].kind.upper()}: only events (START, END, WAIT, "
                "THROW, ON) have triggers",
                stmt.triggers[0].pos,
            )
        fields["definitions"] = tuple(read_trigger(t, declare) for t in stmt.triggers)
        if stmt.all_triggers:
            fields["parallel_multiple"] = True
    if stmt.goto is not None and declare is None:
        raise SourceError(f"{stmt.keyword} cannot have '-> {stmt.goto.text}'", stmt.goto.pos)
    read_properties(stmt.all_properties, cls, fields, stmt.keyword, given)
    return fields


def no_steps(stmt: Statement) -> None:
    if stmt.statements:
        inner = stmt.statements[0]
        raise SourceError(f"{stmt.keyword} cannot contain {inner.keyword}", inner.pos)


def _has_attached_to(stmt: Statement) -> bool:
    return isinstance(stmt, ElementStatement) and any(e.key == "attached_to" for e in stmt.all_properties)


class _Sequence:
    """Builds the content of one process or sub-process, statement by statement."""

    def __init__(self, declare: Declare, container: ContainerDraft) -> None:
        self.declare = declare
        self.container = container

    def run(self, statements: Sequence[Statement], tail: _Tail) -> _Tail:
        for stmt in statements:
            tail = self._statement(stmt, tail)
        return tail

    def _statement(self, stmt: Statement, tail: _Tail) -> _Tail:
        if isinstance(stmt, FlowStatement):
            self._flow(stmt)
            return tail
        if isinstance(stmt, LoopStatement | ForEachStatement):
            return self._wrapper(stmt, tail)
        if isinstance(stmt, BranchStatement):
            raise SourceError(
                f"{stmt.keyword} belongs inside a DECISION, INCLUSIVE or PARALLEL block", stmt.pos
            )
        assert isinstance(stmt, ElementStatement)
        keyword = stmt.keyword
        if keyword in TOP_LEVEL_KEYWORDS:
            raise SourceError(f"{keyword} belongs at the top of the file, not inside a workflow", stmt.pos)
        if keyword in SPLIT_KEYWORDS:
            if stmt.goto is not None:
                raise SourceError(
                    f"{keyword} has no '-> target': its branches say where to go", stmt.goto.pos
                )
            return self._split(stmt, tail)
        if keyword == "ON":
            self._boundary(stmt, None)
            return tail
        cls = NODE_KEYWORDS[keyword]
        draft, boundaries = self._node(stmt, cls, KEYWORD_FIELDS.get(keyword, {}))
        if not issubclass(cls, m.SubProcess):
            for inner in boundaries:
                if inner.keyword != "ON":
                    raise SourceError(
                        f"{keyword} cannot contain {inner.keyword}: only properties and ON boundary events "
                        "go under it (indent steps inside a SUBPROCESS)",
                        inner.pos,
                    )
        return self._place(draft, stmt.goto, boundaries, tail)

    # -- nodes ----------------------------------------------------------------------------------

    def _node(
        self, stmt: ElementStatement, cls: type[m.FlowNode], extra: Fields, *, enclose: bool = False
    ) -> tuple[Draft, list[Statement]]:
        """A node and the statements under it that are not its content (boundaries, steps, branches).

        With ``enclose`` (LOOP and FOR EACH blocks) the steps of a sub-process get a start event
        unless they begin with one, and an end event where their sequence stays open.
        """
        fields = header_fields(stmt, cls, extra, self.declare)
        draft = Draft(cls, stmt.pos, fields)
        nested = list(stmt.statements)
        if issubclass(cls, m.SubProcess):
            draft.content = ContainerDraft(explicit=fields.pop("_explicit", False))
            own = [s for s in nested if s.keyword == "ON" and not _has_attached_to(s)]
            steps = [s for s in nested if s not in own]
            inner = _Sequence(self.declare, draft.content)
            if enclose and not draft.content.explicit:
                inner.enclosed(draft, steps)
            else:
                inner.run(steps, _Tail())
            nested = own
        return draft, nested

    def enclosed(self, owner: Draft, steps: list[Statement]) -> None:
        """``steps`` between an added start event and an added end event."""
        tail = _Tail()
        if not (steps and steps[0].keyword == "START"):
            start = Draft(m.StartEvent, owner.pos, derived=(owner, "_start"))
            self.container.nodes.append(start)
            tail = _Tail([_Pending(start)])
        ends = self._settle(self.run(steps, tail))
        if ends:
            end = Draft(m.EndEvent, owner.pos, derived=(owner, "_end"))
            for pending in ends:
                self._add_flow(pending, end)
            self.container.nodes.append(end)

    def _place(self, draft: Draft, goto: Ref | None, boundaries: list[Statement], tail: _Tail) -> _Tail:
        """Add a node after ``tail``; the new tail."""
        chained = in_sequence(draft.cls, draft.fields.get("triggered_by_event", False))
        if chained and receives_sequence(draft.cls):
            self._connect(tail, draft)
        self.container.nodes.append(draft)
        for boundary in boundaries:
            assert isinstance(boundary, ElementStatement)
            self._boundary(boundary, draft)
        if goto is not None:
            self._add_flow(_Pending(draft), goto)
        if not chained:
            return tail
        if goto is not None or not continues_sequence(draft.cls) or self.container.explicit:
            return _Tail()
        return _Tail([_Pending(draft)])

    def _boundary(self, stmt: ElementStatement, host: Draft | None) -> None:
        draft, path = self._node(stmt, m.BoundaryEvent, {})
        if host is not None:
            if "attached_to" in draft.fields:
                raise SourceError(
                    "this ON is attached to the step it is indented under: remove attached_to:", stmt.pos
                )
            if not issubclass(host.cls, m.Activity):
                raise SourceError(
                    "ON attaches a boundary event to an activity (a task, CALL or SUBPROCESS)", stmt.pos
                )
            draft.fields["attached_to"] = host
        elif "attached_to" not in draft.fields:
            raise SourceError(
                "indent ON under the activity it belongs to, or name the activity with attached_to:", stmt.pos
            )
        self.container.nodes.append(draft)
        if stmt.goto is not None:
            if path:
                raise SourceError("write either '-> target' or the steps under ON, not both", stmt.goto.pos)
            self._add_flow(_Pending(draft), stmt.goto)
        elif path:
            if self.container.explicit:
                raise SourceError(
                    "with flows: explicit, connect the steps after ON with FLOW lines", path[0].pos
                )
            self.run(path, _Tail([_Pending(draft)]))

    def _wrapper(self, stmt: LoopStatement | ForEachStatement, tail: _Tail) -> _Tail:
        """``LOOP WHILE`` / ``FOR EACH`` blocks: a sub-process that repeats its steps, from an added
        start event to an added end event."""
        loop: m.LoopCharacteristics
        if isinstance(stmt, LoopStatement):
            loop = m.StandardLoop(condition=stmt.condition.expression, test_before=True)
            header = ElementStatement(
                keyword="LOOP WHILE", pos=stmt.pos, body=stmt.body, ident=stmt.ident, name=stmt.name
            )
        else:
            loop = m.MultiInstance(
                sequential=stmt.sequential,
                input_collection=stmt.collection.expression,
                input_element=stmt.variable.text,
            )
            header = ElementStatement(keyword="FOR EACH", pos=stmt.pos, body=stmt.body)
        draft, boundaries = self._node(header, m.SubProcess, {"loop": loop}, enclose=True)
        return self._place(draft, None, boundaries, tail)

    # -- branches -------------------------------------------------------------------------------

    def _split(self, stmt: ElementStatement, tail: _Tail) -> _Tail:
        keyword = stmt.keyword
        if self.container.explicit:
            raise SourceError(
                f"{keyword} blocks make their own flows; with flows: explicit write the gateway "
                "(EXCLUSIVE_GATEWAY, …) and FLOW lines",
                stmt.pos,
            )
        gateway, branches = self._node(stmt, SPLIT_KEYWORDS[keyword], {})
        self._connect(tail, gateway)
        self.container.nodes.append(gateway)
        ends: list[_Pending] = []
        otherwise: BranchStatement | None = None
        for branch in branches:
            _check_branch(keyword, branch, otherwise)
            assert isinstance(branch, BranchStatement)
            if branch.keyword == "OTHERWISE":
                otherwise = branch
            pending = _Pending(gateway, _condition(branch), branch.keyword == "OTHERWISE", branch.label)
            if branch.properties:
                raise SourceError(
                    "a branch has no properties: put them on its steps", branch.properties[0].pos
                )
            if branch.goto is not None:
                if branch.statements:
                    raise SourceError(
                        "write either '-> target' or the steps of the branch, not both", branch.pos
                    )
                self._add_flow(pending, branch.goto)
            elif branch.statements:
                ends += self._settle(self.run(branch.statements, _Tail([pending])))
            elif branch.keyword == "OTHERWISE":
                ends.append(pending)  # nothing to do otherwise: continue after the block
            else:
                raise SourceError(
                    f"{branch.keyword} needs '-> target' or an indented block of steps", branch.pos
                )
        if not branches:
            raise SourceError(f"{keyword} needs branches: indented WHEN / BRANCH lines", stmt.pos)
        return _Tail(ends, gateway.cls, gateway)

    def _settle(self, tail: _Tail) -> list[_Pending]:
        """The ends of ``tail``, joined first when a split block left several."""
        if len(tail.ends) < 2 or tail.join is None or tail.split is None:
            return tail.ends
        join = Draft(tail.join, tail.split.pos, derived=(tail.split, "_join"))
        for pending in tail.ends:
            self._add_flow(pending, join)
        self.container.nodes.append(join)
        return [_Pending(join)]

    def _connect(self, tail: _Tail, target: Draft) -> None:
        if not self.container.explicit:
            for pending in self._settle(tail):
                self._add_flow(pending, target)

    def _add_flow(self, pending: _Pending, target: Draft | Ref) -> None:
        fields: Fields = {}
        if pending.name is not None:
            fields["name"] = pending.name
        if pending.condition is not None:
            fields["condition"] = pending.condition
        flow = FlowDraft(pending.source, target, target.pos, fields)
        self.container.flows.append(flow)
        if pending.default:
            if "default" in pending.source.fields:
                raise SourceError("OTHERWISE makes the default flow: remove default:", target.pos)
            pending.source.fields["default"] = flow

    def _flow(self, stmt: FlowStatement) -> None:
        no_steps(stmt)
        fields: Fields = {}
        given: dict[str, str] = {}
        if stmt.ident is not None:
            fields["id"], given["id"] = stmt.ident.text, "the id after FLOW"
        if stmt.name is not None:
            fields["name"], given["name"] = stmt.name, "the name after FLOW"
        if stmt.condition is not None:
            fields["condition"], given["condition"] = stmt.condition.expression, "WHEN"
        read_properties(stmt.properties, m.SequenceFlow, fields, "FLOW", given)
        flow = FlowDraft(stmt.source, stmt.target, stmt.pos, fields)
        self.container.flows.append(flow)
        if stmt.default:
            self.container.marked_default.append(flow)


def _condition(branch: BranchStatement) -> m.Expression | None:
    return branch.condition.expression if branch.condition is not None else None


def _check_branch(keyword: str, branch: Statement, otherwise: Statement | None) -> None:
    allowed = "BRANCH" if keyword == "PARALLEL" else "WHEN, BRANCH and OTHERWISE"
    if not isinstance(branch, BranchStatement) or branch.keyword not in allowed:
        raise SourceError(f"only {allowed} lines (and properties) go inside {keyword}", branch.pos)
    if keyword == "PARALLEL" and branch.condition is not None:
        raise SourceError("parallel branches all run: they take no condition", branch.condition.pos)
    if keyword != "PARALLEL" and branch.keyword == "BRANCH" and branch.condition is None:
        raise SourceError(f'a BRANCH of {keyword} needs its condition: BRANCH "expression":', branch.pos)
    if branch.keyword == "OTHERWISE" and otherwise is not None:
        raise SourceError(
            f"{keyword} has one OTHERWISE at most (the first is on line {otherwise.pos.line})", branch.pos
        )
