"""Values → DSL text: ``key: value`` lines, blocks of entries, ``|`` text, inline lists."""

from __future__ import annotations

from apg_workflow.formats.dsl.lexical import NAME, as_block, ident, key, quote
from apg_workflow.formats.dsl.syntax import Entry, ListValue, MappingValue, Scalar, Tagged, Value

INDENT = "  "


class Printer:
    """Prints values; ``reserved`` words are written between backticks where an id is expected."""

    def __init__(self, reserved: frozenset[str]) -> None:
        self.reserved = reserved

    def entries(self, entries: list[Entry] | tuple[Entry, ...], indent: str) -> list[str]:
        lines: list[str] = []
        for entry in entries:
            lines += self.entry(entry, indent)
        return lines

    def entry(self, entry: Entry, indent: str) -> list[str]:
        head = f"{indent}{key(entry.key)}"
        value = entry.value
        if isinstance(value, MappingValue) and value.entries:
            return [head, *self.entries(value.entries, indent + INDENT)]
        text = value.text if isinstance(value, Tagged) else value.value if isinstance(value, Scalar) else None
        block = as_block(text) if isinstance(text, str) and not getattr(value, "bare", False) else None
        if block is None:
            return [f"{head} {self.inline(value)}"]
        tag = f" {ident(value.tag, self.reserved)}" if isinstance(value, Tagged) else ""
        body = [f"{indent}{INDENT}{line}" if line else "" for line in block.lines]
        return [f"{head}{tag} {block.marker}", *body]

    def inline(self, value: Value) -> str:
        """``value`` on one line."""
        if isinstance(value, Tagged):
            return f"{ident(value.tag, self.reserved)} {quote(value.text)}"
        if isinstance(value, ListValue):
            return "[" + ", ".join(self.inline(item) for item in value.items) + "]"
        if isinstance(value, MappingValue):
            inner = ", ".join(f"{key(e.key)} {self.inline(e.value)}" for e in value.entries)
            return "{" + inner + "}"
        return self.scalar(value)

    def scalar(self, value: Scalar) -> str:
        data = value.value
        if data is None:
            return "null"
        if isinstance(data, bool):
            return "true" if data else "false"
        if isinstance(data, int | float):
            return repr(data)
        if value.bare and NAME.fullmatch(data) and data not in self.reserved:
            return data
        return quote(data)
