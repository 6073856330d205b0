"""The database commands as other tools script them (in process, with typer's runner): the default
SQLite file in the working directory, and PostgreSQL."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from apg_workflow.cli import app
from tests.integration.store.workflows import TWO_TASKS, bpmn, service_chain

FLAKY = bpmn("""
<process id="shaky" isExecutable="true">
  <startEvent id="start"/>
  <scriptTask id="divide"><script>ratio = total / count</script></scriptTask>
  <userTask id="check" name="Check"/>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="divide"/>
  <sequenceFlow id="f2" sourceRef="divide" targetRef="check"/>
  <sequenceFlow id="f3" sourceRef="check" targetRef="end"/>
</process>""")


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


class Cli:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = env

    def __call__(self, *args: str, ok: bool = True) -> Done:
        result = CliRunner().invoke(app, list(args), env=self.env)
        done = Done(result.exit_code, result.stdout, result.stderr)
        if ok:
            assert done.returncode == 0, (done.stdout, done.stderr, result.exception)
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout.strip().splitlines()[-1])


def _env(**extra: str | None) -> dict[str, str | None]:
    unset: dict[str, str | None] = {
        k: None for k in os.environ if k == "DATABASE_URL" or k.startswith("APG_")
    }
    return unset | extra


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)
    for name, text in {
        "review.bpmn": TWO_TASKS,
        "shaky.bpmn": FLAKY,
        "chain.bpmn": service_chain("chain", 3),
    }.items():
        (tmp_path / name).write_text(text)
    if database_url.startswith("sqlite"):  # the default: a file in the working directory, set up on first use
        yield Cli(tmp_path, _env())
    else:
        yield Cli(tmp_path, _env(DATABASE_URL=database_url))


def test_deploy_start_complete_and_show(cli: Cli) -> None:
    assert "revision" in cli("db", "upgrade").stdout
    assert cli.json("deploy", "review.bpmn") == {
        "key": "review",
        "version": 1,
        "name": "Review",
        "created": True,
    }
    assert cli.json("deploy", "review.bpmn")["created"] is False
    execution_id = cli("start", "review", "--input", '{"amount": 3}', "--business-key", "b-1").stdout.strip()
    assert cli.json("start", "review", "--business-key", "b-1") == {
        "id": execution_id,
        "status": "running",
        "created": False,
    }
    [listed] = cli.json("executions", "list")["executions"]
    assert listed["id"] == execution_id and listed["workflow"] == "review"
    tasks = {t["element_id"]: t["id"] for t in cli.json("tasks", "list")["tasks"]}
    cli("tasks", "complete", tasks["legal"], "--variables", '{"legal": true}')
    cli("tasks", "complete", tasks["finance"])
    shown = cli.json("executions", "show", execution_id)
    assert shown == {
        "id": execution_id,
        "status": "completed",
        "variables": {"amount": 3, "legal": True},
        "completed": ["start", "split", "legal", "finance", "join", "end"],
        "active": [],
        "error": None,
    }


def test_incidents_list_and_retry(cli: Cli) -> None:
    cli("deploy", "shaky.bpmn")
    execution_id = cli.json("start", "shaky", "--input", '{"total": 10, "count": 0}')["id"]
    [incident] = cli.json("incidents", "list")["incidents"]
    assert incident["element_id"] == "divide" and "division by zero" in incident["message"]
    cli("incidents", "retry", incident["id"], "--variables", '{"count": 4}')
    assert cli.json("incidents", "list")["incidents"] == []
    shown = cli.json("executions", "show", execution_id)
    assert shown["active"] == ["check"] and shown["variables"]["ratio"] == 2.5


def test_bad_input_gets_a_message_not_a_traceback(cli: Cli) -> None:
    cli("db", "upgrade")
    for args, message in [
        (("executions", "show", "nope"), "no execution 'nope'"),
        (("start", "missing"), "no workflow 'missing'"),
        (("start", "x", "--input", "[1]"), "must be a JSON object"),
        (("deploy", "absent.bpmn"), "cannot read"),
        (("tasks", "complete", "nope"), "no user task 'nope'"),
    ]:
        done = cli(*args, ok=False)
        assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr
