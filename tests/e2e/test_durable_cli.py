"""The database commands as other tools script them: separate ``apg-workflow`` processes sharing
one database (the default SQLite file in the working directory, and PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.store.workflows import TWO_TASKS, service_chain

CLI = [str(Path(sys.executable).parent / "apg-workflow")]


class Cli:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = env

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*CLI, *args], cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=60
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout.strip().splitlines()[-1])

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*CLI, *args],
            cwd=self.cwd,
            env=self.env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("APG_")}
    return env | {"APG_POLL_INTERVAL_SECONDS": "0.1"} | extra


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Iterator[Cli]:
    for name, text in {"review.bpmn": TWO_TASKS, "chain.bpmn": service_chain("chain", 3)}.items():
        (tmp_path / name).write_text(text)
    if database_url.startswith("sqlite"):  # the default: a file in the working directory, set up on first use
        yield Cli(tmp_path, _env())
    else:
        yield Cli(tmp_path, _env(DATABASE_URL=database_url))


def _wait(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_commands_in_separate_processes_share_the_database(cli: Cli) -> None:
    cli("db", "upgrade")
    assert cli.json("deploy", "review.bpmn")["version"] == 1
    execution_id = cli("start", "review", "--input", '{"amount": 3}').stdout.strip()
    shown = cli.json("executions", "show", execution_id)
    assert shown["id"] == execution_id and shown["active"] == ["legal", "finance"]


def test_a_worker_process_runs_jobs_and_stops_on_sigterm(cli: Cli) -> None:
    cli("db", "upgrade")
    cli("deploy", "chain.bpmn")
    ids = [cli("start", "chain").stdout.strip() for _ in range(2)]
    worker = cli.popen("worker", "--concurrency", "2")
    try:
        _wait(lambda: len(cli.json("executions", "list", "--status", "completed")["executions"]) == len(ids))
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "stopped" in output
