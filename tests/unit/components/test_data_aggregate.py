"""data.aggregate: groups, metrics, percentiles."""

from __future__ import annotations

import statistics
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.components.test_data_catalogue import fails, run

SALES = [
    {"region": "north", "rep": {"name": "ada"}, "total": 100, "items": 2},
    {"region": "south", "rep": {"name": "bo"}, "total": 40.5, "items": None},
    {"region": "north", "rep": {"name": "cy"}, "total": 300, "items": 1},
    {"region": None, "rep": {"name": "dee"}, "total": 7},
    {"rep": {"name": "eve"}, "total": 3},
    {"region": "north", "rep": {"name": "fay"}, "total": None, "items": 4},
]


def metric(op: str, field: str | None = None, **extra: object) -> dict[str, object]:
    return {"name": op, "op": op, **({"field": field} if field else {}), **extra}


def test_groups_in_order_of_first_appearance_with_nulls_and_missing_keys_together() -> None:
    config = {
        "group_by": ["region"],
        "metrics": [metric("count"), {"name": "n", "op": "count", "field": "total"}],
    }
    result = run("data.aggregate", config, {"items": SALES})
    assert result == {
        "groups": [
            {"region": "north", "count": 3, "n": 2},
            {"region": "south", "count": 1, "n": 1},
            {"region": None, "count": 2, "n": 2},
        ],
        "count": 3,
    }


def test_every_metric_skips_nulls() -> None:
    metrics = [metric("sum", "total"), metric("avg", "total"), metric("min", "total"), metric("max", "total")]
    north = run("data.aggregate", {"group_by": ["region"], "metrics": metrics}, {"items": SALES})["groups"][0]
    assert north == {"region": "north", "sum": 400, "avg": 200.0, "min": 100, "max": 300}


def test_without_group_by_the_whole_list_is_one_group_and_nested_fields_work() -> None:
    config = {"metrics": [metric("min", "rep.name"), metric("max", "rep.name"), metric("sum", "items")]}
    assert run("data.aggregate", config, {"items": SALES})["groups"] == [
        {"min": "ada", "max": "fay", "sum": 7}
    ]


def test_metrics_over_no_values_are_null_but_a_sum_is_zero() -> None:
    metrics = [metric("sum", "x"), metric("avg", "x"), metric("min", "x"), metric("percentile", "x", p=50)]
    assert run("data.aggregate", {"metrics": metrics}, {"items": [{"x": None}]})["groups"] == [
        {"sum": 0, "avg": None, "min": None, "percentile": None}
    ]
    assert run("data.aggregate", {"metrics": metrics}, {"items": []}) == {"groups": [], "count": 0}


def test_decimal_sums_stay_exact_and_mixed_sums_are_accurate() -> None:
    exact = [{"v": Decimal("0.10")}, {"v": Decimal("0.20")}, {"v": 1}]
    assert run("data.aggregate", {"metrics": [metric("sum", "v")]}, {"items": exact})["groups"][0][
        "sum"
    ] == Decimal("1.30")
    floats = [{"v": 0.1}] * 10
    assert (
        run("data.aggregate", {"metrics": [metric("sum", "v")]}, {"items": floats})["groups"][0]["sum"] == 1.0
    )


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0, 1), (25, 2.75), (50, 3.5), (90, 10.9), (100, 20), (37.5, 3.0)],
)
def test_percentiles_interpolate_linearly_like_numpy_and_excel(p: float, expected: float) -> None:
    values = [20, 1, 3, 5, 2, 7, 4, 3]  # sorted: 1 2 3 3 4 5 7 20
    items = [{"v": v} for v in values]
    result = run("data.aggregate", {"metrics": [metric("percentile", "v", p=p)]}, {"items": items})
    assert result["groups"][0]["percentile"] == pytest.approx(expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-1000, 1000) | st.floats(-1e6, 1e6), min_size=2, max_size=40))
def test_quartiles_agree_with_the_standard_library(values: list[float]) -> None:
    metrics = [metric("percentile", "v", p=p) | {"name": f"p{p}"} for p in (25, 50, 75)]
    group = run("data.aggregate", {"metrics": metrics}, {"items": [{"v": v} for v in values]})["groups"][0]
    expected = statistics.quantiles(values, n=4, method="inclusive")
    assert [group["p25"], group["p50"], group["p75"]] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_a_value_that_is_not_a_number_is_named() -> None:
    items = [{"v": 1}, {"v": "2"}]
    message = fails("data.aggregate", {"metrics": [metric("sum", "v")]}, {"items": items}, "invalid-input")
    assert message == "data.aggregate: items[1].v is a string; the 'sum' metric 'sum' needs numbers"
    assert "all of one kind" in fails(
        "data.aggregate", {"metrics": [metric("max", "v")]}, {"items": items}, "invalid-input"
    )


def test_output_names_must_not_clash() -> None:
    from tests.unit.components.test_data_catalogue import refused

    assert "output fields named twice: region" in refused(
        "data.aggregate", {"group_by": ["region"], "metrics": [{"name": "region", "op": "count"}]}
    )
