"""The component library end to end: ``data/sales_report.bpmn`` fetches the day's orders from an HTTP
API (a loopback server, reached through an allow-listing connection with a bearer token), keeps the
paid ones (data.filter), totals them per region (data.aggregate), stores the totals in PostgreSQL
(sql.execute), renders a CSV report (data.template), writes it under the storage root (file.write)
and e-mails it (email.send, through a local SMTP server). It runs in memory through
``apg-workflow run --connections FILE``, and durably: deployed, started and run by a worker on
PostgreSQL with the connections stored encrypted. Each effect is checked where it landed."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from apg_workflow import services
from apg_workflow.runtime.context import Runtime, open_runtime
from apg_workflow.runtime.registry import platform_registry
from apg_workflow.runtime.worker import Worker
from apg_workflow.services.connection_sources import StoredConnections
from apg_workflow.services.connections import create_connection
from tests.e2e.test_durable_cli import CLI, _env
from tests.integration.components.conftest import (  # noqa: F401  (http_server: a fixture)
    LoopbackHttp,
    Received,
    Reply,
    http_server,
)
from tests.integration.store.databases import settings_for, wait_for

WORKFLOW = Path(__file__).parent / "data" / "sales_report.bpmn"
TOKEN = "orders-api-token-7f3a9c"
DAY = "2025-03-01"
START = {"report_date": DAY, "minimum": 50, "recipient": "Sales <sales@example.com>"}
ORDERS = [
    {"id": 1, "region": "north", "status": "paid", "total": 120.0},
    {"id": 2, "region": "south", "status": "paid", "total": 80.5},
    {"id": 3, "region": "north", "status": "cancelled", "total": 999},
    {"id": 4, "region": "north", "status": "paid", "total": 30},
    {"id": 5, "region": "west", "status": "pending", "total": 70},
    {"id": 6, "region": "north", "status": "paid", "total": 200},
]
TOTALS = [
    {"region": "north", "orders": 2, "revenue": 320.0},
    {"region": "south", "orders": 1, "revenue": 80.5},
]
REPORT = "region,orders,revenue\nnorth,2,320.00\nsouth,1,80.50\n"
REPORT_PATH = f"reports/sales-{DAY}.csv"
ELEMENTS = [
    "start",
    "fetch_orders",
    "keep_paid",
    "total_by_region",
    "store_totals",
    "render_report",
    "write_report",
    "email_report",
    "end",
]


# The counterparts ---------------------------------------------------------------------------------


def _orders(request: Received) -> Reply:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return 401, {}, {"error": "unauthorized"}
    return 200, {}, [order for order in ORDERS if request.query.get("date") == [DAY]]


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        contents = [envelope.content for envelope in self.envelopes]
        assert all(isinstance(content, bytes) for content in contents)
        return [cast(EmailMessage, message_from_bytes(c, policy=policy.default)) for c in contents]  # type: ignore[arg-type]


@pytest.fixture
def mailbox() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:  # a free port (aiosmtpd checks its server by connecting to it)
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@dataclass(frozen=True)
class Warehouse:
    """A role of the ``test`` database whose own schema holds the ``region_totals`` table: the
    workflow's unqualified table name resolves there, so concurrent runs never meet."""

    admin_url: str
    role: str
    url: str  # the role's, with its password: the workflow's `warehouse` connection

    async def rows(self) -> list[dict[str, Any]]:
        conn = await asyncpg.connect(self.admin_url)
        try:
            records = await conn.fetch(f"SELECT * FROM {self.role}.region_totals ORDER BY region")
        finally:
            await conn.close()
        return [dict(record) for record in records]


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def warehouse(postgres_url: str) -> Iterator[Warehouse]:
    role, password = f"apg_e2e_{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    parts = urlsplit(postgres_url)
    netloc = f"{role}:{password}@{parts.hostname}:{parts.port or 5432}"
    asyncio.run(
        _admin(
            postgres_url,
            f"CREATE ROLE {role} LOGIN PASSWORD '{password}'",
            f"CREATE SCHEMA {role} AUTHORIZATION {role}",
            f"ALTER ROLE {role} SET search_path = {role}",
            f"CREATE TABLE {role}.region_totals (report_date date, region text, orders integer, "
            "revenue numeric(12, 2), PRIMARY KEY (report_date, region))",
            f"ALTER TABLE {role}.region_totals OWNER TO {role}",
        )
    )
    yield Warehouse(postgres_url, role, urlunsplit(("postgresql", netloc, parts.path, "", "")))
    asyncio.run(_admin(postgres_url, f"DROP SCHEMA {role} CASCADE", f"DROP ROLE {role}"))


@dataclass(frozen=True)
class Pipeline:
    """Everything the workflow talks to, and the connections that lead there."""

    api: LoopbackHttp
    inbox: Inbox
    warehouse: Warehouse
    connections: Mapping[str, Mapping[str, Any]]
    secrets: tuple[str, ...]


