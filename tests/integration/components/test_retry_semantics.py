"""How a component's failures play out on the durable runtime (SQLite and PostgreSQL), with
http.request against a loopback server and a clock the test moves:

- a transient failure (503) fails the job's attempt, and the engine runs the next attempt when the
  element's ``apg:retry`` policy says (the job's ``attempt`` and ``run_at``);
- a business failure (404 → the BPMN error ``http-404``) is not retried: an error boundary event
  catches it and the execution goes on along the boundary's path;
- every request of every attempt of one job carries the same ``Idempotency-Key``: the job id;
- a value the database refuses (sql.execute) is a business error too: it fails at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow import services
from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.registry import platform_registry
from apg_workflow.runtime.worker import Worker
from apg_workflow.services.connection_sources import StoredConnections
from apg_workflow.services.connections import create_connection
from apg_workflow.store.tables import jobs
from tests.integration.store import databases
from tests.integration.store.databases import Clock, deploy_text, wait_for
from tests.integration.store.workflows import bpmn

from .conftest import LoopbackHttp, Received, Reply

pytestmark = pytest.mark.asyncio

# The durable runtime on both dialects, with a clock the test moves (the store suite's fixtures).
database_url = databases.database_url
sqlite_template = databases.sqlite_template
postgres_template = databases.postgres_template
clock_runtime = databases.clock_runtime

Durable = tuple[Runtime, Clock]


def _service_task(config: dict[str, Any], extensions: str, component: str = "http.request") -> str:
    """The service task ``call`` running ``component``."""
    configured = (
        f'<apg:component type="{component}"><apg:config>{json.dumps(config)}</apg:config></apg:component>'
    )
    extensions = f"<extensionElements>{configured}{extensions}</extensionElements>"
    return f'<serviceTask id="call">{extensions}</serviceTask>'


def _one_call(
    process_id: str, config: dict[str, Any], extensions: str, component: str = "http.request"
) -> str:
    """start → the service task ``call`` → end."""
    return bpmn(f"""
<process id="{process_id}" isExecutable="true">
  <startEvent id="start"/>
  {_service_task(config, extensions, component)}
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
  <sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
