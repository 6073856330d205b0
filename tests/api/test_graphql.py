"""GraphQL at /api/beta/graphql with the ``gql`` client against a real server process: create a
workflow, execute it, query it, complete its task, and watch its events on a subscription; errors
come back as ``{success: false, errors}``; a list of workflows with their statistics makes the same
few SQL statements whatever its length (DataLoaders)."""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
import websockets
from fastapi import FastAPI
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportQueryError, TransportServerError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from graphql import parse, validate
from sqlalchemy import event
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from apg_workflow.api.graphql import PATH, schema
from tests.api.conftest import LiveServer
from tests.api.test_ws import APPROVAL, RUN, login, run_example, server  # noqa: F401  (fixture)
from tests.conftest import ROOT

pytestmark = pytest.mark.asyncio

CREATE = """
mutation Create($name: String!, $definition: JSON!) {
  createWorkflow(name: $name, workflowDefinition: $definition) {
    success
    errors { code message elementId }
    workflow { id name status version }
  }
}"""
EXECUTE = """
mutation Execute($id: ID!, $parameters: JSON) {
  executeWorkflow(workflowId: $id, parameters: $parameters) {
    success
    errors { code message }
    execution { id status progress variables }
  }
}"""
TASKS = 'query { tasks(status: "open") { id executionId elementId name candidateGroups } }'
COMPLETE = """
mutation Complete($id: ID!, $variables: JSON) {
  completeTask(taskId: $id, variables: $variables) { success errors { code message } task { id status } }
}"""
EXECUTION = """
query Execution($id: ID!) {
  execution(id: $id) { id status progress duration startedAt completedAt variables }
}"""
WORKFLOWS = "query { workflows(limit: 50) { id name description status executionCount successRate } }"
EXECUTION_EVENTS = """
subscription Events($id: ID!) {
  executionEvents(executionId: $id, replay: true) { id event executionId data }
}"""
TASK_EVENTS = "subscription { taskEvents { id event executionId data } }"


def graphql_url(base_url: str) -> str:
    return base_url + PATH


@asynccontextmanager
async def session(base_url: str, token: str) -> AsyncIterator[AsyncClientSession]:
    transport = HTTPXAsyncTransport(url=graphql_url(base_url), headers={"Authorization": f"Bearer {token}"})
    async with Client(transport=transport, fetch_schema_from_transport=False) as client:
        yield client


@asynccontextmanager
async def subscriptions(base_url: str, token: str | None) -> AsyncIterator[AsyncClientSession]:
    url = graphql_url(base_url).replace("http://", "ws://", 1)
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    transport = WebsocketsTransport(url=url, init_payload=payload, subprotocols=["graphql-transport-ws"])
    async with Client(transport=transport, fetch_schema_from_transport=False) as client:
        yield client


async def run(client: AsyncClientSession, document: str, **variables: Any) -> dict[str, Any]:
    return dict(await client.execute(GraphQLRequest(document, variable_values=variables or None)))


