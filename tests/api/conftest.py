"""Fixtures of the API tests: the application on a fresh database (in process, through the ASGI
transport, with its lifespan running), an administrator's token, and a real server process on a
loopback port for the end-to-end tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from apg_workflow.api.app import create_app
from apg_workflow.runtime.context import Runtime
from apg_workflow.services import auth
from apg_workflow.settings import Settings
from tests.integration.store.databases import (  # noqa: F401  (fixtures)
    database_url,
    postgres_template,
    settings_for,
    sqlite_template,
)

ADMIN = ("admin", "admin-password")
BIN = Path(sys.executable).parent


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:  # noqa: F811
    target = tmp_path / "apg.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def api_settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return settings_for(sqlite_url, storage_root=tmp_path / "storage")


@pytest_asyncio.fixture
async def app(api_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(api_settings, background=True)
    async with application.router.lifespan_context(application):
        rt: Runtime = application.state.runtime
        await auth.create_user(rt, *ADMIN, roles=("admin",))
        yield application


async def token_for(client: httpx.AsyncClient, username: str, password: str) -> str:
    answer = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest_asyncio.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as c:
        yield c


@pytest_asyncio.fixture
async def admin_token(anonymous: httpx.AsyncClient) -> str:
    return await token_for(anonymous, *ADMIN)


@pytest_asyncio.fixture
async def client(app: FastAPI, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {admin_token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test", headers=headers) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    username: str
    password: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    def token(self) -> str:
        answer = httpx.post(
            f"{self.base_url}/api/v1/auth/login", json={"username": self.username, "password": self.password}
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])


def server_env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APG_") and k != "DATABASE_URL"}
    return env | {
        "DATABASE_URL": url,
        "APG_POLL_INTERVAL_SECONDS": "0.05",
        "APG_STORAGE_ROOT": str(tmp_path / "storage"),
        "APG_LOG_LEVEL": "WARNING",
        **extra,
    }


def start_server(
    env: dict[str, str], *, command: str = "server", port: int | None = None, log: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = port or free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115  (closed with the process)
    process = subprocess.Popen(
        [str(BIN / "apg-workflow"), command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=out,
        stderr=out,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the server exited with {process.returncode}" + (f"; see {log}" if log else "")
            )
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError("the server did not become ready in 30 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def live_server(sqlite_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """``apg-workflow server`` (API, worker, timers, schedules) on a free loopback port."""
    env = server_env(sqlite_url, tmp_path)
    subprocess.run(
        [str(BIN / "apg-workflow"), "user", "create", ADMIN[0], "--password", ADMIN[1], "--role", "admin"],
        env=env,
        check=True,
        capture_output=True,
    )
    process, base = start_server(env, log=tmp_path / "server.log")
    try:
        yield LiveServer(base, *ADMIN, process, env)
    finally:
        stop_server(process)
