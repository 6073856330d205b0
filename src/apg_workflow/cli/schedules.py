"""``schedules create|list|show|preview|pause|resume|delete``: cron, interval and one-off starts of a
workflow, fired by ``apg-workflow scheduler`` (or ``server``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from apg_workflow.cli.database import EXIT_USAGE, fail, run_with_runtime
from apg_workflow.cli.output import console, print_json
from apg_workflow.cli.run import json_object

if TYPE_CHECKING:
    from apg_workflow.runtime.context import Runtime
    from apg_workflow.runtime.scheduling import ScheduleSpec
    from apg_workflow.store import ScheduleRecord

app = typer.Typer(help="Schedules that start workflows (cron, interval, one-off).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
IdArg = Annotated[int, typer.Argument(help="The schedule id.", show_default=False)]
CronOpt = Annotated[
    str | None, typer.Option("--cron", help="A cron expression: '0 9 * * MON-FRI', six fields with seconds.")
]
IntervalOpt = Annotated[str | None, typer.Option("--interval", help="A fixed interval: 'PT15M', '90s'.")]
AtOpt = Annotated[str | None, typer.Option("--at", help="Once, at this ISO 8601 date-time.")]
ZoneOpt = Annotated[str, typer.Option("--timezone", "-z", help="IANA time zone of the times.")]
StartOpt = Annotated[str | None, typer.Option("--start-at", help="No fire before this date-time.")]
EndOpt = Annotated[str | None, typer.Option("--end-at", help="No fire after this date-time.")]


def _spec(
    cron: str | None,
    interval: str | None,
    at: str | None,
    timezone: str,
    start_at: str | None,
    end_at: str | None,
    **options: Any,
) -> ScheduleSpec:
    """The spec the options describe; bad options end the command (exit 2)."""
    from apg_workflow import services

    given = [(kind, text) for kind, text in (("cron", cron), ("interval", interval), ("once", at)) if text]
    if len(given) != 1:
        fail("give exactly one of --cron, --interval or --at", EXIT_USAGE)
    kind, expression = given[0]
    data = {"kind": kind, "expression": expression, "timezone": timezone}
    data |= {"start_at": start_at, "end_at": end_at, **options}
    try:
        return services.schedule_spec({k: v for k, v in data.items() if v is not None})
    except services.InvalidSchedule as exc:
        return fail(exc.message, EXIT_USAGE)


def schedule_json(s: ScheduleRecord) -> dict[str, Any]:
    return {
        "id": s.id,
        "workflow": s.workflow_key,
        "name": s.name,
        "status": s.status,
        "spec": s.spec,
        "input": s.variables,
        "next_fire_at": _iso(s.next_fire_at),
        "last_fire_at": _iso(s.last_fire_at),
        "last_execution_id": s.last_execution_id,
        "last_error": s.last_error,
        "created_at": s.created_at.isoformat(),
        "updated_at": s.updated_at.isoformat(),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _when(s: ScheduleRecord) -> str:
    kind = {"cron": "cron", "interval": "every", "once": "at"}[s.spec["kind"]]
    return f"{kind} {s.spec['expression']} ({s.spec['timezone']})"


def _local(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def _report(s: ScheduleRecord, json_output: bool) -> None:
    if json_output:
        print_json(schedule_json(s))
        return
    console.print(f"schedule {s.id}: {s.workflow_key} {_when(s)}, {s.status}")
    console.print(f"  next fire: {_local(s.next_fire_at, s.spec['timezone'])}")


@app.command("create")
def create_command(
    key: Annotated[str, typer.Argument(help="The workflow key to start.", show_default=False)],
    cron: CronOpt = None,
    interval: IntervalOpt = None,
    at: AtOpt = None,
    timezone: ZoneOpt = "UTC",
    input_json: Annotated[
        str | None, typer.Option("--input", "-i", help="Start variables as a JSON object.")
    ] = None,
    start_at: StartOpt = None,
    end_at: EndOpt = None,
    misfire: Annotated[
        str | None,
        typer.Option("--misfire", help="Missed fires: skip, fire_once (the default) or catch_up."),
    ] = None,
    max_catch_up: Annotated[
        int | None, typer.Option("--max-catch-up", help="catch_up: at most this many missed fires.")
    ] = None,
    misfire_grace: Annotated[
        str | None, typer.Option("--misfire-grace", help="How late a fire is still on time (default 1m).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="A name for people.")] = None,
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Schedule starts of a workflow (its latest version at each fire)."""
    from apg_workflow import services

    spec = _spec(
        cron,
        interval,
        at,
        timezone,
        start_at,
        end_at,
        misfire=misfire,
        max_catch_up=max_catch_up,
        misfire_grace=misfire_grace,
        paused=paused,
    )
    variables = json_object(input_json, "--input")
    created = run_with_runtime(
        lambda rt: services.create_schedule(rt, key, spec, variables=variables, name=name)
    )
    _report(created, json_output)