async def events(
    client: AsyncClientSession, document: str, count: int, *, timeout: float = 10.0, **variables: Any
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def collect() -> None:
        request = GraphQLRequest(document, variable_values=variables or None)
        async for result in client.subscribe(request):
            found.append(next(iter(result.values())))
            if len(found) == count:
                return

    await asyncio.wait_for(collect(), timeout)
    return found


async def create_and_execute(client: AsyncClientSession, name: str) -> tuple[str, str]:
    created = (await run(client, CREATE, name=name, definition=APPROVAL))["createWorkflow"]
    assert created["success"] and created["errors"] == [], created
    started = await run(client, EXECUTE, id=created["workflow"]["id"], parameters={"amount": 42})
    execution = started["executeWorkflow"]["execution"]
    return created["workflow"]["id"], execution["id"]


async def open_task(client: AsyncClientSession, execution_id: str) -> dict[str, Any]:
    for _ in range(100):
        found = [t for t in (await run(client, TASKS))["tasks"] if t["executionId"] == execution_id]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no open task for {execution_id}")


async def test_the_lifecycle_with_the_gql_client(server: LiveServer) -> None:  # noqa: F811
    async with session(server.base_url, server.token()) as client:
        created = (await run(client, CREATE, name="Graph lifecycle", definition=APPROVAL))["createWorkflow"]
        assert created["success"] and created["errors"] == []
        workflow = created["workflow"]
        assert workflow["name"] == "Graph lifecycle" and workflow["version"] == 1
        assert workflow["status"] == "active"

        started = (await run(client, EXECUTE, id=workflow["id"], parameters={"amount": 42}))[
            "executeWorkflow"
        ]
        assert started["success"], started
        execution = started["execution"]
        assert execution["status"] in ("running", "pending") and execution["variables"] == {"amount": 42}

        task = await open_task(client, execution["id"])
        assert task["elementId"] == "review" and task["candidateGroups"] == ["managers"]
        done = (await run(client, COMPLETE, id=task["id"], variables={"approved": True}))["completeTask"]
        assert done == {"success": True, "errors": [], "task": {"id": task["id"], "status": "completed"}}

        shown = (await run(client, EXECUTION, id=execution["id"]))["execution"]
        assert shown["status"] == "completed" and shown["progress"] == 1.0
        assert shown["variables"] == {"amount": 42, "approved": True}
        assert shown["completedAt"] is not None and shown["duration"] >= 0

        listed = {w["id"]: w for w in (await run(client, WORKFLOWS))["workflows"]}
        assert listed[workflow["id"]]["executionCount"] == 1
        assert listed[workflow["id"]]["successRate"] == 1.0


async def test_an_execution_subscription_receives_its_events(server: LiveServer) -> None:  # noqa: F811
    token = server.token()
    async with session(server.base_url, token) as client, subscriptions(server.base_url, token) as live:
        _, execution_id = await create_and_execute(client, "Graph subscription")
        watching = asyncio.create_task(events(live, EXECUTION_EVENTS, 4, id=execution_id))
        await asyncio.sleep(0.5)  # subscribed (the replay covers what came before)
        task = await open_task(client, execution_id)
        await run(client, COMPLETE, id=task["id"])
        received = await watching
    assert [e["event"] for e in received] == RUN
    assert {e["executionId"] for e in received} == {execution_id}
    assert received[1]["data"]["task"]["candidate_groups"] == ["managers"]


async def test_task_events_are_those_of_my_groups(server: LiveServer) -> None:  # noqa: F811
    manager = login(server.base_url, "maria", "maria-password")
    async with (
        session(server.base_url, server.token()) as client,
        subscriptions(server.base_url, manager) as live,
    ):
        watching = asyncio.create_task(events(live, TASK_EVENTS, 1))
        await asyncio.sleep(0.5)
        _, execution_id = await create_and_execute(client, "Graph my tasks")
        (created,) = await watching
    assert created["event"] == "task.created" and created["executionId"] == execution_id


async def test_refusals_come_back_as_errors(server: LiveServer) -> None:  # noqa: F811
    broken = {**APPROVAL, "flows": [{"from": "start", "to": "nowhere"}]}
    async with session(server.base_url, server.token()) as client:
        created = (await run(client, CREATE, name="Broken", definition=broken))["createWorkflow"]
        assert created["success"] is False and created["workflow"] is None
        assert created["errors"] and all(e["code"] for e in created["errors"])
        assert any("nowhere" in e["message"] for e in created["errors"])

        missing = (await run(client, EXECUTE, id="no-such-workflow"))["executeWorkflow"]
        assert missing["success"] is False and missing["errors"][0]["code"] == "not-found"
        assert (await run(client, EXECUTION, id="no-such-execution"))["execution"] is None

        with pytest.raises(TransportQueryError, match="Cannot query field"):
            await run(client, "query { nothing }")


async def test_anonymous_calls_are_refused(server: LiveServer) -> None:  # noqa: F811
    anonymous = await httpx.AsyncClient().post(graphql_url(server.base_url), json={"query": WORKFLOWS})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    with pytest.raises(TransportServerError):
        async with session(server.base_url, "wrong-token") as client:
            await run(client, WORKFLOWS)
    for payload in ({}, {"Authorization": "Bearer wrong-token"}):
        assert await refused_code(server.base_url, payload) == 4403


async def refused_code(base_url: str, payload: dict[str, Any]) -> int | None:
    """The close code a subscription connection gets for ``connection_init`` with ``payload``."""
    url = graphql_url(base_url).replace("http://", "ws://", 1)
    async with websockets.connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


async def test_graphiql_is_served(server: LiveServer) -> None:  # noqa: F811
    page = await httpx.AsyncClient().get(graphql_url(server.base_url), headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


# A bounded number of statements -----------------------------------------------------------------

_counting: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("counting", default=None)


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements run by the code inside the block (not by the background loops)."""
    engine = app.state.runtime.db.engine.sync_engine
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found = _counting.get()
        if found is not None:
            found.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    token = _counting.set(seen)
    try:
        yield seen
    finally:
        _counting.reset(token)
        event.remove(engine, "before_cursor_execute", record)


async def _graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    answer = await client.post(PATH, json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    return dict(body["data"])


async def test_workflow_statistics_load_in_one_batch(app: FastAPI, client: httpx.AsyncClient) -> None:
    async def count_for_list() -> tuple[int, int]:
        with statements(app) as seen:
            listed = (await _graphql(client, WORKFLOWS))["workflows"]
        return len(listed), len(seen)

    async def add(index: int) -> None:
        created = await _graphql(client, CREATE, name=f"Counted {index}", definition=APPROVAL)
        key = created["createWorkflow"]["workflow"]["id"]
        await _graphql(client, EXECUTE, id=key)

    await add(0)
    few, few_statements = await count_for_list()
    for index in range(1, 12):
        await add(index)
    many, many_statements = await count_for_list()
    assert (few, many) == (1, 12)
    assert 2 <= few_statements == many_statements <= 4, (few_statements, many_statements)


# The examples of docs/graphql.md ------------------------------------------------------------------

DOC = (ROOT / "docs" / "graphql.md").read_text(encoding="utf-8")
DOC_OPERATIONS = re.findall(r"```graphql\n(.*?)```", DOC, re.DOTALL)
DOC_PROGRAMS = re.findall(r"```python\n(.*?)```", DOC, re.DOTALL)


@pytest.mark.parametrize(
    "operation", DOC_OPERATIONS, ids=[f"graphql#{i}" for i in range(len(DOC_OPERATIONS))]
)
async def test_each_documented_operation_fits_the_schema(operation: str) -> None:
    assert validate(schema._schema, parse(operation)) == []


async def test_the_documented_program_runs(server: LiveServer) -> None:  # noqa: F811
    assert len(DOC_OPERATIONS) >= 8 and len(DOC_PROGRAMS) == 1
    printed = await run_example(DOC_PROGRAMS[0], server)
    assert printed.splitlines()[-1] == str(
        ["execution.started", "task.created", "task.completed", "execution.completed"]
    )
