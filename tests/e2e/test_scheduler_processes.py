"""The scheduler's acceptance test: two ``apg-workflow scheduler`` processes share one database
(PostgreSQL, and the default SQLite file); a schedule fires every second for ten seconds; exactly
ten executions start, one per fire time, none twice."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta

from tests.e2e.test_durable_cli import Cli, cli  # noqa: F401  (the fixture)
from tests.integration.store.workflows import bpmn

TICK = bpmn("""
<process id="tick" isExecutable="true">
  <startEvent id="start"/><endEvent id="end"/>
  <sequenceFlow id="f" sourceRef="start" targetRef="end"/>
</process>""")
FIRES = 10


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _scheduled_keys(run: Cli) -> list[str]:
    executions = run.json("executions", "list", "--limit", "500")["executions"]
    return [x["business_key"] for x in executions if x["business_key"] and x["status"] == "completed"]


def _stop(processes: list[subprocess.Popen[str]]) -> list[str]:
    """SIGTERM to each, then their output; each must stop on its own, with exit code 0."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    outputs = []
    for process in processes:
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            raise AssertionError(f"the scheduler did not stop on SIGTERM:\n{output}") from None
        assert process.returncode == 0, output
        outputs.append(output)
    return outputs


def test_two_schedulers_fire_every_second_exactly_once(cli: Cli) -> None:  # noqa: F811
    (cli.cwd / "tick.bpmn").write_text(TICK)
    cli("deploy", "tick.bpmn")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    end = start + timedelta(seconds=FIRES - 1)  # a fire at end_at happens: ten in all
    created = cli.json(
        "schedules", "create", "tick", "--interval", "1s",
        "--start-at", _stamp(start), "--end-at", _stamp(end),
        "--misfire", "catch_up", "--max-catch-up", "20",
    )  # fmt: skip
    # A schedule owes the fires after its creation: this one owes all ten.
    assert datetime.fromisoformat(created["created_at"]) < start, "the machine is too slow for this test"
    schedulers = [cli.popen("scheduler") for _ in range(2)]
    try:
        time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()))
        deadline = time.monotonic() + 20
        while len(_scheduled_keys(cli)) < FIRES and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1.5)  # room for a duplicate to show up, were there one
    finally:
        outputs = _stop(schedulers)
    keys = _scheduled_keys(cli)
    expected = [f"schedule-{created['id']}@{_stamp(start + timedelta(seconds=n))}" for n in range(FIRES)]
    assert sorted(keys) == expected, "\n".join(outputs)
    shown = cli.json("schedules", "show", str(created["id"]))
    assert shown["status"] == "ended" and shown["last_fire_at"] == end.isoformat()
    for output in outputs:
        assert "schedule poller" in output and "Traceback" not in output, output
    fired_lines = sum(output.count(f"schedule {created['id']} fired") for output in outputs)
    assert fired_lines == FIRES  # each fire was done by one of the two processes