@app.command("list")
def list_command(
    workflow: Annotated[str | None, typer.Option("--workflow", help="Only this workflow's.")] = None,
    json_output: JsonOpt = False,
) -> None:
    """The schedules, oldest first."""
    from apg_workflow import services

    found = run_with_runtime(lambda rt: services.list_schedules(rt, workflow=workflow))
    if json_output:
        print_json({"schedules": [schedule_json(s) for s in found]})
        return
    table = Table(box=None, header_style="bold")
    for column in ("id", "workflow", "name", "when", "status", "next fire", "last fire"):
        table.add_column(column)
    for s in found:
        zone = s.spec["timezone"]
        table.add_row(
            str(s.id),
            s.workflow_key,
            s.name or "",
            _when(s),
            s.status,
            _local(s.next_fire_at, zone),
            _local(s.last_fire_at, zone),
        )
    console.print(table)


@app.command("show")
def show_command(schedule_id: IdArg, json_output: JsonOpt = False) -> None:
    """A schedule: when it fires, its state, the last fire and what it started."""
    from apg_workflow import services

    s = run_with_runtime(lambda rt: services.get_schedule(rt, schedule_id))
    if json_output:
        print_json(schedule_json(s))
        return
    zone = s.spec["timezone"]
    console.print(f"[bold]schedule {s.id}[/]{f' ({s.name})' if s.name else ''}: {s.status}")
    lines = {"workflow": s.workflow_key, "when": _when(s)}
    lines |= {f: s.spec.get(f) for f in ("start_at", "end_at", "misfire", "max_catch_up", "misfire_grace")}
    lines |= {"input": s.variables, "next fire": _local(s.next_fire_at, zone)}
    lines["last fire"] = f"{_local(s.last_fire_at, zone)} {s.last_execution_id or ''}"
    for label, value in lines.items():
        if value is not None:
            console.print(f"  {label + ':':<15}{value}")
    if s.last_error:
        console.print(f"  [red]{'last error:':<15}{s.last_error}[/]")


@app.command("preview")
def preview_command(
    schedule_id: Annotated[
        int | None, typer.Argument(help="A schedule id, or describe one with the options.")
    ] = None,
    cron: CronOpt = None,
    interval: IntervalOpt = None,
    at: AtOpt = None,
    timezone: ZoneOpt = "UTC",
    start_at: StartOpt = None,
    end_at: EndOpt = None,
    count: Annotated[int, typer.Option("-n", "--count", min=0, max=1000, help="How many fire times.")] = 10,
    json_output: JsonOpt = False,
) -> None:
    """The next fire times of a schedule, or of the one the options describe (nothing is stored)."""
    from apg_workflow import services
    from apg_workflow.store import utcnow

    described = any((cron, interval, at))
    if (schedule_id is None) == (not described):
        fail("give a schedule id or one of --cron, --interval, --at (not both)", EXIT_USAGE)
    if schedule_id is None:
        spec = _spec(cron, interval, at, timezone, start_at, end_at)
        times = services.preview_spec(spec, utcnow(), count)
    else:

        async def stored(rt: Runtime) -> tuple[ScheduleSpec, list[datetime]]:
            record = await services.get_schedule(rt, schedule_id)
            spec = services.schedule_spec(record.spec)
            return spec, services.preview_spec(spec, rt.clock(), count)

        spec, times = run_with_runtime(stored)
    if json_output:
        print_json({"timezone": spec.timezone, "fire_times": [t.isoformat() for t in times]})
        return
    for moment in times:
        console.print(f"{moment.isoformat()}  {_local(moment, spec.timezone)}")
    if not times:
        console.print("no fire left")


@app.command("pause")
def pause_command(schedule_id: IdArg, json_output: JsonOpt = False) -> None:
    """Stop firing until resumed."""
    from apg_workflow import services

    _report(run_with_runtime(lambda rt: services.pause_schedule(rt, schedule_id)), json_output)


@app.command("resume")
def resume_command(schedule_id: IdArg, json_output: JsonOpt = False) -> None:
    """Fire again from now on (the fires missed while paused are not made up)."""
    from apg_workflow import services

    _report(run_with_runtime(lambda rt: services.resume_schedule(rt, schedule_id)), json_output)


@app.command("delete")
def delete_command(schedule_id: IdArg) -> None:
    """Delete a schedule (the executions it started stay)."""
    from apg_workflow import services

    run_with_runtime(lambda rt: services.delete_schedule(rt, schedule_id))
    console.print(f"schedule {schedule_id} deleted")


__all__ = ["app", "schedule_json"]
