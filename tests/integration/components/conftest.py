"""Fixtures for component tests against real counterparts: a loopback HTTP server that records what it
receives and answers through per-path handlers, and ``run_component`` to run a component the way a
worker does (configuration parsed, a real context)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from apg_workflow.components import Component, ComponentContext


@dataclass(frozen=True)
class Received:
    """One request the loopback server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, Mapping[str, str], bytes | str | Any]
Handler = Callable[[Received], Reply]


def _echo(request: Received) -> Reply:
    body = request.body.decode("utf-8", "replace")
    return 200, {}, {"method": request.method, "path": request.path, "query": request.query, "body": body}


@dataclass
class LoopbackHttp:
    """A threaded HTTP/1.1 server on 127.0.0.1. Unrouted paths echo the request as JSON."""

    server: ThreadingHTTPServer
    routes: dict[str, Handler] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def answer(self, request: Received) -> Reply:
        self.received.append(request)
        return self.routes.get(request.path, _echo)(request)


def _handler_class(loopback: Callable[[], LoopbackHttp]) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            request = Received(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            status, headers, body = loopback().answer(request)
            if not isinstance(body, bytes | str):
                body = json.dumps(body)
                headers = {"Content-Type": "application/json", **headers}
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client hung up first: a size cap or a timeout under test

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return

    return RequestHandler


@pytest.fixture
def http_server() -> Iterator[LoopbackHttp]:
    holder: list[LoopbackHttp] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(lambda: holder[0]))
    server.daemon_threads = True
    holder.append(LoopbackHttp(server))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield holder[0]
    server.shutdown()
    server.server_close()


RunComponent = Callable[..., Awaitable[Mapping[str, Any]]]


@pytest.fixture
def run_component() -> RunComponent:
    """``await run_component(ComponentClass, config, inputs, connections={...}, storage_root=...)``."""

    async def run(
        component: type[Component[Any]],
        config: Mapping[str, Any],
        inputs: Mapping[str, Any] | None = None,
        *,
        connections: Mapping[str, Mapping[str, Any]] | None = None,
        storage_root: Path | None = None,
        job_id: str = "job-1",
        deadline: datetime | None = None,
        sleeper: Callable[[float], Awaitable[None]] | None = None,
    ) -> Mapping[str, Any]:
        instance = component()
        parsed = instance.parse_config(config)
        known = dict(connections or {})

        def connection(name: str) -> Mapping[str, Any]:
            return known[name]

        context = ComponentContext(
            job_id=job_id,
            attempt=1,
            execution_id="execution-1",
            element_id="task-1",
            logger=logging.getLogger("tests.components"),
            deadline=deadline,
            connections=connection,
            storage_root=storage_root,
        )
        if sleeper is not None:
            context.sleeper = sleeper
        return await instance.run(context, parsed, dict(inputs or {}))

    return run
