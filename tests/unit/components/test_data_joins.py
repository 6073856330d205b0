"""data.join and data.merge."""

from __future__ import annotations

import pytest

from tests.unit.components.test_data_catalogue import fails, run

ORDERS = [
    {"order": 1, "cid": 7, "note": "first"},
    {"order": 2, "cid": 9},
    {"order": 3, "cid": 7},
    {"order": 4, "cid": None},
]
CUSTOMERS = [{"id": 7, "name": "Ada", "note": "vip"}, {"id": 8, "name": "Bo"}, {"id": None, "name": "Nobody"}]


def join(how: str) -> list[tuple[object, object]]:
    result = run(
        "data.join", {"how": how, "on": ["cid"], "right_on": ["id"]}, {"left": ORDERS, "right": CUSTOMERS}
    )
    assert result["count"] == len(result["items"])
    return [(row.get("order"), row.get("name")) for row in result["items"]]


@pytest.mark.parametrize(
    ("how", "rows"),
    [
        ("inner", [(1, "Ada"), (3, "Ada")]),
        ("left", [(1, "Ada"), (2, None), (3, "Ada"), (4, None)]),
        ("right", [(1, "Ada"), (3, "Ada"), (None, "Bo"), (None, "Nobody")]),
        ("outer", [(1, "Ada"), (2, None), (3, "Ada"), (4, None), (None, "Bo"), (None, "Nobody")]),
    ],
)
def test_join_kinds_keep_what_sql_keeps_and_null_keys_never_match(
    how: str, rows: list[tuple[object, object]]
) -> None:
    assert join(how) == rows


def test_a_clashing_right_field_gets_the_suffix_and_equal_keys_appear_once() -> None:
    left = [{"id": 1, "note": "L", "same": "x"}]
    right = [{"id": 1, "note": "R", "same": "x"}]
    rows = run("data.join", {"on": ["id"], "right_suffix": "_customer"}, {"left": left, "right": right})[
        "items"
    ]
    assert rows == [{"id": 1, "note": "L", "same": "x", "note_customer": "R"}]


def test_many_to_many_keys_give_every_pair_and_are_bounded() -> None:
    left = [{"k": "a", "l": i} for i in range(3)]
    right = [{"k": "a", "r": i} for i in range(4)]
    result = run("data.join", {"on": ["k"]}, {"left": left, "right": right})
    assert result["count"] == 12 and result["items"][:2] == [
        {"k": "a", "l": 0, "r": 0},
        {"k": "a", "l": 0, "r": 1},
    ]
    message = fails(
        "data.join", {"on": ["k"], "max_rows": 10}, {"left": left, "right": right}, "invalid-input"
    )
    assert "more than 10 rows" in message


def test_join_on_composite_and_nested_keys_matches_equal_numbers() -> None:
    left = [{"c": {"country": "NO", "no": 1}, "v": "l"}]
    right = [{"country": "NO", "no": 1.0, "w": "r"}, {"country": "SE", "no": 1, "w": "x"}]
    config = {"on": ["c.country", "c.no"], "right_on": ["country", "no"]}
    assert run("data.join", config, {"left": left, "right": right})["items"] == [
        {"c": {"country": "NO", "no": 1}, "v": "l", "country": "NO", "no": 1.0, "w": "r"}
    ]


def test_merge_is_deep_and_later_objects_win_without_touching_the_inputs() -> None:
    defaults = {"http": {"timeout": 10, "retry": {"max": 3}}, "tags": ["a"], "name": "x"}
    override = {"http": {"retry": {"max": 5}}, "tags": ["b"], "name": None}
    result = run("data.merge", {}, {"objects": [defaults, override]})["result"]
    assert result == {"http": {"timeout": 10, "retry": {"max": 5}}, "tags": ["b"], "name": None}
    assert defaults["http"] == {"timeout": 10, "retry": {"max": 3}}


@pytest.mark.parametrize(
    ("config", "tags", "name"),
    [
        ({"lists": "concat"}, ["a", "b", "a", "a"], None),
        ({"lists": "union", "nulls": "ignore"}, ["a", "b"], "x"),
    ],
)
def test_merge_lists_and_nulls_as_configured(config: dict[str, str], tags: list[str], name: object) -> None:
    objects = [{"tags": ["a", "b"], "name": "x"}, {"tags": ["a", "a"], "name": None}]
    assert run("data.merge", config, {"objects": objects})["result"] == {"tags": tags, "name": name}
