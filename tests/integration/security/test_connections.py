"""Connections on both dialects: the secret is encrypted at rest, shown redacted by the services and
the command line, absent from logs, history and errors when a component uses it and fails, still
readable after a key rotation that removes the old key, and out of reach of another tenant."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text, update
from typer.testing import CliRunner

from apg_workflow import services
from apg_workflow.cli import app
from apg_workflow.components import (
    Component,
    ComponentConfig,
    ComponentContext,
    ComponentRegistry,
    ConfigurationError,
)
from apg_workflow.components.redaction import install_log_redaction
from apg_workflow.runtime.context import Runtime, open_runtime
from apg_workflow.runtime.worker import Worker
from apg_workflow.security import generate_key, key_id
from apg_workflow.services import connections
from apg_workflow.services.connection_sources import StoredConnections
from apg_workflow.store import NotFound
from apg_workflow.store.tables import connections as connections_table
from apg_workflow.store.tables import metadata
from tests.integration.store.databases import deploy_text, settings_for, wait_for
from tests.integration.store.workflows import bpmn

SECRET = "tok-9fQ2-do-not-leak"
OLD_KEY, NEW_KEY = generate_key(), generate_key()
CRM = {"type": "http", "base_url": "https://crm.example.com", "auth": {"kind": "bearer", "token": SECRET}}
WAREHOUSE = {"type": "database", "url": f"postgresql://etl:{SECRET}x@warehouse:5432/sales"}


@asynccontextmanager
async def opened(
    database_url: str, *, keys: str = OLD_KEY, tenant: str = "default"
) -> AsyncIterator[Runtime]:
    async with open_runtime(settings_for(database_url, secret_keys=keys, tenant=tenant)) as rt:
        yield rt


class UsesCrmConfig(ComponentConfig):
    connection: str


class Leaky(Component[UsesCrmConfig]):
    """Does everything a careless component could: logs the settings, lets a library log the token,
    and fails with the token in its message."""

    type = "test.leaky"
    category = "test"
    title = "Leaky"
    description = "Leaks its connection's secret everywhere it can."
    Config = UsesCrmConfig

    async def run(self, context: ComponentContext, config: UsesCrmConfig, inputs: Mapping[str, Any]) -> Any:
        settings = context.connection(config.connection)
        context.logger.info("calling the CRM with %s", settings)
        logging.getLogger("some.http.library").warning(
            "GET / Authorization: Bearer %s", settings["auth"]["token"]
        )
        raise RuntimeError(f"the CRM refused token {settings['auth']['token']}")


class Echo(Component[UsesCrmConfig]):
    """Returns its connection's token among its outputs."""

    type = "test.echo"
    category = "test"
    title = "Echo"
    description = "Puts the secret into its outputs."
    Config = UsesCrmConfig

    async def run(self, context: ComponentContext, config: UsesCrmConfig, inputs: Mapping[str, Any]) -> Any:
        token = context.connection(config.connection)["auth"]["token"]
        return {"token": token, "note": f"used {token}", "authorized": token == SECRET}


REGISTRY = ComponentRegistry([Leaky, Echo])


def calling(process_id: str, component: str) -> str:
    return bpmn(f"""
<process id="{process_id}" isExecutable="true">
  <startEvent id="start"/>
  <serviceTask id="call"><extensionElements>
    <apg:component type="{component}"><apg:config>{{"connection": "crm"}}</apg:config></apg:component>
    <apg:retry maxAttempts="1"/>
  </extensionElements></serviceTask>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
  <sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
</process>""")


