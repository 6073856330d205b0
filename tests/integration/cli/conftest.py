from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from apg_workflow.cli import app


class Invocation:
    def __init__(self, exit_code: int, stdout: str, stderr: str) -> None:
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr

    @property
    def json(self) -> Any:
        """The JSON object on the last line of standard output (the CLI contract)."""
        return json.loads(self.stdout.strip().splitlines()[-1])

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def cli() -> Callable[..., Invocation]:
    runner = CliRunner()

    def invoke(*args: str | Path) -> Invocation:
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        assert "Traceback" not in result.stdout + result.stderr
        return Invocation(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write