</process>""")


def _answers(*replies: Reply) -> Callable[[Received], Reply]:
    """A route answering ``replies`` in turn, then the last one again."""
    calls: list[Received] = []

    def answer(request: Received) -> Reply:
        calls.append(request)
        return replies[min(len(calls), len(replies)) - 1]

    return answer


def _api(server: LoopbackHttp) -> dict[str, Any]:
    """The connection to the loopback server: its base URL, allowed past the SSRF guard."""
    return {"type": "http", "base_url": server.url("/"), "allowed_hosts": ["127.0.0.1"]}


@asynccontextmanager
async def _worker(rt: Runtime, **connections: dict[str, Any]) -> AsyncIterator[None]:
    """A worker running the jobs, with ``connections`` stored (encrypted) for them."""
    for name, settings in connections.items():
        await create_connection(rt, name, settings)
    stop = asyncio.Event()
    worker = Worker(rt, platform_registry(), connections=StoredConnections.for_runtime(rt))
    task = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def _waiting_job(rt: Runtime, attempt: int) -> tuple[str, datetime | None] | None:
    """The id and ``run_at`` of the job whose ``attempt`` waits to be claimed, if there is one."""
    stmt = select(jobs.c.id, jobs.c.run_at).where(jobs.c.attempt == attempt, jobs.c.claimed_by.is_(None))

    async def read(conn: AsyncConnection) -> tuple[str, datetime | None] | None:
        row = (await conn.execute(stmt)).first()
        return (row.id, row.run_at) if row is not None else None

    return await rt.db.read(read)


async def _job_waits(rt: Runtime, attempt: int) -> bool:
    return await _waiting_job(rt, attempt) is not None


async def _status(rt: Runtime, execution_id: str) -> str:
    return str((await services.show(rt, execution_id))["status"])


async def _ended(rt: Runtime, execution_id: str) -> bool:
    return await _status(rt, execution_id) in ("completed", "failed", "cancelled")


def _keys(api: LoopbackHttp) -> list[str | None]:
    return [request.headers.get("idempotency-key") for request in api.received]


async def test_transient_failures_retry_on_the_elements_backoff(
    clock_runtime: Durable, http_server: LoopbackHttp
) -> None:
    rt, clock = clock_runtime
    unavailable: Reply = (503, {}, {"error": "maintenance"})
    http_server.route("/rates", _answers(unavailable, unavailable, (200, {}, {"EUR": 1.08})))
    retry = (
        '<apg:retry maxAttempts="4" initialBackoff="PT10S" multiplier="3" maxBackoff="PT5M" jitter="false"/>'
    )
    output = '<apg:output target="rates" source="body"/>'
    await deploy_text(
        rt, _one_call("rates", {"connection": "api", "url": "/rates", "retries": 0}, retry + output)
    )
    started = await services.start(rt, "rates")
    async with _worker(rt, api=_api(http_server)):
        await wait_for(lambda: _job_waits(rt, 2))
        first_failed = clock()
        job_id, run_at = await _waiting_job(rt, 2) or ("", None)
        assert run_at == first_failed + timedelta(seconds=10)  # initialBackoff
        await asyncio.sleep(0.3)
        assert len(http_server.received) == 1  # nothing runs before run_at

        clock.advance(timedelta(seconds=10))
        await wait_for(lambda: _job_waits(rt, 3))
        assert await _waiting_job(rt, 3) == (
            job_id,
            clock() + timedelta(seconds=30),
        )  # 10 s times the multiplier

        clock.advance(timedelta(seconds=30))
        await wait_for(lambda: _ended(rt, started.execution_id))

    shown = await services.show(rt, started.execution_id)
    assert (shown["status"], shown["variables"]) == ("completed", {"rates": {"EUR": 1.08}})
    assert len(http_server.received) == 3
    assert _keys(http_server) == [job_id] * 3
    history = await services.history(rt, started.execution_id)
    failures = [entry["data"] for entry in history if entry["event"] == "job.failed"]
    assert [failure["attempt"] for failure in failures] == [1, 2]
    assert all("HTTP 503" in failure["message"] for failure in failures)
    assert (await services.list_incidents(rt)).items == ()


LOOKUP = _service_task(
    {"connection": "api", "url": "/customers/${customer_id}"},
    '<apg:input target="customer_id" source="customer_id"/>'
    '<apg:output target="customer" source="body"/>'
    '<apg:retry maxAttempts="5" initialBackoff="PT1S" jitter="false"/>',
)
CUSTOMER = bpmn(f"""
<error id="NotFound" name="Customer not found" errorCode="http-404">
  <extensionElements><apg:payloadVariable>failure</apg:payloadVariable></extensionElements>
</error>
<process id="customer" isExecutable="true">
  <startEvent id="start"/>
  {LOOKUP}
  <boundaryEvent id="missing" attachedToRef="call"><errorEventDefinition errorRef="NotFound"/></boundaryEvent>
  <scriptTask id="register"><script>customer = {{"id": customer_id, "new": True}}</script></scriptTask>
  <endEvent id="found"/>
  <endEvent id="registered"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
  <sequenceFlow id="f2" sourceRef="call" targetRef="found"/>
  <sequenceFlow id="f3" sourceRef="missing" targetRef="register"/>
  <sequenceFlow id="f4" sourceRef="register" targetRef="registered"/>
