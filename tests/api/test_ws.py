"""``/ws`` against real server processes (the ``websockets`` client): authentication, the three
topics, replay, tenant isolation, and two API processes on one PostgreSQL where a client of one sees
the events of an execution run through the other."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from apg_workflow.api import ws as ws_protocol
from apg_workflow.runtime.context import open_runtime
from apg_workflow.services import auth
from tests.api.conftest import ADMIN, LiveServer, server_env, start_server, stop_server
from tests.conftest import ROOT
from tests.integration.store.databases import settings_for

pytestmark = pytest.mark.asyncio

APPROVAL: dict[str, Any] = {
    "name": "Expense approval",
    "activities": [
        {"id": "start", "type": "startEvent"},
        {"id": "review", "type": "userTask", "name": "Review expense", "candidate_groups": ["managers"]},
        {"id": "end", "type": "endEvent"},
    ],
    "flows": [{"from": "start", "to": "review"}, {"from": "review", "to": "end"}],
}
RUN = ["execution.started", "task.created", "task.completed", "execution.completed"]


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/ws"


def login(base_url: str, username: str, password: str) -> str:
    answer = httpx.post(f"{base_url}/api/v1/auth/login", json={"username": username, "password": password})
    answer.raise_for_status()
    return str(answer.json()["access_token"])


@asynccontextmanager
async def live(base_url: str, token: str) -> AsyncIterator[ClientConnection]:
    """An authenticated connection (token in the first message)."""
    async with websockets.connect(ws_url(base_url)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        ready = json.loads(await ws.recv())
        assert ready["type"] == "ready", ready
        yield ws


async def ask(ws: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(message))
    return dict(json.loads(await asyncio.wait_for(ws.recv(), 10)))


async def events(ws: ClientConnection, count: int, *, timeout: float = 10.0) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while len(found) < count:
            message = json.loads(await ws.recv())
            if message["type"] == "event":
                found.append(message)
    return found


async def quiet(ws: ClientConnection, seconds: float = 0.5) -> bool:
    """Whether no message arrives for ``seconds``."""
    try:
        await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    return False


class Api:
    """The REST calls the tests drive the executions with."""

    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"})

    async def close(self) -> None:
        await self.http.aclose()

    async def create(self, name: str) -> str:
        answer = await self.http.post("/api/v1/workflows", json={**APPROVAL, "name": name})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    async def execute(self, key: str) -> str:
        answer = await self.http.post(f"/api/v1/workflows/{key}/execute", json={"variables": {"amount": 5}})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    async def complete_task_of(self, execution_id: str) -> None:
        for _ in range(100):
            tasks = (await self.http.get("/api/v1/tasks")).json()["items"]
            task = next((t for t in tasks if t["execution_id"] == execution_id), None)
            if task is not None:
                done = await self.http.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": {}})
                assert done.status_code == 200, done.text
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no task for execution {execution_id}")

    async def run(self, key: str) -> str:
        execution_id = await self.execute(key)
        await self.complete_task_of(execution_id)
        return execution_id


async def _users(database_url: str) -> None:
    async with open_runtime(settings_for(database_url)) as rt:
        await auth.create_user(rt, *ADMIN, roles=("admin",))
        await auth.create_user(rt, "maria", "maria-password", groups=("managers",))
        await auth.create_user(rt, "olaf", "olaf-password", groups=("sales",))
        await auth.create_tenant(rt, "acme")
        await auth.create_user(rt, "eve", "eve-password", tenant_id="acme")


@pytest.fixture(scope="module")
def server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One ``apg-workflow server`` for the tests of this module (each uses workflows of its own)."""
    tmp = tmp_path_factory.mktemp("ws")
    shutil.copy(sqlite_template, tmp / "apg.db")
    env = server_env(f"sqlite:///{tmp / 'apg.db'}", tmp)
    asyncio.run(_users(env["DATABASE_URL"]))
    process, base = start_server(env, log=tmp / "server.log")
    try:
        yield LiveServer(base, *ADMIN, process, env)
    finally:
        stop_server(process)


