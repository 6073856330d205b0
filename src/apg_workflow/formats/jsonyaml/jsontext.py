"""JSON text ⇄ plain data, with the line and column of every key and value for error messages."""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from typing import Any

from apg_workflow.formats.errors import FormatError
from apg_workflow.formats.jsonyaml.diagnostics import Path, Position, PositionMaps, SourceMap, line_column

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        counts = Counter(key for key, _ in pairs)
        raise _DuplicateKey(next(key for key, count in counts.items() if count > 1))
    return result


def parse_json(text: str, *, source: str | None = None) -> tuple[Any, SourceMap]:
    """Parse JSON text. Syntax errors and duplicate keys raise a located :class:`FormatError`."""
    text = text.removeprefix("\ufeff")
    source_map = SourceMap(lambda: _positions(text))
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicates), source_map
    except json.JSONDecodeError as exc:
        raise FormatError.at(
            f"invalid JSON: {exc.msg}", format="json", line=exc.lineno, column=exc.colno, source=source
        ) from None
    except RecursionError:
        raise FormatError.at("invalid JSON: nested too deeply", format="json", source=source) from None
    except _DuplicateKey as exc:
        duplicates = _scan(text).duplicates
        line, column = duplicates[0][1] if duplicates else (None, None)
        raise FormatError.at(
            f"duplicate key '{exc.key}': each key may appear once in an object",
            format="json",
            line=line,
            column=column,
            source=source,
        ) from None


def dump_json(data: Any) -> str:
    """Indented by two spaces, keys in the order given, non-ASCII text written as is."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _positions(text: str) -> PositionMaps:
    scanner = _scan(text)
    return scanner.keys, scanner.values


def _scan(text: str) -> _Scanner:
    scanner = _Scanner(text)
    with contextlib.suppress(RecursionError):  # positions are a courtesy: keep what was found
        scanner.value(0, ())
    return scanner


class _Scanner:
    """Walks text already known to be valid JSON and records where each key and value starts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = line_column(text)
        self.keys: dict[Path, Position] = {}
        self.values: dict[Path, Position] = {}
        self.duplicates: list[tuple[Path, Position]] = []

    def _skip(self, offset: int) -> int:
        match = _WHITESPACE.match(self.text, offset)
        return match.end() if match else offset

    def value(self, offset: int, path: Path) -> int:
        """Scan the value at ``offset``; the offset just after it."""
        offset = self._skip(offset)
        self.values[path] = self.position(offset)
        first = self.text[offset]
        if first == "{":
            return self._object(offset + 1, path)
        if first == "[":
            return self._array(offset + 1, path)
        return _DECODER.raw_decode(self.text, offset)[1]  # a string, number, boolean or null

    def _object(self, offset: int, path: Path) -> int:
        offset = self._skip(offset)
        if self.text[offset] == "}":
            return offset + 1
        seen: set[str] = set()
        while True:
            offset = self._skip(offset)
            where = self.position(offset)
            key, offset = _DECODER.raw_decode(self.text, offset)
            child = (*path, key)
            if key in seen:
                self.duplicates.append((child, where))
            seen.add(key)
            self.keys[child] = where
            offset = self._skip(self._skip(offset) + 1)  # past the colon
            offset = self._skip(self.value(offset, child))
            if self.text[offset] != ",":
                return offset + 1
            offset += 1

    def _array(self, offset: int, path: Path) -> int:
        offset = self._skip(offset)
        if self.text[offset] == "]":
            return offset + 1
        index = 0
        while True:
            offset = self._skip(self.value(offset, (*path, index)))
            if self.text[offset] != ",":
                return offset + 1
            offset += 1
            index += 1
