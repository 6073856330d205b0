"""schemathesis against the OpenAPI document of a real ``apg-workflow server`` process, with the
administrator's token, across every operation: no request may get a 5xx and every response must
match its schema.

On SQLite it runs every phase (examples, coverage, fuzzing, stateful) and must send at least 1,000
requests; on PostgreSQL the fuzzing and stateful phases (what differs there is how the database
takes odd values: NUL bytes, numbers past 32 bits), unless ``APG_SCHEMATHESIS_FULL=1``.

The database holds workflows, executions, user tasks, an incident, a schedule, webhooks, a user and
an API key first, and their ids are offered to the generator for half the path parameters, so
that the fuzzing reaches real objects and not only 404s (lists with items are what check the item
schemas). Ids holding a ``/`` (tasks, incidents) are reached through the stateful links instead.

``APG_SCHEMATHESIS_MAX_EXAMPLES`` (default 10) sets the examples per operation and phase,
``APG_SCHEMATHESIS_SEED`` the seed (fixed by default, so that a failure reproduces; ``random``
draws a new one)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from apg_workflow.api import problems
from tests.api.conftest import BIN, LiveServer
from tests.api.test_executions import DIVIDE, api_settings  # noqa: F401  (both dialects)
from tests.api.test_lifecycle import APPROVAL

MAX_EXAMPLES = int(os.environ.get("APG_SCHEMATHESIS_MAX_EXAMPLES", "10"))
SEED = os.environ.get("APG_SCHEMATHESIS_SEED", "20240601")
FULL = os.environ.get("APG_SCHEMATHESIS_FULL") == "1"
CHECKS = "not_a_server_error,response_schema_conformance"
ALL_PHASES = "examples,coverage,fuzzing,stateful"


@dataclass(frozen=True)
class Plan:
    """What one dialect's run covers, and the fewest requests it must send."""

    phases: str
    min_requests: int


PLANS = {
    "sqlite": Plan(ALL_PHASES, 1000),
    "postgresql": Plan(ALL_PHASES, 1000) if FULL else Plan("fuzzing,stateful", 500),
}


@dataclass(frozen=True)
class Seeded:
    """Ids of objects that exist, by the path parameter that names them."""

    ids: dict[str, list[str | int]]


@pytest.fixture
def sqlite_url(database_url: str) -> str:
    """The database ``live_server`` runs on, here each dialect in turn (``database_url``)."""
    return database_url


def _open_tasks(client: httpx.Client, executions: list[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while True:
        items = client.get("/api/v1/tasks", params={"limit": 500}).raise_for_status().json()["items"]
        found = [t for t in items if t["execution_id"] in executions]
        if len(found) >= len(executions) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def seed(client: httpx.Client) -> None:
    """Two workflows (one with two versions), executions waiting on a user task, one completed task,
    one cancelled execution, a failed one (an incident), a schedule, webhooks both ways, a user and
    an API key."""
    first = client.post("/api/v1/workflows", json=APPROVAL).raise_for_status().json()
    client.post("/api/v1/workflows", json=APPROVAL | {"name": "Second approval"}).raise_for_status()
    changed = APPROVAL | {"description": "Reviewed twice.", "activities": [*APPROVAL["activities"]]}
    changed["activities"][1] = changed["activities"][1] | {"name": "Review again"}
    client.put(f"/api/v1/workflows/{first['id']}", json=changed).raise_for_status()
    executions = [
        client.post(
            f"/api/v1/workflows/{first['id']}/execute",
            json={"variables": {"amount": 10 * i, "note": "seeded"}, "business_key": f"seed-{i}"},
        )
        .raise_for_status()
        .json()["id"]
        for i in range(4)
    ]
    tasks = _open_tasks(client, executions)
    client.post(f"/api/v1/tasks/{tasks[0]['id']}/complete", json={"variables": {"approved": True}})
    client.post(f"/api/v1/executions/{executions[-1]}/cancel", json={"reason": "seeded"}).raise_for_status()
    divide = client.post("/api/v1/workflows", json=DIVIDE).raise_for_status().json()["id"]
    client.post(f"/api/v1/workflows/{divide}/execute", json={"variables": {"total": 1, "count": 0}})
    client.post(
        "/api/v1/schedules",
        json={"workflow_id": first["id"], "kind": "interval", "expression": "1d", "paused": True},
    ).raise_for_status()
    client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.com/apg", "events": ["task.completed"], "enabled": False},
    ).raise_for_status()
    client.post("/api/v1/inbound-webhooks", json={"action": "start", "workflow_key": first["id"]})
    viewer = {"username": "seeded", "password": "seeded-password", "roles": ["viewer"]}
    client.post("/api/v1/users", json=viewer)
    client.post("/api/v1/auth/api-keys", json={"name": "seeded"}).raise_for_status()


# Where the ids of each path parameter are listed, and the field that holds them.
ID_SOURCES: dict[str, tuple[str, str]] = {
    "workflow_id": ("/api/v1/workflows", "id"),
    "execution_id": ("/api/v1/executions", "id"),
    "incident_id": ("/api/v1/incidents", "id"),
    "schedule_id": ("/api/v1/schedules", "id"),
    "webhook_id": ("/api/v1/webhooks", "id"),
    "hook_id": ("/api/v1/inbound-webhooks", "id"),
    "template_id": ("/api/v1/templates", "id"),
    "component_type": ("/api/v1/components", "type"),
    "user_id": ("/api/v1/users", "id"),
    "key_id": ("/api/v1/auth/api-keys", "id"),
}


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    lists = [value for value in body.values() if isinstance(value, list)] if isinstance(body, dict) else []
    return lists[0] if lists else []


def harvest(client: httpx.Client) -> Seeded:
    """The ids that exist now, by path parameter. Ids holding a ``/`` (tasks, incidents) are left
    out: schemathesis never puts a ``/`` in a path parameter."""
    found: dict[str, list[str | int]] = {}
    for name, (path, field) in ID_SOURCES.items():
        answer = client.get(path)
        if answer.status_code != 200:
            continue
        ids = [i[field] for i in _items(answer.json()) if "/" not in str(i.get(field, "/"))]
        if ids:
            found[name] = ids[:10]
    found["version"] = [1, 2]
    return Seeded(found)


def config_file(seeded: Seeded, path: Path) -> Path:
    """A schemathesis configuration: the seeded ids offered for half the path parameters, and
    followed logs bounded to a second (a stream otherwise lasts until its ``timeout``)."""
    lines: list[str] = []
    for name, values in seeded.ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in seeded.ids]
    lines += [
        "",
        "[[operations]]",
        'include-path-regex = "/logs$"',
        'parameters = { "query.timeout" = 1 }',
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _seed_argument() -> str:
    return str(secrets.randbits(64)) if SEED == "random" else SEED


def run_schemathesis(
    base: str, token: str, plan: Plan, config: Path, report: Path
) -> subprocess.CompletedProcess[str]:
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{base}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        plan.phases,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        _seed_argument(),
        "--workers",
        "4",
        "--request-timeout",
        "30",
        "--continue-on-failure",
        # A single string path parameter (GET /tasks/{task_id}) gets most of its negative examples
        # dropped (an object's text holds braces): a generator's limit, not the API's.
        "--suppress-health-check",
        "filter_too_much",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=840, cwd=config.parent)


