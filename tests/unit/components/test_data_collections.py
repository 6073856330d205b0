"""data.filter, data.map, data.reduce, data.sort, data.deduplicate, data.chunk."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from apg_workflow.components import ComponentContext
from tests.unit.components.test_data_catalogue import REGISTRY, fails, run

ORDERS = [
    {"id": 1, "total": 250, "status": "open", "customer": {"name": "Ada"}},
    {"id": 2, "total": 0, "status": "closed", "customer": {"name": "bob"}},
    {"id": 3, "total": 90, "status": "open", "customer": {"name": "Cy"}},
]


def test_filter_sees_the_item_its_index_and_the_other_inputs() -> None:
    result = run(
        "data.filter",
        {"expression": "item['total'] >= minimum or index == 1"},
        {"items": ORDERS, "minimum": 100},
    )
    assert [order["id"] for order in result["items"]] == [1, 2]
    assert result["count"] == 2


def test_filter_with_jmespath_follows_jmespath_truth_where_zero_is_true() -> None:
    assert run("data.filter", {"jmespath": "total"}, {"items": ORDERS})["count"] == 3
    assert [
        o["id"] for o in run("data.filter", {"jmespath": "status == 'open'"}, {"items": ORDERS})["items"]
    ] == [1, 3]
    assert run("data.filter", {"jmespath": "missing"}, {"items": ORDERS})["items"] == []


def test_an_expression_failing_on_an_item_names_the_item() -> None:
    message = fails("data.filter", {"expression": "item['nope'] > 1"}, {"items": ORDERS}, "expression-failed")
    assert "data.filter: the expression failed on items[0]" in message and "nope" in message


def test_map_computes_each_item_and_can_use_feel() -> None:
    doubled = run(
        "data.map", {"expression": "{'id': item['id'], 'gross': item['total'] * 1.2}"}, {"items": ORDERS[:1]}
    )
    assert doubled == {"items": [{"id": 1, "gross": 300.0}], "count": 1}
    assert run("data.map", {"expression": "= item.total + 1"}, {"items": ORDERS})["items"] == [251, 1, 91]
    assert run("data.map", {"jmespath": "customer.name"}, {"items": ORDERS})["items"] == ["Ada", "bob", "Cy"]


def test_map_does_not_change_the_input() -> None:
    items = [{"tags": ["a"]}]
    run("data.map", {"expression": "item['tags'].append('b') or item"}, {"items": items})
    assert items == [{"tags": ["a"]}]


def test_reduce_folds_in_order_and_starts_from_initial() -> None:
    config = {
        "expression": "accumulator + [item['id']] if item['status'] == 'open' else accumulator",
        "initial": [],
    }
    assert run("data.reduce", config, {"items": ORDERS}) == {"result": [1, 3]}
    assert run("data.reduce", {"expression": "accumulator + item", "initial": 10}, {"items": []}) == {
        "result": 10
    }


def test_a_long_list_is_processed_with_the_event_loop_breathing() -> None:
    result = run("data.filter", {"expression": "item % 7 == 0"}, {"items": list(range(5000))})
    assert result["count"] == 715


def test_sort_by_several_keys_is_stable() -> None:
    items = [
        {"n": "a", "group": 2, "score": 1.5},
        {"n": "b", "group": 1, "score": 3},
        {"n": "c", "group": 2, "score": 1.5},
        {"n": "d", "group": 1, "score": 7},
    ]
    config = {"keys": [{"field": "group"}, {"field": "score", "direction": "desc"}]}
    assert [i["n"] for i in run("data.sort", config, {"items": items})["items"]] == ["d", "b", "a", "c"]


@pytest.mark.parametrize(
    ("direction", "nulls", "expected"),
    [
        ("asc", "last", ["x1", "x2", "null", "missing"]),
        ("desc", "last", ["x2", "x1", "null", "missing"]),
        ("asc", "first", ["null", "missing", "x1", "x2"]),
        ("desc", "first", ["null", "missing", "x2", "x1"]),
    ],
)
def test_nulls_and_missing_values_go_where_asked_whatever_the_direction(
    direction: str, nulls: str, expected: list[str]
) -> None:
    items = [{"n": "null", "v": None}, {"n": "x2", "v": 2}, {"n": "missing"}, {"n": "x1", "v": 1}]
    config = {"keys": [{"field": "v", "direction": direction, "nulls": nulls}]}
    assert [i["n"] for i in run("data.sort", config, {"items": items})["items"]] == expected


def test_sort_by_a_nested_field_ignoring_case() -> None:
    config = {"keys": [{"field": "customer.name", "case_sensitive": False}]}
    assert [o["id"] for o in run("data.sort", config, {"items": ORDERS})["items"]] == [1, 2, 3]
    strict = {"keys": [{"field": "customer.name"}]}
    assert [o["id"] for o in run("data.sort", strict, {"items": ORDERS})["items"]] == [1, 3, 2]


def test_sorting_values_of_different_kinds_is_refused_with_the_item() -> None:
    items = [{"v": 1}, {"v": 2.5}, {"v": "3"}]
    message = fails("data.sort", {"keys": [{"field": "v"}]}, {"items": items}, "invalid-input")
    assert (
        "cannot sort by 'v': items[2] has a string there, expected numbers like the items before it"
        in message
    )
    assert "a number, string or boolean" in fails(
        "data.sort", {"keys": [{"field": "v"}]}, {"items": [{"v": {"a": 1}}]}, "invalid-input"
    )


def test_deduplicate_by_keys_keeps_the_first_or_the_last_in_original_order() -> None:
    items = [{"e": "a", "n": 1}, {"e": "b", "n": 2}, {"e": "a", "n": 3}, {"e": "c", "n": 4}]
    first = run("data.deduplicate", {"keys": ["e"]}, {"items": items})
    assert [i["n"] for i in first["items"]] == [1, 2, 4] and first["removed"] == 1
    last = run("data.deduplicate", {"keys": ["e"], "keep": "last"}, {"items": items})
    assert [i["n"] for i in last["items"]] == [2, 3, 4]


def test_deduplicating_whole_items_compares_values_not_types_of_numbers() -> None:
    items = [{"a": 1, "b": [1]}, {"b": [1.0], "a": 1}, {"a": True, "b": [1]}, 5, 5.0, "5"]
    result = run("data.deduplicate", {}, {"items": items})
    assert result["items"] == [{"a": 1, "b": [1]}, {"a": True, "b": [1]}, 5, "5"]


def test_chunk_splits_into_batches() -> None:
    assert run("data.chunk", {"size": 3}, {"items": list(range(7))}) == {
        "chunks": [[0, 1, 2], [3, 4, 5], [6]],
        "count": 3,
    }
    assert run("data.chunk", {"size": 3}, {"items": []}) == {"chunks": [], "count": 0}


def test_a_long_evaluation_can_be_cancelled_between_items() -> None:
    component = REGISTRY.create("data.map")
    config = component.parse_config({"expression": "item * 2"})
    context = ComponentContext(
        job_id="job-1", attempt=1, execution_id="e", element_id="t", logger=logging.getLogger("tests.data")
    )

    async def cancel_soon() -> bool:
        task = asyncio.create_task(component.run(context, config, {"items": list(range(200_000))}))
        for _ in range(3):
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    started = time.monotonic()
    assert asyncio.run(cancel_soon())
    assert time.monotonic() - started < 1
