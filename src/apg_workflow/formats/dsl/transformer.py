"""The lark parse tree → the syntax tree of :mod:`syntax`: tokens become typed, located values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lark import Token, Transformer

from apg_workflow.formats.dsl.lexical import LexicalError, unquote
from apg_workflow.formats.dsl.syntax import (
    BranchStatement,
    ElementStatement,
    Entry,
    Expr,
    FlowStatement,
    ForEachStatement,
    ListValue,
    LoopStatement,
    MappingValue,
    Pos,
    Ref,
    Scalar,
    SourceError,
    Statement,
    Tagged,
    Trigger,
)
from apg_workflow.model import Expression, TimerKind


def pos_of(token: Token) -> Pos:
    return Pos(token.line or 0, token.column or 0)


def text_of(token: Token) -> str:
    """The text of a STRING or QID token, escapes resolved; a located problem when they are bad."""
    try:
        return unquote(str(token))
    except LexicalError as exc:
        raise SourceError(exc.message, Pos(token.line or 0, (token.column or 0) + exc.offset)) from None


@dataclass(frozen=True, slots=True)
class _Goto:
    target: Ref


@dataclass(frozen=True, slots=True)
class _Triggers:
    items: tuple[Trigger, ...]
    all: bool


@dataclass(frozen=True, slots=True)
class _Header:
    ident: Ref | None = None
    name: str | None = None
    triggers: _Triggers | None = None
    inline: tuple[Entry, ...] = ()
    goto: Ref | None = None


@dataclass(frozen=True, slots=True)
class _Label:
    ident: Ref | None
    name: str | None


def _tokens(children: list[Any], *types: str) -> list[Token]:
    return [c for c in children if isinstance(c, Token) and c.type in types]


def _first(children: list[Any], cls: type) -> Any:
    return next((c for c in children if isinstance(c, cls)), None)


def _body(children: list[Any]) -> tuple[Statement | Entry, ...]:
    return tuple(c for c in children if isinstance(c, Statement | Entry))


def _label(children: list[Any]) -> str | None:
    strings = _tokens(children, "STRING")
    return text_of(strings[0]) if strings else None


class ToSyntax(Transformer[Token, list[Statement | Entry]]):
    """Turns each grammar rule into its :mod:`syntax` object (used once per parse)."""

    # -- values ---------------------------------------------------------------------------------

    def string(self, c: list[Token]) -> Scalar:
        return Scalar(text_of(c[0]), pos_of(c[0]))

    def number(self, c: list[Token]) -> Scalar:
        raw = str(c[0])
        value: int | float = int(raw) if raw.lstrip("-").isdigit() else float(raw)
        return Scalar(value, pos_of(c[0]))

    def word(self, c: list[Token]) -> Scalar:
        token = c[0]
        return Scalar(text_of(token) if token.type == "QID" else str(token), pos_of(token), bare=True)

    def true(self, c: list[Token]) -> Scalar:
        return Scalar(True, pos_of(c[0]))

    def false(self, c: list[Token]) -> Scalar:
        return Scalar(False, pos_of(c[0]))

    def null(self, c: list[Token]) -> Scalar:
        return Scalar(None, pos_of(c[0]))

    def tagged(self, c: list[Any]) -> Tagged:
        tag: Ref = c[0]
        return Tagged(tag.text, text_of(c[1]), tag.pos)

    def array(self, c: list[Any]) -> ListValue:
        items = tuple(x for x in c if x is not None)
        return ListValue(items, items[0].pos if items else None)

    def mapping(self, c: list[Any]) -> MappingValue:
        entries = tuple(x for x in c if isinstance(x, Entry))
        return MappingValue(entries, entries[0].pos if entries else None)

    def key(self, c: list[Token]) -> tuple[str, Pos]:
        token = c[0]
        if token.type == "KEY_COLON":
            return str(token)[:-1], pos_of(token)
        if token.type in ("STRING", "QID"):
            return text_of(token), pos_of(token)
        return str(token), pos_of(token)

    def pair(self, c: list[Any]) -> Entry:
        (name, pos), value = c
        return Entry(name, value, pos)

    entry = pair

    def block_entry(self, c: list[Any]) -> Entry:
        name, pos = c[0]
        return Entry(name, MappingValue(tuple(c[1:]), pos), pos)

    def property(self, c: list[Any]) -> Entry:
        return Entry(str(c[0])[:-1], c[1], pos_of(c[0]))

    inline_property = property

    def block_property(self, c: list[Any]) -> Entry:
        pos = pos_of(c[0])
        return Entry(str(c[0])[:-1], MappingValue(tuple(c[1:]), pos), pos)

    # -- pieces ---------------------------------------------------------------------------------

    def ident(self, c: list[Token]) -> Ref:
        token = c[0]
        text = text_of(token) if token.type == "QID" else str(token)
        return Ref(text, pos_of(token))

    def ref(self, c: list[Any]) -> Ref:
        if isinstance(c[0], Ref):
            return c[0]
        return Ref(text_of(c[0]), pos_of(c[0]), quoted=True)

    def expr(self, c: list[Any]) -> Expr:
        tag, string = c
        expression = Expression(text_of(string), tag.text if tag else None)
        return Expr(expression, tag.pos if tag else pos_of(string))

    def goto(self, c: list[Any]) -> _Goto:
        return _Goto(c[1])

    # -- triggers -------------------------------------------------------------------------------

    def triggers(self, c: list[Any]) -> _Triggers:
        joins = _tokens(c, "OR", "AND")
        kinds = {str(j) for j in joins}
        if len(kinds) > 1:
            raise SourceError(
                "join the triggers of one event with OR (any of them) or with AND (all of them), not both",
                pos_of(joins[0]),
            )
        return _Triggers(tuple(x for x in c if isinstance(x, Trigger)), kinds == {"AND"})

    def _trigger(self, kind: str, c: list[Any], **fields: Any) -> Trigger:
        return Trigger(kind, pos_of(c[0]), ref=_first(c, Ref), expr=_first(c, Expr), **fields)

    def timer(self, c: list[Any]) -> Trigger:
        kinds = _tokens(c, "DURATION", "DATE", "CYCLE")
        timer = TimerKind(str(kinds[0]).lower()) if kinds else TimerKind.DURATION
        return self._trigger("timer", c, timer=timer)

    def message(self, c: list[Any]) -> Trigger:
        return self._trigger("message", c)

    def signal(self, c: list[Any]) -> Trigger:
        return self._trigger("signal", c)

    def error(self, c: list[Any]) -> Trigger:
        return self._trigger("error", c)

    def escalation(self, c: list[Any]) -> Trigger:
        return self._trigger("escalation", c)

    def terminate(self, c: list[Any]) -> Trigger:
        return self._trigger("terminate", c)

    def cancel(self, c: list[Any]) -> Trigger:
        return self._trigger("cancel", c)

    def conditional(self, c: list[Any]) -> Trigger:
        return self._trigger("conditional", c)

    def link(self, c: list[Any]) -> Trigger:
        return self._trigger("link", c)

    def compensate(self, c: list[Any]) -> Trigger:
        return self._trigger("compensate", c, no_wait=bool(_tokens(c, "NO_WAIT")))

    # -- statements -----------------------------------------------------------------------------

    def header(self, c: list[Any]) -> _Header:
        goto = _first(c, _Goto)
        return _Header(
            ident=_first(c, Ref),
            name=_label(c),
            triggers=_first(c, _Triggers),
            inline=tuple(x for x in c if isinstance(x, Entry)),
            goto=goto.target if goto else None,
        )

    def element(self, c: list[Any]) -> ElementStatement:
        keyword: Token = c[0]
        header: _Header = c[1]
        triggers = header.triggers or _Triggers((), False)
        return ElementStatement(
            keyword=str(keyword),
            pos=pos_of(keyword),
            body=_body(c[2:]),
            ident=header.ident,
            name=header.name,
            triggers=triggers.items,
            all_triggers=triggers.all,
            inline=header.inline,
            goto=header.goto,
        )

    def flow_label(self, c: list[Any]) -> _Label:
        return _Label(_first(c, Ref), _label(c))

    def flow(self, c: list[Any]) -> FlowStatement:
        label = _first(c, _Label) or _Label(None, None)
        source, target = [x for x in c if isinstance(x, Ref)]
        return FlowStatement(
            keyword="FLOW",
            pos=pos_of(c[0]),
            body=_body(c),
            ident=label.ident,
            name=label.name,
            source=source,
            target=target,
            condition=_first(c, Expr),
            default=bool(_tokens(c, "DEFAULT")),
        )

    def _branch(self, c: list[Any]) -> BranchStatement:
        goto = _first(c, _Goto)
        return BranchStatement(
            keyword=str(c[0]),
            pos=pos_of(c[0]),
            body=_body(c),
            condition=_first(c, Expr),
            label=_label(c),
            goto=goto.target if goto else None,
        )

    when = branch = otherwise = _branch

    def loop(self, c: list[Any]) -> LoopStatement:
        return LoopStatement(
            keyword="LOOP",
            pos=pos_of(c[0]),
            body=_body(c),
            ident=_first(c, Ref),
            name=_label(c),
            condition=_first(c, Expr),
        )

    def foreach(self, c: list[Any]) -> ForEachStatement:
        return ForEachStatement(
            keyword="FOR EACH",
            pos=pos_of(c[0]),
            body=_body(c),
            variable=_first(c, Ref),
            collection=_first(c, Expr),
            sequential=bool(_tokens(c, "SEQUENTIAL")),
        )

    def start(self, c: list[Any]) -> list[Statement | Entry]:
        return list(_body(c))
