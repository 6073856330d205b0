"""The flow helpers: set variables, raise and assert BPMN errors, ids, the clock, random choices and
notifications, run through the installed registry as a worker runs them."""

from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import UTC, datetime

import pytest

from apg_workflow.components import BpmnError, ConfigurationError, default_registry
from tests.integration.components.support import LOGGER, NOW, run

pytestmark = pytest.mark.asyncio

DETERMINISTIC_EXAMPLES = ["flow.set", "flow.raise_error", "flow.assert", "flow.now", "flow.notify"]


@pytest.mark.parametrize("type_name", DETERMINISTIC_EXAMPLES)
async def test_the_documented_examples_give_what_they_say(type_name: str) -> None:
    for example in default_registry().get(type_name).examples:
        if "error" in example:
            with pytest.raises(BpmnError) as raised:
                await run(type_name, example["config"], example["inputs"])
            assert (raised.value.code, raised.value.message) == (
                example["error"]["code"],
                example["error"]["message"],
            )
        else:
            assert await run(type_name, example["config"], example["inputs"]) == example["outputs"]


# flow.set ---------------------------------------------------------------------------------------


async def test_set_combines_values_placeholders_and_expressions() -> None:
    outputs = await run(
        "flow.set",
        {
            "values": {"status": "new", "customer": "${order.customer}", "note": "order ${order.id}"},
            "expressions": {"total": "sum(i['price'] for i in order['items'])", "big": "=order.id > 5"},
        },
        {"order": {"id": 7, "customer": {"name": "Ada"}, "items": [{"price": 2}, {"price": 3}]}},
    )
    assert outputs == {
        "status": "new",
        "customer": {"name": "Ada"},
        "note": "order 7",
        "total": 5,
        "big": True,
    }


async def test_set_expression_failing_on_the_data_is_a_bpmn_error() -> None:
    with pytest.raises(BpmnError) as raised:
        await run("flow.set", {"expressions": {"ratio": "a / b"}}, {"a": 1, "b": 0})
    assert raised.value.code == "expression-failed"
    assert "ZeroDivisionError" in raised.value.message


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "at least one variable"),
        ({"values": {"not a name": 1}}, "values.not a name.[key]: String should match pattern"),
        ({"expressions": {"x": "1 +"}}, "expressions.x"),
        ({"values": {"x": 1}, "unknown": True}, "unknown"),
    ],
)
async def test_set_refuses_bad_configuration(config: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(problem)):
        await run("flow.set", config)


# flow.raise_error and flow.assert ---------------------------------------------------------------


async def test_raise_error_raises_the_code_with_its_message_filled_in() -> None:
    with pytest.raises(BpmnError) as raised:
        await run("flow.raise_error", {"code": "rejected", "message": "${who} said no"}, {"who": "Bob"})
    assert (raised.value.code, raised.value.message) == ("rejected", "Bob said no")


async def test_raise_error_with_a_placeholder_the_inputs_lack_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"\$\{who\}"):
        await run("flow.raise_error", {"code": "rejected", "message": "${who} said no"}, {})


async def test_assert_passes_silently_and_fails_with_the_condition_by_default() -> None:
    assert await run("flow.assert", {"condition": "len(items) > 0"}, {"items": [1]}) == {}
    with pytest.raises(BpmnError) as raised:
        await run("flow.assert", {"condition": "len(items) > 0"}, {"items": []})
    assert raised.value.code == "assertion-failed"
    assert raised.value.message == "the condition failed: len(items) > 0"


async def test_assert_condition_in_feel() -> None:
    assert await run("flow.assert", {"condition": "=amount < 10"}, {"amount": 3}) == {}


async def test_assert_on_a_missing_variable_says_which() -> None:
    with pytest.raises(BpmnError, match="unknown variable 'amount'") as raised:
        await run("flow.assert", {"condition": "amount > 0"}, {})
    assert raised.value.code == "expression-failed"


async def test_assert_refuses_a_condition_that_does_not_parse_or_is_unsafe() -> None:
    with pytest.raises(ConfigurationError, match="condition"):
        await run("flow.assert", {"condition": "amount >"})
    with pytest.raises(ConfigurationError, match="condition"):
        await run("flow.assert", {"condition": "__import__('os').system('true')"})


# flow.id ----------------------------------------------------------------------------------------


async def test_ids_of_each_kind() -> None:
    first = (await run("flow.id", {}))["id"]
    assert uuid.UUID(first).version == 4
    assert (await run("flow.id", {}))["id"] != first

    short = (await run("flow.id", {"kind": "short", "length": 10, "prefix": "ord_", "output_variable": "o"}))[
        "o"
    ]
    assert re.fullmatch(r"ord_[0-9A-Za-z]{10}", short)


async def test_ulids_encode_the_execution_clock_and_sort_by_time() -> None:
    earlier = (await run("flow.id", {"kind": "ulid"}, now=datetime(2025, 1, 1, tzinfo=UTC)))["id"]
    later = (await run("flow.id", {"kind": "ulid"}, now=datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC)))["id"]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", earlier)
    assert earlier < later
    milliseconds = int("".join(f"{'0123456789ABCDEFGHJKMNPQRSTVWXYZ'.index(c):05b}" for c in earlier[:10]), 2)
    assert milliseconds == int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)


async def test_short_ids_have_bounded_length() -> None:
    with pytest.raises(ConfigurationError, match="length"):
        await run("flow.id", {"kind": "short", "length": 3})


