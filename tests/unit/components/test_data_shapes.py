"""data.flatten, data.unflatten, data.pick, data.omit, data.rename."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.components.test_data_catalogue import fails, run

RECORD = {
    "id": 7,
    "customer": {"name": "Ada", "address": {"city": "Oslo"}},
    "tags": ["a", "b"],
    "meta": {},
    "x": [],
}


def test_flatten_joins_nested_keys_and_indexes_lists() -> None:
    assert run("data.flatten", {}, {"data": RECORD})["result"] == {
        "id": 7,
        "customer.name": "Ada",
        "customer.address.city": "Oslo",
        "tags.0": "a",
        "tags.1": "b",
        "meta": {},
        "x": [],
    }


def test_flatten_options_separator_lists_and_depth() -> None:
    config = {"separator": "_", "lists": "keep", "max_depth": 1}
    assert run("data.flatten", config, {"data": RECORD})["result"] == {
        "id": 7,
        "customer_name": "Ada",
        "customer_address": {"city": "Oslo"},
        "tags": ["a", "b"],
        "meta": {},
        "x": [],
    }


def test_flatten_and_unflatten_work_on_each_object_of_a_list() -> None:
    rows = run("data.flatten", {}, {"data": [RECORD, {"a": {"b": 1}}]})["result"]
    assert rows[1] == {"a.b": 1}
    assert run("data.unflatten", {}, {"data": rows})["result"] == [RECORD, {"a": {"b": 1}}]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text("abc", min_size=1, max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text("xyz", min_size=1, max_size=3), json_values, max_size=4))
def test_unflatten_reverses_flatten(record: dict[str, object]) -> None:
    flat = run("data.flatten", {}, {"data": record})["result"]
    assert run("data.unflatten", {}, {"data": flat})["result"] == record


def test_unflatten_refuses_a_key_that_is_both_a_value_and_a_parent() -> None:
    for data in ({"a": 1, "a.b": 2}, {"a.b": 2, "a": 1}):
        message = fails("data.unflatten", {}, {"data": data}, "invalid-input")
        assert "data.unflatten: in 'data':" in message and "'a" in message


def test_unflatten_keeps_numbered_objects_when_lists_are_off() -> None:
    assert run("data.unflatten", {"lists": False}, {"data": {"t.0": "a", "t.1": "b"}})["result"] == {
        "t": {"0": "a", "1": "b"}
    }
    assert run("data.unflatten", {}, {"data": {"t.0": "a", "t.2": "b"}})["result"] == {
        "t": {"0": "a", "2": "b"}
    }


def test_pick_keeps_nesting_and_skips_absent_fields() -> None:
    picked = run("data.pick", {"fields": ["id", "customer.address.city", "nope.deeper"]}, {"data": RECORD})
    assert picked["result"] == {"id": 7, "customer": {"address": {"city": "Oslo"}}}


def test_omit_and_rename_leave_the_input_unchanged() -> None:
    original = copy.deepcopy(RECORD)
    omitted = run("data.omit", {"fields": ["customer.address", "tags", "absent"]}, {"data": RECORD})["result"]
    assert omitted == {"id": 7, "customer": {"name": "Ada"}, "meta": {}, "x": []}
    renamed = run("data.rename", {"fields": {"customer.name": "name", "id": "meta.id"}}, {"data": RECORD})[
        "result"
    ]
    assert renamed["name"] == "Ada" and renamed["meta"] == {"id": 7} and "id" not in renamed
    assert renamed["customer"] == {"address": {"city": "Oslo"}}
    assert original == RECORD


def test_rename_into_a_value_is_an_error_naming_the_record() -> None:
    message = fails(
        "data.rename", {"fields": {"id": "tags.first"}}, {"data": [{"tags": 1}, RECORD]}, "invalid-input"
    )
    assert message == "data.rename: in data[1]: 'tags' holds a list, not an object"
    message = fails(
        "data.rename", {"fields": {"id": "customer.name.first"}}, {"data": [RECORD]}, "invalid-input"
    )
    assert message == "data.rename: in data[0]: 'customer.name' holds a string, not an object"