async def everything_stored(database_url: str) -> str:
    """The whole database as text: every row of every table (PostgreSQL), or the raw bytes of the
    SQLite file and its write-ahead log."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*")).decode("latin-1")
    conn = await asyncpg.connect(database_url)
    try:
        rows = [await conn.fetch(f"SELECT t::text FROM {table.name} t") for table in metadata.sorted_tables]
    finally:
        await conn.close()
    return "\n".join(row[0] for table_rows in rows for row in table_rows)


@pytest.mark.asyncio
async def test_secrets_are_encrypted_at_rest(database_url: str) -> None:
    async with opened(database_url) as rt:
        await connections.create_connection(rt, "crm", CRM)
        await connections.create_connection(rt, "warehouse", WAREHOUSE)
        payloads = await rt.db.read(
            lambda conn: _scalars(conn, text("SELECT payload FROM connections ORDER BY name"))
        )
    assert len(payloads) == 2 and all(SECRET not in p and "crm.example" not in p for p in payloads)
    dump = await everything_stored(database_url)
    assert "crm" in dump and "warehouse" in dump  # the dump does hold the rows
    assert SECRET not in dump and OLD_KEY not in dump


@pytest.mark.asyncio
async def test_the_services_show_connections_redacted(database_url: str) -> None:
    async with opened(database_url) as rt:
        created = await connections.create_connection(rt, "crm", CRM)
        assert created.settings == {**CRM, "auth": {"kind": "bearer", "token": "***"}}
        views = [*await connections.list_connections(rt), await connections.get_connection(rt, "crm")]
        assert SECRET not in json.dumps([v.to_json() for v in views]) and SECRET not in repr(views)
        with pytest.raises(services.Conflict, match="'crm' exists"):
            await connections.create_connection(rt, "crm", CRM)
        with pytest.raises(connections.ConnectionRejected, match=r"auth\.token") as refused:
            await connections.create_connection(
                rt, "bad", {**CRM, "auth": {"kind": "bearer", "tokn": SECRET}}
            )
        assert SECRET not in refused.value.message
        # An edited redacted view keeps the secret it did not change.
        edited = {**created.settings, "base_url": "https://crm2.example.com"}  # type: ignore[dict-item]
        await connections.create_connection(rt, "crm", edited, replace=True)
        lookup = await StoredConnections.for_runtime(rt).for_tenant(rt.tenant)
        assert lookup("crm").settings() == {**CRM, "base_url": "https://crm2.example.com"}


def _env(database_url: str, **extra: str) -> dict[str, str | None]:
    unset: dict[str, str | None] = {
        k: None for k in os.environ if k == "DATABASE_URL" or k.startswith("APG_")
    }
    return unset | {"DATABASE_URL": database_url, "APG_SECRET_KEYS": OLD_KEY} | extra


def test_the_command_line_never_prints_a_secret(database_url: str, tmp_path: Path) -> None:
    env = _env(database_url)
    runner = CliRunner()
    settings_file = tmp_path / "warehouse.yaml"
    settings_file.write_text(f"url: {WAREHOUSE['url']}\n")
    commands = [
        ["connections", "create", "crm", "--type", "http", "--data", json.dumps(CRM), "--json"],
        ["connections", "create", "warehouse", "--type", "database", "--from-file", str(settings_file)],
        ["connections", "list"],
        ["connections", "list", "--json"],
        ["connections", "show", "crm"],
        ["connections", "show", "warehouse", "--json"],
        [
            "connections",
            "create",
            "bad",
            "--type",
            "redis",
            "--data",
            json.dumps({"url": f"http://:{SECRET}@h"}),
        ],
        ["connections", "create", "bad", "--type", "http", "--data", f'{{"token": "{SECRET}"'],
    ]
    outputs = [runner.invoke(app, args, env=env) for args in commands]
    assert [r.exit_code for r in outputs] == [0, 0, 0, 0, 0, 0, 1, 2], [r.output for r in outputs]
    for result in outputs:
        assert SECRET not in result.stdout + result.stderr
    listed = json.loads(outputs[3].stdout.strip().splitlines()[-1])
    assert [c["name"] for c in listed["connections"]] == ["crm", "warehouse"]
    assert json.loads(outputs[5].stdout)["settings"]["url"] == "postgresql://etl:***@warehouse:5432/sales"
    assert "url: must start with redis://" in outputs[6].stderr
    assert "not valid JSON (line 1" in outputs[7].stderr
    deleted = runner.invoke(app, ["connections", "delete", "crm"], env=env)
    assert deleted.exit_code == 0
    assert runner.invoke(app, ["connections", "show", "crm"], env=env).exit_code == 1


@pytest.mark.asyncio
async def test_a_component_that_leaks_its_secret_leaks_nothing(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    install_log_redaction()  # as `apg-workflow worker` does when it configures logging
    caplog.set_level(logging.INFO)
    async with opened(database_url) as rt:
        await connections.create_connection(rt, "crm", CRM)
        await deploy_text(rt, calling("leaky", "test.leaky"))
        await deploy_text(rt, calling("echo", "test.echo"))
        failing = (await services.start(rt, "leaky")).execution_id
        echoing = (await services.start(rt, "echo")).execution_id
        stop = asyncio.Event()
        worker = Worker(rt, REGISTRY, connections=StoredConnections.for_runtime(rt))
        task = asyncio.create_task(worker.run(stop))
        try:
            await wait_for(lambda: _has_incident(rt))
            await wait_for(lambda: _status_is(rt, echoing, "completed"))
        finally:
            stop.set()
            await task
        [incident] = (await services.list_incidents(rt)).items
        shown = await services.show(rt, failing)
        history = await services.history(rt, failing)
        echoed = (await services.show(rt, echoing))["variables"]
    assert incident.message == "RuntimeError: the CRM refused token ***"
    assert echoed == {"token": "***", "note": "used ***", "authorized": True}
    assert "calling the CRM with" in caplog.text and "Bearer ***" in caplog.text
    for written in (
        caplog.text,
        json.dumps(shown),
        json.dumps(history, default=str),
        await everything_stored(database_url),
    ):
        assert SECRET not in written


async def _has_incident(rt: Runtime) -> bool:
    return bool((await services.list_incidents(rt)).items)


async def _status_is(rt: Runtime, execution_id: str, status: str) -> bool:
    return (await services.show(rt, execution_id))["status"] == status


@pytest.mark.asyncio
async def test_connections_work_after_a_key_rotation_removes_the_old_key(database_url: str) -> None:
    async with opened(database_url, keys=OLD_KEY) as rt:
        await connections.create_connection(rt, "crm", CRM)
        await connections.create_connection(rt, "warehouse", WAREHOUSE)
    async with opened(database_url, keys=NEW_KEY) as rt:  # the old key dropped too early
        view = await connections.get_connection(rt, "crm")
        assert view.settings is None and f"sealed with key {view.key_id}" in (view.problem or "")
        lookup = await StoredConnections.for_runtime(rt).for_tenant(rt.tenant)
        with pytest.raises(ConfigurationError, match="connection 'crm': sealed with key"):
            lookup("crm")
    async with opened(database_url, keys=f"{NEW_KEY},{OLD_KEY}") as rt:
        rotation = await connections.rotate_keys(rt, batch=1)
        assert (rotation.resealed, rotation.unreadable) == (2, ())
        assert (await connections.rotate_keys(rt)).resealed == 0  # nothing left to do
    async with opened(database_url, keys=NEW_KEY) as rt:
        views = await connections.list_connections(rt)
        assert {v.key_id for v in views} == {key_id(_raw(NEW_KEY))} and all(v.problem is None for v in views)
        lookup = await StoredConnections.for_runtime(rt).for_tenant(rt.tenant)
        assert lookup("crm").settings() == CRM and lookup("warehouse").settings() == WAREHOUSE
    assert SECRET not in await everything_stored(database_url)


def _raw(key: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(key)


@pytest.mark.asyncio
async def test_a_tenant_cannot_reach_another_tenants_connection(database_url: str) -> None:
    async with opened(database_url, tenant="acme") as acme, opened(database_url, tenant="globex") as globex:
        await connections.create_connection(acme, "crm", CRM)
        with pytest.raises(NotFound):
            await connections.get_connection(globex, "crm")
        with pytest.raises(NotFound):
            await connections.delete_connection(globex, "crm")
        assert await connections.list_connections(globex) == []
        source = StoredConnections.for_runtime(globex)
        with pytest.raises(ConfigurationError, match="no connection 'crm'"):
            (await source.for_tenant("globex"))("crm")
        await connections.create_connection(
            globex, "crm", {**CRM, "auth": {"kind": "bearer", "token": "globex"}}
        )
        assert (await source.for_tenant("acme"))("crm").settings() == CRM  # read again after the miss
        # acme's sealed settings copied into globex's row do not open there.
        acme_row = await acme.db.read(lambda conn: _row(conn, "acme"))
        await globex.db.transaction(
            lambda conn: conn.execute(
                update(connections_table)
                .where(connections_table.c.tenant_id == "globex")
                .values(payload=acme_row.payload, key_id=acme_row.key_id)
            )
        )
        fresh = StoredConnections.for_runtime(globex)
        with pytest.raises(ConfigurationError, match="belongs to another record") as refused:
            (await fresh.for_tenant("globex"))("crm")
        assert SECRET not in refused.value.message


async def _row(conn: Any, tenant: str) -> Any:
    stmt = connections_table.select().where(connections_table.c.tenant_id == tenant)
    return (await conn.execute(stmt)).one()


async def _scalars(conn: Any, stmt: Any) -> list[Any]:
    return list((await conn.execute(stmt)).scalars())


def test_run_takes_connections_from_a_file_or_the_database(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("apg_workflow.runtime.local.platform_registry", lambda: REGISTRY)
    (tmp_path / "echo.bpmn").write_text(calling("echo", "test.echo"))
    (tmp_path / "leaky.bpmn").write_text(calling("leaky", "test.leaky"))
    (tmp_path / "connections.yaml").write_text(json.dumps({"crm": CRM}))
    (tmp_path / "bad.yaml").write_text(f"crm: {{type: http, auth: {{kind: bearer, secret: {SECRET}}}}}\n")
    runner = CliRunner()
    env = _env(database_url)

    def run(*args: str) -> Any:
        return runner.invoke(app, ["run", *args, "--json"], env=env)

    from_file = run(str(tmp_path / "echo.bpmn"), "--connections", str(tmp_path / "connections.yaml"))
    assert json.loads(from_file.stdout.splitlines()[-1])["variables"] == {
        "token": "***",
        "note": "used ***",
        "authorized": True,
    }
    failed = run(str(tmp_path / "leaky.bpmn"), "--connections", str(tmp_path / "connections.yaml"))
    assert failed.exit_code == 1 and json.loads(failed.stdout.splitlines()[-1])["error"].endswith("token ***")
    bad = run(str(tmp_path / "echo.bpmn"), "--connections", str(tmp_path / "bad.yaml"))
    assert bad.exit_code == 2 and "connection 'crm': invalid http connection: auth.token" in bad.stderr
    missing = run(str(tmp_path / "echo.bpmn"))  # the database has no 'crm' yet
    assert "no connection 'crm'" in json.loads(missing.stdout.splitlines()[-1])["error"]
    stored = runner.invoke(
        app, ["connections", "create", "crm", "--type", "http", "--data", json.dumps(CRM)], env=env
    )
    assert stored.exit_code == 0
    from_database = run(str(tmp_path / "echo.bpmn"))
    assert json.loads(from_database.stdout.splitlines()[-1])["variables"]["authorized"] is True
    for result in (from_file, failed, bad, missing, from_database):
        assert SECRET not in result.stdout + result.stderr