</process>""")


async def test_a_bpmn_error_is_caught_by_the_error_boundary_event_without_retry(
    clock_runtime: Durable, http_server: LoopbackHttp
) -> None:
    rt, _ = clock_runtime
    http_server.route("/customers/42", lambda request: (404, {}, {"error": "no customer 42"}))
    await deploy_text(rt, CUSTOMER)
    started = await services.start(rt, "customer", variables={"customer_id": 42})
    async with _worker(rt, api=_api(http_server)):
        await wait_for(lambda: _ended(rt, started.execution_id))

    shown = await services.show(rt, started.execution_id)
    assert (shown["status"], shown["error"]) == ("completed", None)
    assert shown["completed"] == ["start", "missing", "register", "registered"]
    variables = shown["variables"]
    assert variables["customer"] == {"id": 42, "new": True}
    assert "HTTP 404" in variables["failure"] and "no customer 42" in variables["failure"]
    assert len(http_server.received) == 1  # a business error is not retried, whatever the policy
    history = await services.history(rt, started.execution_id)
    [thrown] = [entry for entry in history if entry["event"] == "error.thrown"]
    assert (thrown["element_id"], thrown["data"]["code"]) == ("call", "http-404")
    assert not [entry for entry in history if entry["event"] == "job.failed"]
    assert (await services.list_incidents(rt)).items == ()


async def test_every_request_of_every_attempt_carries_the_job_id_as_idempotency_key(
    clock_runtime: Durable, http_server: LoopbackHttp
) -> None:
    rt, clock = clock_runtime
    busy: Reply = (503, {"Retry-After": "0"}, {"error": "busy"})
    http_server.route("/payments", _answers(busy, busy, busy, (201, {}, {"payment": "p-1"})))
    config = {
        "connection": "api",
        "method": "POST",
        "url": "/payments",
        "json": {"amount": "${amount}"},
        "retries": 1,  # one more request within an attempt, then the element's policy
    }
    retry = '<apg:retry maxAttempts="3" initialBackoff="PT5S" jitter="false"/>'
    await deploy_text(rt, _one_call("pay", config, retry + '<apg:output target="paid" source="body"/>'))
    started = await services.start(rt, "pay", variables={"amount": 12.5})
    async with _worker(rt, api=_api(http_server)):
        await wait_for(lambda: _job_waits(rt, 2))
        job_id, _ = await _waiting_job(rt, 2) or ("", None)
        assert len(http_server.received) == 2
        clock.advance(timedelta(seconds=5))
        await wait_for(lambda: _ended(rt, started.execution_id))

    shown = await services.show(rt, started.execution_id)
    assert (shown["status"], shown["variables"]["paid"]) == ("completed", {"payment": "p-1"})
    assert [request.json() for request in http_server.received] == [{"amount": 12.5}] * 4
    assert _keys(http_server) == [job_id] * 4


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_value_the_database_refuses_fails_at_once_without_retry(
    clock_runtime: Durable, database_url: str
) -> None:
    rt, _ = clock_runtime
    await rt.db.transaction(lambda conn: conn.execute(text("CREATE TABLE readings (taken_on date)")))
    config = {"connection": "db", "sql": "INSERT INTO readings (taken_on) VALUES (:taken_on)"}
    retry = '<apg:retry maxAttempts="5" initialBackoff="PT1S" jitter="false"/>'
    await deploy_text(rt, _one_call("store", config, retry, component="sql.execute"))
    good = await services.start(rt, "store", variables={"taken_on": "2025-03-01"})  # ISO text: a date
    bad = await services.start(rt, "store", variables={"taken_on": "the first of March"})
    async with _worker(rt, db={"type": "database", "url": database_url}):
        await wait_for(lambda: _ended(rt, good.execution_id))
        await wait_for(lambda: _ended(rt, bad.execution_id))

    assert await _status(rt, good.execution_id) == "completed"
    shown = await services.show(rt, bad.execution_id)
    assert shown["status"] == "failed"
    assert "sql-data-error" in shown["error"] and "invalid input syntax for type date" in shown["error"]
    history = await services.history(rt, bad.execution_id)
    assert not [entry for entry in history if entry["event"] == "job.failed"]  # not retried