# flow.now ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, "2025-03-01T09:30:00+00:00"),
        ({"timezone": "America/New_York"}, "2025-03-01T04:30:00-05:00"),
        ({"format": "date", "offset": "-P1D"}, "2025-02-28"),
        ({"format": "time", "timezone": "Asia/Kolkata"}, "15:00:00"),
        ({"format": "unix"}, int(NOW.timestamp())),
        ({"format": "unix_ms", "offset": "2h"}, int(NOW.timestamp() * 1000) + 7_200_000),
        ({"format": "custom", "pattern": "%d/%m/%Y %H:%M", "timezone": "Europe/Paris"}, "01/03/2025 10:30"),
    ],
)
async def test_now_in_zones_formats_and_offsets(config: dict[str, object], expected: object) -> None:
    assert await run("flow.now", config) == {"now": expected}


async def test_now_across_a_daylight_saving_change_keeps_the_zone_rules() -> None:
    outputs = await run("flow.now", {"timezone": "Europe/Paris", "offset": "P30D"})
    assert outputs["now"] == "2025-03-31T11:30:00+02:00"


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"format": "custom"}, "pattern"),
        ({"pattern": "%Y"}, "pattern"),
        ({"offset": "soon"}, "'soon' is not a duration"),
    ],
)
async def test_now_refuses_bad_configuration(config: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(problem)):
        await run("flow.now", config)


# flow.random_choice -----------------------------------------------------------------------------


async def test_random_choice_repeats_on_retry_and_varies_between_jobs() -> None:
    config = {"choices": list(range(1000))}
    first = await run("flow.random_choice", config, job_id="job-a")
    assert await run("flow.random_choice", config, job_id="job-a") == first
    others = {(await run("flow.random_choice", config, job_id=f"job-{i}"))["choice"] for i in range(10)}
    assert len(others) > 1


async def test_random_choice_with_a_seed_is_the_same_for_every_job() -> None:
    config = {"choices_input": "people", "seed": 7, "count": 3, "output_variable": "picked"}
    inputs = {"people": ["a", "b", "c", "d", "e"]}
    first = await run("flow.random_choice", config, inputs, job_id="job-a")
    assert await run("flow.random_choice", config, inputs, job_id="job-b") == first
    assert len(first["picked"]) == 3


async def test_random_choice_weights_and_unique_picks() -> None:
    never = await run("flow.random_choice", {"choices": ["x", "y", "z"], "weights": [0, 1, 0], "count": 20})
    assert never["choice"] == ["y"] * 20
    unique = await run(
        "flow.random_choice", {"choices": ["x", "y", "z"], "weights": [5, 1, 0], "count": 3, "unique": True}
    )
    assert sorted(unique["choice"]) == ["x", "y", "z"]


@pytest.mark.parametrize(
    ("config", "inputs", "problem"),
    [
        ({"choices_input": "people"}, {}, "non-empty list"),
        ({"choices_input": "people"}, {"people": []}, "non-empty list"),
        ({"choices_input": "people", "weights": [1]}, {"people": [1, 2]}, "1 weights are given for 2"),
        ({"choices": [1, 2], "count": 3, "unique": True}, {}, "cannot pick 3 different values out of 2"),
    ],
)
async def test_random_choice_on_unusable_inputs_is_a_bpmn_error(
    config: dict[str, object], inputs: dict[str, object], problem: str
) -> None:
    with pytest.raises(BpmnError, match=re.escape(problem)) as raised:
        await run("flow.random_choice", config, inputs)
    assert raised.value.code == "invalid-input"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"choices": [1], "choices_input": "x"},
        {"choices": [1, 2], "weights": [1]},
        {"choices": [1], "weights": [0]},
    ],
)
async def test_random_choice_refuses_bad_configuration(config: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        await run("flow.random_choice", config)


# flow.notify ------------------------------------------------------------------------------------


async def test_notify_writes_the_log_and_returns_the_notification(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        outputs = await run(
            "flow.notify",
            {"title": "Stock low", "message": "${item} has ${left} left", "level": "warning"},
            {"item": "Widget", "left": 3},
        )
    assert outputs == {
        "notification": {
            "title": "Stock low",
            "message": "Widget has 3 left",
            "level": "warning",
            "at": NOW.isoformat(),
        }
    }
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "Stock low: Widget has 3 left")
    ]


async def test_notify_renders_objects_as_json(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        outputs = await run(
            "flow.notify", {"message": "got ${order}", "output_variable": "note"}, {"order": {"id": 1}}
        )
    assert outputs["note"]["message"] == 'got {"id": 1}'
    assert caplog.records[-1].getMessage() == 'got {"id": 1}'


# noop, log, delay -------------------------------------------------------------------------------


async def test_noop_returns_its_inputs() -> None:
    assert await run("noop", {}, {"x": 1, "y": [2]}) == {"x": 1, "y": [2]}


async def test_log_substitutes_inputs_at_its_level(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        outputs = await run(
            "log", {"message": "Order $order_id for ${who}", "level": "error"}, {"order_id": 7}
        )
    assert outputs == {"logged": "Order 7 for ${who}"}
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("ERROR", "Order 7 for ${who}")]


async def test_delay_waits_and_is_bounded() -> None:
    started = time.monotonic()
    assert await run("delay", {"seconds": 0.05}) == {"waited_seconds": 0.05}
    assert time.monotonic() - started >= 0.05
    with pytest.raises(ConfigurationError, match="seconds"):
        await run("delay", {"seconds": 7200})