@pytest_asyncio.fixture
async def api(server: LiveServer) -> AsyncIterator[Api]:
    client = Api(server.base_url, server.token())
    yield client
    await client.close()


async def test_an_anonymous_or_wrong_token_is_closed_with_4401(server: LiveServer) -> None:
    async with websockets.connect(ws_url(server.base_url)) as ws:
        await ws.send(json.dumps({"type": "subscribe", "topic": "executions"}))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    async with websockets.connect(ws_url(server.base_url) + "?token=not-a-token") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert "not valid" in closed.value.rcvd.reason


async def test_a_run_s_events_arrive_in_order(server: LiveServer, api: Api) -> None:
    key = await api.create("Ordered run")
    async with websockets.connect(ws_url(server.base_url) + f"?token={server.token()}") as ws:
        assert json.loads(await ws.recv())["type"] == "ready"
        subscribed = await ask(ws, {"type": "subscribe", "topic": "executions", "id": "mine"})
        assert subscribed == {"type": "subscribed", "id": "mine", "topic": "executions", "replay": False}
        execution_id = await api.run(key)
        received = await events(ws, 4)
    assert [e["event"] for e in received] == RUN
    assert {e["execution_id"] for e in received} == {execution_id}
    assert {e["subscription"] for e in received} == {"mine"}
    assert [e["id"] for e in received] == sorted(e["id"] for e in received)
    assert received[1]["data"]["task"]["candidate_groups"] == ["managers"]
    assert received[0]["workflow_key"] == key


async def test_my_tasks_are_those_that_name_me_or_my_groups(server: LiveServer, api: Api) -> None:
    key = await api.create("My tasks")
    base = server.base_url
    async with (
        live(base, login(base, "maria", "maria-password")) as manager,
        live(base, login(base, "olaf", "olaf-password")) as seller,
    ):
        for ws in (manager, seller):
            assert (await ask(ws, {"type": "subscribe", "topic": "tasks"}))["type"] == "subscribed"
        execution_id = await api.run(key)
        received = await events(manager, 2)
        assert await quiet(seller)
    assert [e["event"] for e in received] == ["task.created", "task.completed"]
    assert {e["execution_id"] for e in received} == {execution_id}


async def test_another_tenant_sees_none_of_the_events(server: LiveServer, api: Api) -> None:
    key = await api.create("Tenant run")
    async with live(server.base_url, login(server.base_url, "eve", "eve-password")) as outsider:
        await ask(outsider, {"type": "subscribe", "topic": "executions"})
        await ask(outsider, {"type": "subscribe", "topic": "workflows"})
        await api.run(key)
        await api.create("Another one")
        assert await quiet(outsider, 1.0)
        missing = await ask(outsider, {"type": "subscribe", "topic": "executions", "execution_id": "x"})
    assert missing["type"] == "error" and missing["code"] == "not-found"


async def test_workflow_topic_and_replay(server: LiveServer, api: Api) -> None:
    async with live(server.base_url, server.token()) as ws:
        await ask(ws, {"type": "subscribe", "topic": "workflows", "id": "defs"})
        key = await api.create("Definitions")
        created = await events(ws, 2)
        assert [e["event"] for e in created] == ["workflow.created", "workflow.deployed"]
        assert {e["workflow_key"] for e in created} == {key}
        await ask(ws, {"type": "unsubscribe", "id": "defs"})

        execution_id = await api.execute(key)
        await asyncio.sleep(0.3)  # its first events are in the past now
        replayed = await ask(
            ws, {"type": "subscribe", "topic": "executions", "execution_id": execution_id, "replay": True}
        )
        assert replayed["type"] == "subscribed"
        await api.complete_task_of(execution_id)
        received = await events(ws, 4)
    assert [e["event"] for e in received] == RUN


