"""data.csv_parse, data.csv_format, data.json_parse, data.json_format."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.unit.components.test_data_catalogue import fails, run


@pytest.mark.parametrize(
    ("text", "config"),
    [
        ("sku,qty\r\nA-1,2\r\nB-7,1\r\n", {}),
        ("sku;qty\nA-1;2\nB-7;1", {"delimiter": ";"}),
        ("sku\tqty\nA-1\t2\n\nB-7\t1\n", {"delimiter": "\t"}),
        ("sku|qty\nA-1|2\nB-7|1\n", {"delimiter": "auto"}),
        ("\ufeffsku;qty\nA-1;2\nB-7;1\n", {"delimiter": "auto"}),
        ("'sku','qty'\n'A-1',2\n'B-7',1\n", {"quotechar": "'"}),
    ],
    ids=["crlf", "semicolon", "tab-blank-line", "sniffed-pipe", "bom-sniffed-semicolon", "single-quotes"],
)
def test_csv_dialects(text: str, config: dict[str, str]) -> None:
    assert run("data.csv_parse", config, {"text": text}) == {
        "items": [{"sku": "A-1", "qty": "2"}, {"sku": "B-7", "qty": "1"}],
        "columns": ["sku", "qty"],
        "count": 2,
    }


def test_quoted_values_hold_delimiters_quotes_and_line_breaks() -> None:
    text = 'id,note\n1,"says ""hi"", twice"\n2,"line one\nline two"\n'
    assert run("data.csv_parse", {}, {"text": text})["items"] == [
        {"id": "1", "note": 'says "hi", twice'},
        {"id": "2", "note": "line one\nline two"},
    ]


def test_types_are_inferred_without_losing_leading_zeros() -> None:
    text = "zip,n,x,flag,empty,word,big\n0150,-12,3.5e2,TRUE,,nan,1_000\n"
    row = run("data.csv_parse", {"types": "infer"}, {"text": text})["items"][0]
    assert row == {
        "zip": "0150",
        "n": -12,
        "x": 350.0,
        "flag": True,
        "empty": None,
        "word": "nan",
        "big": "1_000",
    }


def test_without_header_rows_are_lists_or_named_by_columns() -> None:
    text = " a , b \nc,d\n"
    assert run("data.csv_parse", {"header": False, "strip": True}, {"text": text})["items"] == [
        ["a", "b"],
        ["c", "d"],
    ]
    named = run("data.csv_parse", {"header": False, "columns": ["x", "y"]}, {"text": text})
    assert named["items"][1] == {"x": "c", "y": "d"} and named["columns"] == ["x", "y"]
    renamed = run("data.csv_parse", {"columns": ["x", "y"]}, {"text": text})
    assert renamed["items"] == [{"x": "c", "y": "d"}]


def test_bad_rows_are_errors_with_their_line_or_skipped() -> None:
    text = "a,b\n1,2\n3\n4,5,6\n7,8\n"
    assert fails("data.csv_parse", {}, {"text": text}, "invalid-input") == (
        "data.csv_parse: line 3 has 1 values but there are 2 columns"
    )
    assert run("data.csv_parse", {"on_bad_row": "skip"}, {"text": text})["items"] == [
        {"a": "1", "b": "2"},
        {"a": "7", "b": "8"},
    ]


def test_header_problems_are_named() -> None:
    assert "two columns are named 'a'" in fails(
        "data.csv_parse", {}, {"text": "a,b,a\n1,2,3"}, "invalid-input"
    )
    assert run("data.csv_parse", {}, {"text": "a,,c\n1,2,3"})["columns"] == ["a", "column_2", "c"]
    huge = "a\nok\n" + "x" * 200_000 + "\n"
    message = fails("data.csv_parse", {}, {"text": huge}, "invalid-input")
    assert message == "data.csv_parse: line 3: field larger than field limit (131072)"


def test_csv_format_writes_rfc_4180_with_every_field() -> None:
    items = [{"id": 1, "note": 'a "quote", here'}, {"id": 2, "ok": True, "tags": ["x"], "none": None}]
    assert run("data.csv_format", {}, {"items": items}) == {
        "text": 'id,note,ok,tags,none\r\n1,"a ""quote"", here",,,\r\n2,,true,"[""x""]",\r\n',
        "count": 2,
    }


def test_csv_format_options() -> None:
    items = [{"a": "=SUM(A1)", "b": -3}, ["@cmd", "x"]]
    config = {
        "delimiter": ";",
        "quoting": "all",
        "header": False,
        "escape_formulas": True,
        "line_terminator": "\n",
    }
    assert run("data.csv_format", {"columns": ["a", "b"]} | config, {"items": items})["text"] == (
        '"\'=SUM(A1)";"-3"\n"\'@cmd";"x"\n'
    )
    assert "items[0] must be an object or a list" in fails(
        "data.csv_format", {}, {"items": [3]}, "invalid-input"
    )


def test_csv_round_trip() -> None:
    items = [
        {"name": "Ada, Countess", "note": "multi\nline", "q": '"'},
        {"name": "", "note": " x ", "q": ";"},
    ]
    text = run("data.csv_format", {}, {"items": items})["text"]
    assert run("data.csv_parse", {}, {"text": text})["items"] == items


def test_json_parse_reports_where_the_text_is_wrong() -> None:
    assert run("data.json_parse", {}, {"text": ' [1, {"a": null}] '}) == {"result": [1, {"a": None}]}
    message = fails("data.json_parse", {}, {"text": '{\n  "a": 1,\n  "b" 2\n}'}, "invalid-input")
    assert message == "data.json_parse: not valid JSON at line 3, column 7: Expecting ':' delimiter"
    assert "NaN is not a JSON value" in fails("data.json_parse", {}, {"text": "[NaN]"}, "invalid-input")
    assert "not valid JSON" in fails("data.json_parse", {}, {"text": "9" * 5000}, "invalid-input")


def test_json_format_writes_what_variables_hold() -> None:
    data = {"price": Decimal("19.90"), "n": Decimal("3"), "at": dt.date(2024, 5, 3), "t": ("a",), "s": "ø"}
    assert run("data.json_format", {}, {"data": data}) == {
        "text": '{"price": 19.9, "n": 3, "at": "2024-05-03", "t": ["a"], "s": "ø"}'
    }
    assert run(
        "data.json_format", {"indent": 2, "sort_keys": True, "ascii_only": True}, {"data": {"b": 1, "a": "ø"}}
    ) == {"text": '{\n  "a": "\\u00f8",\n  "b": 1\n}'}
    assert "cannot be written as JSON" in fails(
        "data.json_format", {}, {"data": [float("nan")]}, "invalid-input"
    )
    assert "has no JSON form" in fails("data.json_format", {}, {"data": {"x": object()}}, "invalid-input")
