"""The schedule poller against both dialects, with a clock the tests move: each due fire starts one
execution keyed by its time, pausing and resuming never owes the fires in between, missed fires
follow the misfire policy, an end date ends a schedule, and several pollers fire each time once.
Plus the ``schedules`` commands as scripts use them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from apg_workflow import services
from apg_workflow.runtime.context import Runtime, open_runtime
from apg_workflow.runtime.schedules import RETRY_AFTER_FAILURE, SchedulePoller, fire_key
from apg_workflow.store import ScheduleRecord
from apg_workflow.store.tables import schedules
from tests.integration.runtime.test_cli import Cli, cli  # noqa: F401  (the fixture)
from tests.integration.store.databases import Clock, deploy_text, settings_for
from tests.integration.store.workflows import bpmn

TICK = bpmn("""
<process id="tick" isExecutable="true">
  <startEvent id="start"/><endEvent id="end"/>
  <sequenceFlow id="f" sourceRef="start" targetRef="end"/>
</process>""")
T0 = datetime(2025, 1, 15, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def _setup(clock_runtime: tuple[Runtime, Clock]) -> tuple[Runtime, Clock, SchedulePoller]:
    rt, clock = clock_runtime
    clock.now = T0 - timedelta(minutes=30)
    await deploy_text(rt, TICK)
    return rt, clock, SchedulePoller(rt)


async def _create(rt: Runtime, **spec: Any) -> ScheduleRecord:
    return await services.create_schedule(
        rt, "tick", services.schedule_spec(spec), variables={"source": "schedule"}
    )


async def _fired(rt: Runtime, schedule: ScheduleRecord) -> list[datetime]:
    """The fire times of the executions the schedule started, oldest first."""
    page = await services.list_executions(rt, limit=500)
    prefix = f"schedule-{schedule.id}@"
    keys = [x.business_key for x in page.items if x.business_key and x.business_key.startswith(prefix)]
    return sorted(datetime.fromisoformat(key.removeprefix(prefix)) for key in keys)


async def _at(clock: Clock, poller: SchedulePoller, moment: datetime) -> None:
    clock.now = moment
    await poller.tick()


@pytest.mark.asyncio
async def test_each_due_fire_starts_one_execution_with_the_schedule_input(
    clock_runtime: tuple[Runtime, Clock],
) -> None:
    rt, clock, poller = await _setup(clock_runtime)
    schedule = await _create(rt, kind="cron", expression="0 * * * *")
    assert schedule.status == "active" and schedule.next_fire_at == T0
    await _at(clock, poller, T0 - timedelta(seconds=1))
    assert await _fired(rt, schedule) == []
    await _at(clock, poller, T0 + timedelta(seconds=2))
    await poller.tick()  # looking again fires nothing twice
    assert await _fired(rt, schedule) == [T0]
    shown = await services.get_schedule(rt, schedule.id)
    assert shown.next_fire_at == T0 + HOUR and shown.last_fire_at == T0
    started = await services.show(rt, shown.last_execution_id or "")
    assert started["status"] == "completed" and started["variables"] == {"source": "schedule"}
    await _at(clock, poller, T0 + HOUR)
    assert await _fired(rt, schedule) == [T0, T0 + HOUR]


@pytest.mark.asyncio
async def test_pause_and_resume_never_owe_the_fires_in_between(clock_runtime: tuple[Runtime, Clock]) -> None:
    rt, clock, poller = await _setup(clock_runtime)
    schedule = await _create(rt, kind="interval", expression="PT1H", misfire="catch_up", max_catch_up=50)
    await _at(clock, poller, T0)
    paused = await services.pause_schedule(rt, schedule.id)
    assert paused.status == "paused" and paused.next_fire_at is None
    assert await services.preview_schedule(rt, schedule.id, 1) == [T0 + HOUR]  # were it resumed now
    await _at(clock, poller, T0 + 5 * HOUR + timedelta(minutes=30))
    resumed = await services.resume_schedule(rt, schedule.id)
    assert resumed.status == "active" and resumed.next_fire_at == T0 + 6 * HOUR
    await poller.tick()
    await _at(clock, poller, T0 + 6 * HOUR)
    assert await _fired(rt, schedule) == [T0, T0 + 6 * HOUR]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("misfire", "late", "expected"),
    [
        ("skip", timedelta(seconds=30), [5]),  # the latest, on time within the grace
        ("skip", timedelta(minutes=5), []),  # too late: dropped
        ("fire_once", timedelta(minutes=5), [5]),
        ("catch_up", timedelta(minutes=5), [3, 4, 5]),  # the 3 most recent of 5 missed
    ],
)
async def test_missed_fires_after_downtime_follow_the_misfire_policy(
    clock_runtime: tuple[Runtime, Clock], misfire: str, late: timedelta, expected: list[int]
) -> None:
    rt, clock, poller = await _setup(clock_runtime)
    cap = {"max_catch_up": 3} if misfire == "catch_up" else {}
    schedule = await _create(
        rt, kind="interval", expression="1h", start_at=T0.isoformat(), misfire=misfire, **cap
    )
    await _at(clock, poller, T0)
    await _at(clock, poller, T0 + 5 * HOUR + late)  # down from just after T0 until now
    assert await _fired(rt, schedule) == [T0, *(T0 + n * HOUR for n in expected)]
    assert (await services.get_schedule(rt, schedule.id)).next_fire_at == T0 + 6 * HOUR


@pytest.mark.asyncio
async def test_an_end_date_ends_the_schedule(clock_runtime: tuple[Runtime, Clock]) -> None:
    rt, clock, poller = await _setup(clock_runtime)
    end = T0 + 2 * HOUR
    schedule = await _create(
        rt, kind="interval", expression="1h", start_at=T0.isoformat(), end_at=end.isoformat()
    )
    for hours in range(5):
        await _at(clock, poller, T0 + hours * HOUR)
    assert await _fired(rt, schedule) == [T0, T0 + HOUR, end]  # a fire at end_at happens
    ended = await services.get_schedule(rt, schedule.id)
    assert ended.status == "ended" and ended.next_fire_at is None


@pytest.mark.asyncio
async def test_a_one_off_fires_once(clock_runtime: tuple[Runtime, Clock]) -> None:
    rt, clock, poller = await _setup(clock_runtime)
    schedule = await _create(rt, kind="once", expression="2025-01-15T07:00", timezone="Europe/Berlin")
    assert schedule.next_fire_at == T0  # 07:00 in Berlin is 06:00 UTC
    await _at(clock, poller, T0)
    await _at(clock, poller, T0 + HOUR)
    assert await _fired(rt, schedule) == [T0]
    assert (await services.get_schedule(rt, schedule.id)).status == "ended"


@pytest.mark.asyncio
async def test_an_update_applies_from_now_and_a_deleted_schedule_stops(
    clock_runtime: tuple[Runtime, Clock],
) -> None:
    rt, clock, poller = await _setup(clock_runtime)
    schedule = await _create(rt, kind="cron", expression="0 * * * *")
    await _at(clock, poller, T0)
    changed = await services.update_schedule(
        rt, schedule.id, spec=services.schedule_spec({"kind": "cron", "expression": "30 * * * *"})
    )
    assert changed.next_fire_at == T0 + timedelta(minutes=30) and changed.variables == {"source": "schedule"}
    await _at(clock, poller, T0 + timedelta(minutes=30))
    await services.delete_schedule(rt, schedule.id)
    await _at(clock, poller, T0 + 3 * HOUR)
    assert await _fired(rt, schedule) == [T0, T0 + timedelta(minutes=30)]
    assert await services.list_schedules(rt) == []


@pytest.mark.asyncio
async def test_a_schedule_the_poller_cannot_use_is_reported_and_retried_later(
    clock_runtime: tuple[Runtime, Clock],
) -> None:
    rt, clock, poller = await _setup(clock_runtime)
    broken = await _create(rt, kind="cron", expression="0 * * * *")
    healthy = await _create(rt, kind="cron", expression="0 * * * *")
    await rt.db.transaction(
        lambda conn: conn.execute(
            update(schedules).where(schedules.c.id == broken.id).values(timezone="Mars/Base")
        )
    )
    await _at(clock, poller, T0)
    assert await _fired(rt, healthy) == [T0] and await _fired(rt, broken) == []
    reported = await services.get_schedule(rt, broken.id)
    assert "Mars/Base" in (reported.last_error or "")
    assert reported.next_fire_at == T0 + RETRY_AFTER_FAILURE


@pytest.mark.asyncio
async def test_pollers_racing_fire_each_time_once(database_url: str) -> None:
    clock = Clock(T0 - timedelta(minutes=30))
    async with open_runtime(settings_for(database_url), clock=clock) as first:
        await deploy_text(first, TICK)
        created = [
            await _create(first, kind="interval", expression="PT1M", misfire="catch_up", max_catch_up=5)
            for _ in range(8)
        ]
        async with open_runtime(settings_for(database_url), clock=clock) as second:
            pollers = [SchedulePoller(rt) for rt in (first, second, first, second)]
            for minutes in (1, 2, 7):
                clock.now = T0 - timedelta(minutes=30) + timedelta(minutes=minutes)
                await asyncio.gather(*(poller.tick() for poller in pollers))
        for schedule in created:
            fired = await _fired(first, schedule)
            assert len(fired) == len(set(fired)) == 7  # 1, 2, then 3-7 caught up
            assert fire_key(schedule.id, fired[0]).endswith("05:31:00Z")


def test_the_schedules_commands(cli: Cli) -> None:  # noqa: F811
    (cli.cwd / "tick.bpmn").write_text(TICK)
    cli("deploy", "tick.bpmn")
    created = cli.json(
        "schedules", "create", "tick", "--cron", "0 9 * * MON-FRI", "-z", "Europe/Berlin",
        "--input", '{"report": "daily"}', "--misfire", "skip", "--name", "morning",
    )  # fmt: skip
    assert created["status"] == "active" and created["input"] == {"report": "daily"}
    assert created["spec"]["timezone"] == "Europe/Berlin" and created["spec"]["misfire"] == "skip"
    schedule_id = str(created["id"])
    [listed] = cli.json("schedules", "list")["schedules"]
    assert listed["id"] == created["id"] and listed["name"] == "morning"
    times = cli.json("schedules", "preview", schedule_id, "-n", "3")["fire_times"]
    assert len(times) == 3 and all(datetime.fromisoformat(t).hour in (7, 8) for t in times)
    assert cli.json("schedules", "pause", schedule_id)["status"] == "paused"
    assert cli.json("schedules", "show", schedule_id)["next_fire_at"] is None
    assert cli.json("schedules", "resume", schedule_id)["next_fire_at"] is not None
    shown = cli("schedules", "show", schedule_id).stdout
    assert "morning" in shown and "cron 0 9 * * MON-FRI (Europe/Berlin)" in shown
    preview = cli.json(
        "schedules", "preview", "--interval", "PT1H", "--start-at", "2030-01-01T00:00Z", "-n", "2"
    )
    assert preview["fire_times"] == ["2030-01-01T00:00:00+00:00", "2030-01-01T01:00:00+00:00"]
    cli("schedules", "delete", schedule_id)
    assert cli.json("schedules", "list") == {"schedules": []}
    for args, message in [
        (("schedules", "create", "tick"), "exactly one of --cron, --interval or --at"),
        (("schedules", "create", "tick", "--cron", "0 0 31 2 *"), "never matches a date"),
        (("schedules", "create", "tick", "--interval", "1h", "-z", "Mars/Base"), "timezone"),
        (("schedules", "create", "tick", "--at", "2020-01-01T00:00"), "would never fire"),
        (("schedules", "create", "missing", "--interval", "1h"), "no workflow 'missing'"),
        (("schedules", "create", "tick", "--interval", "1h", "--input", "[1]"), "must be a JSON object"),
        (("schedules", "show", schedule_id), f"no schedule '{schedule_id}'"),
        (("schedules", "preview"), "give a schedule id"),
    ]:
        done = cli(*args, ok=False)
        assert done.returncode in (1, 2) and message in done.stderr and "Traceback" not in done.stderr


TWO_MESSAGE_STARTS = bpmn("""
<message id="m1" name="order"/><message id="m2" name="refund"/>
<process id="tick" isExecutable="true">
  <startEvent id="s1"><messageEventDefinition messageRef="m1"/></startEvent>
  <startEvent id="s2"><messageEventDefinition messageRef="m2"/></startEvent>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="s1" targetRef="end"/>
  <sequenceFlow id="f2" sourceRef="s2" targetRef="end"/>
</process>""")


@pytest.mark.asyncio
async def test_a_fire_the_workflow_refuses_is_recorded_and_the_schedule_moves_on(
    clock_runtime: tuple[Runtime, Clock],
) -> None:
    rt, clock, poller = await _setup(clock_runtime)
    schedule = await _create(rt, kind="cron", expression="0 * * * *")
    await deploy_text(rt, TWO_MESSAGE_STARTS)  # version 2 cannot be started plainly
    await _at(clock, poller, T0)
    refused = await services.get_schedule(rt, schedule.id)
    assert await _fired(rt, schedule) == []
    assert "started nothing" in (refused.last_error or "") and refused.next_fire_at == T0 + HOUR
    await deploy_text(rt, TICK)  # version 3 can
    await _at(clock, poller, T0 + HOUR)
    assert await _fired(rt, schedule) == [T0 + HOUR]
    assert (await services.get_schedule(rt, schedule.id)).last_error is None
