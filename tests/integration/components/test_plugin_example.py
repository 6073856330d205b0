"""examples/custom-component is found through its entry point, as when it is installed.

Installing it for real (``pip install``) would change the project's environment or need the network
to build in isolation, and a fresh venv takes a minute. Discovery only reads package metadata: the
test writes the ``.dist-info`` a pip install would (its ``entry_points.txt`` taken from the example's
own ``pyproject.toml``) into a temporary directory, puts it and the example's ``src`` on the path,
and from there everything is real: ``importlib.metadata`` finds the entry point, the registry loads
the package, the CLI lists it and the example's own tests pass in a separate interpreter.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apg_workflow.cli import app
from apg_workflow.components import ENTRY_POINT_GROUP, default_registry
from tests.conftest import ROOT
from tests.integration.components.support import run

EXAMPLE = ROOT / "examples" / "custom-component"


def _installed_metadata(target: Path) -> None:
    """The ``.dist-info`` of the example, as ``pip install`` writes it."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dist_info = target / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n", encoding="utf-8"
    )
    entries = project["entry-points"][ENTRY_POINT_GROUP]
    lines = [f"[{ENTRY_POINT_GROUP}]", *(f"{name} = {value}" for name, value in entries.items())]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _installed_metadata(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.mark.asyncio
async def test_the_registry_finds_and_runs_the_plugin(installed: Path) -> None:
    registry = default_registry()
    assert registry.get("example.greet").__module__ == "apg_workflow_example_greeting"
    outputs = await run("example.greet", {"language": "de"}, {"name": "Ada"}, registry=registry)
    assert outputs == {"greeting": "Hallo, Ada!"}
    assert await run("noop", {}, {"a": 1}, registry=registry) == {"a": 1}  # beside the built-ins


def test_the_cli_lists_the_plugin_apart_from_the_built_ins(installed: Path) -> None:
    result = CliRunner().invoke(app, ["components", "list", "--json", "--category", "example"])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["components"]
    assert (entry["type"], entry["builtin"]) == ("example.greet", False)
    assert entry["schema"]["properties"]["language"]["enum"] == ["en", "fr", "de"]


def test_the_examples_own_tests_pass(installed: Path) -> None:
    path = os.pathsep.join([str(installed), str(EXAMPLE / "src"), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        cwd=EXAMPLE,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b\d+ passed", result.stdout), result.stdout
