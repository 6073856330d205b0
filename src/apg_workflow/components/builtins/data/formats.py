"""Text formats in and out: CSV and JSON."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data._base import DataComponent, invalid_config, kind, prop, shape

_TEXT_IN = shape(required=("text",), text=prop("the text to parse", "string"))
_SNIFFED = ",;\t|"
_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)?\.[0-9]+([eE][-+]?[0-9]+)?|-?(0|[1-9][0-9]*)[eE][-+]?[0-9]+")
_QUOTING = {"minimal": csv.QUOTE_MINIMAL, "all": csv.QUOTE_ALL, "nonnumeric": csv.QUOTE_NONNUMERIC}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _CsvDialect(ComponentConfig):
    quotechar: str = Field('"', min_length=1, max_length=1, description="Encloses values holding delimiters.")
    header: bool = Field(True, description="Whether the first row holds the column names.")
    columns: list[str] | None = Field(
        None,
        max_length=10_000,
        description="Column names, in order. Parsing: names the columns (replacing the header's names). "
        "Formatting: which fields to write and in what order (default: every field, as first seen).",
    )


class CsvParseConfig(_CsvDialect):
    delimiter: str = Field(
        ",",
        min_length=1,
        max_length=4,
        description="The field separator (`,`, `;`, a tab, `|`, …), or `auto` to detect it from the text.",
    )
    strip: bool = Field(False, description="Trim white space around every value.")
    types: Literal["string", "infer"] = Field(
        "string",
        description="`string`: every value stays text; `infer`: integers, decimals, true/false become "
        "numbers and booleans, and empty values null.",
    )
    on_bad_row: Literal["error", "skip"] = Field(
        "error", description="What to do with a row whose number of values differs from the columns'."
    )

    @model_validator(mode="after")
    def _single_character(self) -> CsvParseConfig:
        if self.delimiter != "auto" and len(self.delimiter) != 1:
            raise invalid_config("the delimiter must be one character, or 'auto'")
        return self


class CsvParse(DataComponent[CsvParseConfig]):
    type = "data.csv_parse"
    title = "Parse CSV"
    description = (
        "Reads CSV text into a list of objects keyed by column name (or of lists, without a header or "
        "column names). Quoted values may hold delimiters and line breaks; a UTF-8 byte order mark is "
        "ignored. Errors name the line."
    )
    Config = CsvParseConfig
    inputs = _TEXT_IN
    outputs = shape(
        items=prop("the rows", "array"),
        columns=prop("the column names", ["array", "null"]),
        count=prop("how many rows were read", "integer"),
    )
    examples = (
        {
            "config": {"delimiter": ";", "types": "infer"},
            "inputs": {"text": 'sku;qty;note\nA-1;2;"fragile; top"\nB-7;1;\n'},
            "outputs": {
                "items": [
                    {"sku": "A-1", "qty": 2, "note": "fragile; top"},
                    {"sku": "B-7", "qty": 1, "note": None},
                ],
                "columns": ["sku", "qty", "note"],
                "count": 2,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: CsvParseConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        text = self.text(inputs).removeprefix("\ufeff")
        delimiter = self._delimiter(config, text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=config.quotechar)
        columns, header_pending, rows = config.columns, config.header, []
        try:
            for values in reader:
                if not values:
                    continue  # a blank line
                cells = [value.strip() for value in values] if config.strip else values
                if header_pending:
                    header_pending = False
                    columns = columns or self._header(cells, reader.line_num)
                    continue
                if columns is not None and len(cells) != len(columns):
                    if config.on_bad_row == "skip":
                        continue
                    raise self.invalid(
                        f"line {reader.line_num} has {len(cells)} values but there are {len(columns)} columns"
                    )
                typed = [_infer(cell) for cell in cells] if config.types == "infer" else cells
                rows.append(dict(zip(columns, typed, strict=True)) if columns is not None else typed)
        except csv.Error as exc:
            raise self.invalid(f"line {reader.line_num}: {exc}") from None
        return {"items": rows, "columns": columns, "count": len(rows)}

    def _delimiter(self, config: CsvParseConfig, text: str) -> str:
        if config.delimiter != "auto":
            return config.delimiter
        try:
            return csv.Sniffer().sniff(text[:64_000], delimiters=_SNIFFED).delimiter
        except csv.Error:
            raise self.invalid("cannot detect the delimiter; set 'delimiter' explicitly") from None

    def _header(self, cells: list[str], line: int) -> list[str]:
        names = [cell or f"column_{position}" for position, cell in enumerate(cells, 1)]
        for position, name in enumerate(names):
            if name in names[:position]:
                raise self.invalid(
                    f"line {line}: two columns are named '{name}'; set 'columns' to rename them"
                )
        return names


def _infer(cell: str) -> Any:
    """The number or boolean ``cell`` spells, None for an empty cell, else ``cell`` itself.

    Integers with leading zeros (postal codes, ids) stay text, and so does anything Python would
    read but CSV users would not call a number (``1_000``, `` 12``, ``nan``, ``inf``).
    """
    if cell == "":
        return None
    if cell in ("true", "false", "TRUE", "FALSE", "True", "False"):
        return cell.lower() == "true"
    if _INTEGER.fullmatch(cell) and len(cell) <= 300:
        return int(cell)
    if _DECIMAL.fullmatch(cell) and len(cell) <= 300:
        return float(cell)
    return cell


class CsvFormatConfig(_CsvDialect):
    delimiter: str = Field(",", min_length=1, max_length=1, description="The field separator.")
    quoting: Literal["minimal", "all", "nonnumeric"] = Field(
        "minimal",
        description="Quote values only when needed (`minimal`), always (`all`), or all but numbers.",
    )
    line_terminator: Literal["\r\n", "\n"] = Field("\r\n", description="Ends each row (CRLF is RFC 4180's).")
    escape_formulas: bool = Field(
        False,
        description="Prefix values starting with = + - @ with an apostrophe, so that spreadsheet programs "
        "do not run them as formulas (CSV injection). Numbers are left alone.",
    )


class CsvFormat(DataComponent[CsvFormatConfig]):
    type = "data.csv_format"
    title = "Format CSV"
    description = (
        "Writes a list of objects (or of lists) as CSV text. Missing fields and nulls become empty "
        "values, booleans `true`/`false`, nested objects and lists JSON text."
    )
    Config = CsvFormatConfig
    inputs = shape(required=("items",), items=prop("the rows: objects, or lists of values", "array"))
    outputs = shape(
        text=prop("the CSV text", "string"),
        count=prop("how many rows were written (without the header)", "integer"),
    )
    examples = (
        {
            "config": {"columns": ["sku", "qty"], "line_terminator": "\n"},
            "inputs": {"items": [{"sku": "A-1", "qty": 2, "internal": True}, {"sku": "B,7", "qty": 1}]},
            "outputs": {"text": 'sku,qty\nA-1,2\n"B,7",1\n', "count": 2},
        },
    )

    async def run(
        self, context: ComponentContext, config: CsvFormatConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        items = self.items(inputs)
        columns = config.columns if config.columns is not None else _fields(items)
        buffer = io.StringIO(newline="")
        writer = csv.writer(
            buffer,
            delimiter=config.delimiter,
            quotechar=config.quotechar,
            quoting=_QUOTING[config.quoting],
            lineterminator=config.line_terminator,
        )
        if config.header and columns:
            writer.writerow(columns)
        for index, item in enumerate(items):
            if isinstance(item, Mapping):
                values = [item.get(column) for column in columns]
            elif isinstance(item, list | tuple):
                values = list(item)
            else:
                raise self.invalid(f"items[{index}] must be an object or a list, not {kind(item)}")
            writer.writerow([_cell(value, config.escape_formulas) for value in values])
        return {"text": buffer.getvalue(), "count": len(items)}


def _fields(items: list[Any]) -> list[str]:
    """Every field of the objects in ``items``, in the order they first appear."""
    seen: dict[str, None] = {}
    for item in items:
        if isinstance(item, Mapping):
            seen.update(dict.fromkeys(str(key) for key in item))
    return list(seen)


def _cell(value: Any, escape_formulas: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    text = value if isinstance(value, str) else json.dumps(to_json(value), ensure_ascii=False)
    return f"'{text}" if escape_formulas and text.startswith(_FORMULA_START) else text


def to_json(value: Any) -> Any:
    """``value`` with what JSON lacks made plain: Decimal → number, dates and times → ISO 8601 text,
    tuples and sets → lists. Raises ``ValueError`` for anything else."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.is_finite() else float(value)
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(item) for item in value]
    raise ValueError(f"{kind(value)} has no JSON form")


