"""YAML text ⇄ plain data, safely: no object construction, no alias bombs, node marks kept for errors.

Only plain data is read (mappings, lists, text, numbers, booleans, null). Dates stay text, as in
JSON. Tags that would build other Python objects (``!!python/…``, ``!!binary``, ``!!set``, …) are
refused. Aliases are allowed for sharing, but a document whose aliases expand to more than
:data:`MAX_EXPANDED_NODES` values ("billion laughs") or refer to themselves is refused before any
data is built.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from apg_workflow.formats.errors import FormatError
from apg_workflow.formats.jsonyaml.diagnostics import Path, Position, PositionMaps, SourceMap, line_column

MAX_EXPANDED_NODES = 100_000
_INLINE_LIST_WIDTH = 60
_REFUSED_TAGS = ("timestamp", "binary", "set", "omap", "pairs")


# libyaml's parser when it is installed (several times faster), the pure-Python one otherwise.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """The safe loader, leaving dates as text and refusing non-JSON types."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}


def _refuse_tag(loader: _Loader, node: Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None,
        None,
        f"the tag {node.tag} is not allowed: a definition holds plain data (text, numbers, booleans, "
        "lists and mappings)",
        node.start_mark,
    )


for _name in _REFUSED_TAGS:
    _Loader.add_constructor(f"tag:yaml.org,2002:{_name}", _refuse_tag)


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, multi-line text as literal blocks (``|``)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


def _represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.SequenceNode:
    """Short lists of one-line scalars on one line (``[alice, bob]``), others one item per line."""
    inline = all(isinstance(item, str | int | float | bool) and "\n" not in str(item) for item in items)
    short = sum(len(str(item)) + 2 for item in items) <= _INLINE_LIST_WIDTH
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=inline and short)


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(list, _represent_list)


def dump_yaml(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )


def parse_yaml(text: str, *, source: str | None = None) -> tuple[Any, SourceMap]:
    """Parse one YAML document. Syntax errors and refused content raise a located :class:`FormatError`."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise FormatError.at("the YAML document is empty", format="yaml", source=source)
        _check_expansion(node, source)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot be read"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise FormatError.at(
            f"invalid YAML: {problem}", format="yaml", line=line, column=column, source=source
        ) from None
    except yaml.reader.ReaderError as exc:
        line, column = line_column(text)(exc.position)
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        raise FormatError.at(
            f"invalid YAML: the character U+{code:04X} is not allowed",
            format="yaml",
            line=line,
            column=column,
            source=source,
        ) from None
    except RecursionError:
        raise FormatError.at("invalid YAML: nested too deeply", format="yaml", source=source) from None
    finally:
        loader.dispose()
    return data, SourceMap(lambda: _positions(node))


def _check_expansion(root: Node, source: str | None) -> None:
    """Refuse aliases that refer to themselves or multiply the document beyond the limit."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            mark = node.start_mark
            raise FormatError.at(
                "invalid YAML: an alias refers to the node that contains it (a recursive structure)",
                format="yaml",
                line=mark.line + 1,
                column=mark.column + 1,
                source=source,
            )
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            _check_unique_keys(node, source)
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        sizes[key] = total
        if total > MAX_EXPANDED_NODES and total > len(sizes):
            raise FormatError.at(
                f"invalid YAML: its aliases expand to more than {MAX_EXPANDED_NODES:,} values; this looks "
                "like an alias bomb ('billion laughs'). Write repeated parts out instead",
                format="yaml",
                line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
                source=source,
            )
        return total

    size(root)


def _check_unique_keys(node: MappingNode, source: str | None) -> None:
    seen: set[tuple[str, str]] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        if (key_node.tag, key_node.value) in seen:
            mark = key_node.start_mark
            raise FormatError.at(
                f"duplicate key '{key_node.value}': each key may appear once in a mapping",
                format="yaml",
                line=mark.line + 1,
                column=mark.column + 1,
                source=source,
            )
        seen.add((key_node.tag, key_node.value))


def _positions(root: Node) -> PositionMaps:
    keys: dict[Path, Position] = {}
    values: dict[Path, Position] = {}

    def visit(node: Node, path: Path) -> None:
        values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, SequenceNode):
            for index, child in enumerate(node.value):
                visit(child, (*path, index))
        elif isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode):
                    child_path = (*path, key_node.value)
                    keys[child_path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                    visit(value_node, child_path)

    visit(root, ())
    return keys, values