async def test_ping_and_bad_messages_keep_the_connection(server: LiveServer) -> None:
    async with live(server.base_url, server.token()) as ws:
        assert await ask(ws, {"type": "ping", "data": 7}) == {"type": "pong", "data": 7}
        bad = await ask(ws, {"type": "subscribe", "topic": "everything"})
        assert bad["type"] == "error" and bad["code"] == "invalid-message" and "topic" in bad["message"]
        assert (await ask(ws, {"type": "unsubscribe", "id": "nope"}))["code"] == "unknown-subscription"
        odd = {"type": "subscribe", "topic": "executions", "events": ["execution.exploded"]}
        unknown = await ask(ws, odd)
        assert unknown["code"] == "invalid-message" and "execution.exploded" in unknown["message"]
        await ws.send("not json")
        assert json.loads(await ws.recv())["code"] == "invalid-message"
        assert (await ask(ws, {"type": "ping"}))["type"] == "pong"


# Two API processes on one PostgreSQL --------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("wakeup", ["notify", pytest.param("redis", marks=pytest.mark.redis)])
async def test_a_client_of_one_process_sees_a_run_through_another(
    database_url: str, wakeup: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    extra = {"APG_POLL_INTERVAL_SECONDS": "30"}  # so only a wake-up can deliver in time
    if wakeup == "redis":
        extra["APG_REDIS_URL"] = request.getfixturevalue("redis_url")
    env = server_env(database_url, tmp_path, **extra)
    await _users(database_url)
    first, base_a = start_server(env, command="api", log=tmp_path / "a.log")
    try:
        second, base_b = start_server(env, command="api", log=tmp_path / "b.log")
        try:
            api = Api(base_b, login(base_b, *ADMIN))
            try:
                async with live(base_a, login(base_a, *ADMIN)) as ws:
                    await ask(ws, {"type": "subscribe", "topic": "executions"})
                    await asyncio.sleep(0.5)  # A's tail is listening
                    key = await api.create("Two processes")
                    loop = asyncio.get_running_loop()
                    began = loop.time()
                    execution_id = await api.run(key)
                    received = await events(ws, 4, timeout=20)
                    waited = loop.time() - began
            finally:
                await api.close()
        finally:
            stop_server(second)
    finally:
        stop_server(first)
    assert [e["event"] for e in received] == RUN
    assert {e["execution_id"] for e in received} == {execution_id}
    assert waited < 10, f"process A's tail waited {waited:.1f}s for a wake-up"


# The examples of docs/websocket.md ----------------------------------------------------------------

DOC = (ROOT / "docs" / "websocket.md").read_text(encoding="utf-8")
DOC_MESSAGES = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", DOC, re.DOTALL)]
DOC_PROGRAMS = re.findall(r"```python\n(.*?)```", DOC, re.DOTALL)
CLIENT_TYPES = {"auth", "subscribe", "unsubscribe", "ping"}


@pytest.mark.parametrize("message", DOC_MESSAGES, ids=[f"message{i}" for i in range(len(DOC_MESSAGES))])
async def test_each_documented_message_is_one_of_the_protocol(message: dict[str, Any]) -> None:
    if message["type"] in CLIENT_TYPES:
        assert ws_protocol.parse(json.dumps(message)).type == message["type"]
    else:
        assert message["type"] in {"ready", "subscribed", "event"}


async def test_the_documented_program_runs(server: LiveServer) -> None:
    assert len(DOC_MESSAGES) >= 7 and len(DOC_PROGRAMS) == 1
    printed = (await run_example(DOC_PROGRAMS[0], server)).splitlines()
    assert [line.split(" ", 1)[1] for line in printed[2:]] == RUN


async def run_example(program: str, server: LiveServer) -> str:
    """Run a documented Python program against ``server``; what it printed."""
    env = {**os.environ, "APG_URL": server.base_url, "APG_TOKEN": server.token()}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", program, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()
