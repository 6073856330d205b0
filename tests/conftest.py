"""Shared fixtures. Suites that need a server use ``postgres_url`` / ``redis_url``: without a
server they are skipped, unless ``APG_REQUIRE_SERVICES=1`` (as in ``.ci/run``) makes that a failure."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Third-party BPMN corpora, vendored with their licence (see tests/conformance/bpmn-miwg/PROVENANCE.md).
MIWG = ROOT / "tests" / "conformance" / "bpmn-miwg"


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def _service(name: str, env: str, default: str) -> str:
    url = os.environ.get(env, default)
    if not _reachable(url):
        message = f"{name} is not reachable at {url} (set {env})"
        if os.environ.get("APG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message}; APG_REQUIRE_SERVICES=1 makes it mandatory")
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return _service("PostgreSQL", "APG_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return _service("Redis", "APG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