class JsonParse(DataComponent[ComponentConfig]):
    type = "data.json_parse"
    title = "Parse JSON"
    description = (
        "Reads JSON text into a value. Errors give the line and column; NaN and Infinity, "
        "which are not JSON, are refused."
    )
    inputs = _TEXT_IN
    outputs = shape(result=prop("the parsed value"))
    examples = (
        {
            "config": {},
            "inputs": {"text": '{"order": 7, "lines": [{"sku": "A-1"}]}'},
            "outputs": {"result": {"order": 7, "lines": [{"sku": "A-1"}]}},
        },
    )

    async def run(
        self, context: ComponentContext, config: ComponentConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        text = self.text(inputs)
        try:
            return {"result": json.loads(text, parse_constant=_refuse_constant)}
        except json.JSONDecodeError as exc:
            raise self.invalid(
                f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        except ValueError as exc:  # NaN / Infinity, integers beyond Python's digit limit
            raise self.invalid(f"not valid JSON: {exc}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


class JsonFormatConfig(ComponentConfig):
    indent: int | None = Field(
        None, ge=0, le=8, description="Spaces per indentation level; empty: everything on one line."
    )
    sort_keys: bool = Field(False, description="Write object keys in alphabetical order.")
    ascii_only: bool = Field(False, description="Escape every non-ASCII character as \\uXXXX.")


class JsonFormat(DataComponent[JsonFormatConfig]):
    type = "data.json_format"
    title = "Format JSON"
    description = (
        "Writes a value as JSON text, compact or indented. Decimals become numbers and dates ISO 8601 "
        "strings; NaN and Infinity are refused."
    )
    Config = JsonFormatConfig
    inputs = shape(required=("data",), data=prop("the value to write"))
    outputs = shape(text=prop("the JSON text", "string"))
    examples = (
        {
            "config": {"sort_keys": True},
            "inputs": {"data": {"b": [1, 2], "a": "é"}},
            "outputs": {"text": '{"a": "é", "b": [1, 2]}'},
        },
    )

    async def run(
        self, context: ComponentContext, config: JsonFormatConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        try:
            text = json.dumps(
                to_json(self.value(inputs, "data")),
                indent=config.indent,
                sort_keys=config.sort_keys,
                ensure_ascii=config.ascii_only,
                allow_nan=False,
            )
        except ValueError as exc:
            raise self.invalid(f"the input 'data' cannot be written as JSON: {exc}") from None
        return {"text": text}