def _findings(stdout: str, limit: int = 20_000) -> str:
    """schemathesis's account of the failures, without its warnings, each line cut short (a
    reproduction can carry a 1,000-item body)."""
    kept, skipping = [], False
    for line in stdout.splitlines():
        if "=== WARNINGS ===" in line or "=== SUMMARY ===" in line:
            skipping = "WARNINGS" in line
        if not skipping and line.strip():
            kept.append(line if len(line) <= 400 else line[:400] + " …")
    return "\n".join(kept)[-limit:]


def _errors_logged(log: Path, limit: int = 12_000) -> str:
    """The server's log from its first error on (where the tracebacks of 5xx answers are)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    first = text.find(" ERROR ")
    return text[first : first + limit] if first >= 0 else "(no error logged)"


@pytest.mark.timeout(900)
def test_no_server_errors_and_responses_match_the_schema(
    database_url: str, live_server: LiveServer, tmp_path: Path
) -> None:
    plan = PLANS[database_url.split(":", 1)[0]]
    server, token = live_server.base_url, live_server.token()
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        seed(client)
        seeded = harvest(client)
    report_path = tmp_path / "schemathesis.json"
    config = config_file(seeded, tmp_path / "schemathesis.toml")
    done = run_schemathesis(server, token, plan, config, report_path)
    output = _findings(done.stdout) + done.stderr[-5_000:]
    assert report_path.exists(), f"schemathesis did not write its report:\n{output}"
    report = json.loads(report_path.read_text())
    # A crash inside the request generator itself (CPython 3.11 can raise "AST constructor recursion
    # depth mismatch" while hypothesis describes a filter) tests nothing of ours; any other error does.
    generator_crashes = done.stdout.count("SystemError: AST constructor recursion depth mismatch")
    errors = sum(int(e.get("count", 1)) for e in report["errors"])
    assert not report["failures"] and errors <= generator_crashes, (
        f"schemathesis failed:\n{output}\n\nThe server logged:\n{_errors_logged(tmp_path / 'server.log')}"
    )
    operations = report["operations"]
    assert operations["tested"] == operations["total"] == operations["selected"], operations
    assert report["test_cases"]["generated"] >= plan.min_requests, report["test_cases"]


# What schemathesis found once, kept as plain requests (on both dialects, in process).


@pytest.mark.asyncio
async def test_numbers_past_a_version_are_refused_precisely(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/workflows", json=APPROVAL)
    for path, params in [
        ("/api/v1/workflows/expense_approval/compare", {"base": 1, "other": 2**70}),
        ("/api/v1/workflows/expense_approval/versions/99999999999", {}),
    ]:
        answer = await client.get(path, params=params)
        assert answer.status_code == 422, answer.text
        assert answer.json()["type"].endswith("/validation-error")


@pytest.mark.asyncio
async def test_values_the_database_cannot_hold_are_client_errors(
    database_url: str, client: httpx.AsyncClient
) -> None:
    on_postgres = database_url.startswith("postgresql")
    login = await client.post("/api/v1/auth/login", json={"username": "ad\x00min", "password": "secret"})
    assert login.status_code == (422 if on_postgres else 401), login.text
    assert login.headers["content-type"] == "application/problem+json"
    missing = await client.get("/api/v1/workflows/a%00b")
    assert missing.status_code == (422 if on_postgres else 404), missing.text
    if on_postgres:
        assert missing.json()["type"].endswith("/invalid-value")
        assert "0x00" in missing.json()["detail"]


@pytest.mark.asyncio
async def test_a_number_too_large_for_the_driver_is_a_client_error() -> None:
    """What SQLite's driver raises for an integer past 64 bits that a route let through."""
    app = FastAPI()
    problems.install(app)

    @app.get("/count/{n}")
    async def count(n: int) -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        answer = await c.get(f"/count/{2**70}")
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("/invalid-value")
    assert answer.headers["content-type"] == "application/problem+json"
