"""data.diff."""

from __future__ import annotations

from tests.unit.components.test_data_catalogue import run

BEFORE = {
    "id": 7,
    "status": "open",
    "lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}],
    "flag": 1,
    "n": 1,
}
AFTER = {"id": 7, "status": "paid", "lines": [{"sku": "A", "qty": 3}], "flag": True, "n": 1.0, "new": None}


def test_changes_name_their_path_in_document_order() -> None:
    result = run("data.diff", {}, {"before": BEFORE, "after": AFTER})
    assert result == {
        "equal": False,
        "changes": [
            {"op": "changed", "path": "status", "before": "open", "after": "paid"},
            {"op": "changed", "path": "lines.0.qty", "before": 1, "after": 3},
            {"op": "removed", "path": "lines.1", "before": {"sku": "B", "qty": 2}},
            {"op": "changed", "path": "flag", "before": 1, "after": True},
            {"op": "added", "path": "new", "after": None},
        ],
        "count": 5,
    }


def test_lists_can_compare_whole_and_paths_can_be_ignored_with_wildcards() -> None:
    config = {"lists": "whole", "ignore": ["status", "flag", "new"]}
    assert run("data.diff", config, {"before": BEFORE, "after": AFTER})["changes"] == [
        {"op": "changed", "path": "lines", "before": BEFORE["lines"], "after": AFTER["lines"]}
    ]
    config = {"ignore": ["lines.*.qty", "lines.1", "status", "flag", "new"]}
    assert run("data.diff", config, {"before": BEFORE, "after": AFTER}) == {
        "equal": True,
        "changes": [],
        "count": 0,
    }


def test_values_of_different_kinds_and_the_change_limit() -> None:
    assert run("data.diff", {}, {"before": [1, 2], "after": {"0": 1}})["changes"] == [
        {"op": "changed", "path": "", "before": [1, 2], "after": {"0": 1}}
    ]
    many = run("data.diff", {"max_changes": 2}, {"before": list(range(10)), "after": []})
    assert many["count"] == 10 and len(many["changes"]) == 2 and not many["equal"]