@pytest.fixture
def pipeline(request: pytest.FixtureRequest, mailbox: tuple[Inbox, int], warehouse: Warehouse) -> Pipeline:
    api: LoopbackHttp = request.getfixturevalue("http_server")
    api.route("/orders", _orders)
    inbox, smtp_port = mailbox
    connections = {
        "orders_api": {
            "type": "http",
            "base_url": api.url("/"),
            "auth": {"kind": "bearer", "token": TOKEN},
            "allowed_hosts": ["127.0.0.1"],
        },
        "warehouse": {"type": "database", "url": warehouse.url},
        "mail": {
            "type": "smtp",
            "host": "127.0.0.1",
            "port": smtp_port,
            "starttls": False,
            "sender": "Reports <reports@example.com>",
        },
    }
    password = urlsplit(warehouse.url).password or ""
    return Pipeline(api, inbox, warehouse, connections, (TOKEN, password))


# The checks -------------------------------------------------------------------------------------


async def _check_effects(pipeline: Pipeline, variables: Mapping[str, Any], storage: Path) -> None:
    """What the run left in each system, and in its variables."""
    [request] = pipeline.api.received
    assert (request.method, request.path, request.query) == ("GET", "/orders", {"date": [DAY]})
    assert request.headers["idempotency-key"]  # the job id

    day = date.fromisoformat(DAY)  # the ISO text of a variable, stored in a date column
    assert await pipeline.warehouse.rows() == [
        {"report_date": day, "region": "north", "orders": 2, "revenue": Decimal("320.00")},
        {"report_date": day, "region": "south", "orders": 1, "revenue": Decimal("80.50")},
    ]

    assert (storage / REPORT_PATH).read_text() == REPORT

    [message] = pipeline.inbox.messages()
    assert pipeline.inbox.envelopes[0].rcpt_tos == ["sales@example.com"]
    assert message["Subject"] == f"Sales report {DAY}"
    assert message["From"] == "Reports <reports@example.com>"
    body = message.get_body(("plain",))
    assert body is not None and "2 regions, 2 rows stored" in body.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"sales-{DAY}.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_content() == REPORT

    assert {k: v for k, v in variables.items() if k != "message_id"} == {
        **START,
        "orders": ORDERS,
        "paid_orders": [ORDERS[0], ORDERS[1], ORDERS[5]],
        "totals": TOTALS,
        "stored_rows": 2,
        "report": REPORT,
        "report_path": REPORT_PATH,
    }
    assert variables["message_id"] == message["Message-ID"]
    text = json.dumps(variables)
    assert not [secret for secret in pipeline.secrets if secret in text]


# In memory: apg-workflow run ----------------------------------------------------------------------


def test_the_pipeline_runs_in_memory_through_the_cli(pipeline: Pipeline, tmp_path: Path) -> None:
    connections = tmp_path / "connections.json"
    connections.write_text(json.dumps(pipeline.connections))
    storage = tmp_path / "storage"
    done = subprocess.run(
        [
            *CLI,
            "run",
            str(WORKFLOW),
            "--connections",
            str(connections),
            "--input",
            json.dumps(START),
            "--json",
        ],
        cwd=tmp_path,
        env=_env(APG_STORAGE_ROOT=str(storage)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["status"], result["error"], result["active"]) == ("completed", None, [])
    assert result["completed"] == ELEMENTS
    asyncio.run(_check_effects(pipeline, result["variables"], storage))
    assert not [secret for secret in pipeline.secrets if secret in done.stdout + done.stderr]


# Durably: deploy, start, a worker, on PostgreSQL --------------------------------------------------


@pytest_asyncio.fixture
async def postgres_runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    async with open_runtime(settings_for(database_url, storage_root=tmp_path / "storage")) as rt:
        yield rt


async def _settled(rt: Runtime, execution_id: str) -> bool:
    """The execution ended, or stopped at an incident."""
    ended = (await services.show(rt, execution_id))["status"] in ("completed", "failed", "cancelled")
    return ended or bool((await services.list_incidents(rt)).items)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.asyncio
async def test_the_pipeline_runs_durably_on_postgresql(pipeline: Pipeline, postgres_runtime: Runtime) -> None:
    rt = postgres_runtime
    for name, settings in pipeline.connections.items():
        await create_connection(rt, name, settings)
    deployment = await services.deploy(rt, [WORKFLOW])
    started = await services.start(rt, deployment.key, variables=START)
    stop = asyncio.Event()
    worker = Worker(rt, platform_registry(), connections=StoredConnections.for_runtime(rt))
    running = asyncio.create_task(worker.run(stop))
    try:
        await wait_for(lambda: _settled(rt, started.execution_id), timeout=15)
    finally:
        stop.set()
        await running

    shown = await services.show(rt, started.execution_id)
    assert (shown["status"], shown["error"], shown["active"]) == ("completed", None, [])
    assert shown["completed"] == ELEMENTS
    await _check_effects(pipeline, shown["variables"], rt.settings.storage_root)

    history = await services.history(rt, started.execution_id)
    completed = [entry["element_id"] for entry in history if entry["event"] == "element.completed"]
    assert completed == ELEMENTS
    assert not [entry for entry in history if entry["event"] in ("job.failed", "incident.opened")]
    assert [entry["event"] for entry in history][-1] == "execution.completed"
    assert not [secret for secret in pipeline.secrets if secret in json.dumps(history, default=str)]
    assert (await services.list_incidents(rt)).items == ()
