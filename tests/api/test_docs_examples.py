"""The examples of docs/api.md run: every fenced block right after a ``<!-- test -->`` line, in the
order of the document, against a real ``apg-workflow server`` process.

Python blocks run in one namespace (a later block may use what an earlier one defined) that starts
with ``BASE_URL``, ``TOKEN`` (an administrator's access token), ``USERNAME`` and ``PASSWORD``; the
shell blocks (curl) run under ``bash -euo pipefail`` with the same four in the environment. A block
fails the test when it raises or exits non-zero, so an example that calls a path, sends a body or
reads a field the API no longer has is caught (``curl --fail`` and ``raise_for_status()`` make HTTP
errors count)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import LiveServer
from tests.conftest import ROOT

DOC = ROOT / "docs" / "api.md"
MARK = "<!-- test -->"
FENCE = re.compile(r"^```(\w*)\s*$")
SHELL = ("bash", "sh", "shell", "console")
# The sections that must each show both a curl and a Python example.
FAMILIES = (
    "Authentication",
    "Workflows",
    "Executions",
    "User tasks",
    "Incidents",
    "Messages and signals",
    "Schedules",
    "Templates and components",
    "Webhooks",
    "Users and the audit log",
    "Batches (v2)",
    "GraphQL",
    "Health and metrics",
)


@dataclass(frozen=True)
class Example:
    """A fenced block of the document that the tests run."""

    line: int  # of its opening fence, from 1
    language: str
    code: str
    section: str  # the ``## `` heading it stands under

    @property
    def is_shell(self) -> bool:
        return self.language in SHELL


def examples(text: str) -> list[Example]:
    """The blocks marked ``<!-- test -->`` (the marker on the line before the fence, blank lines
    allowed between them)."""
    lines = text.splitlines()
    found: list[Example] = []
    section = ""
    marked = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        fence = FENCE.match(line)
        if fence is not None:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines))
            if marked:
                found.append(Example(i + 1, fence.group(1), "\n".join(lines[i + 1 : end]) + "\n", section))
            marked = False
            i = end + 1
            continue
        if line.strip() == MARK:
            marked = True
        elif line.strip():
            marked = False
        i += 1
    return found


def test_every_family_has_a_curl_and_a_python_example() -> None:
    found = examples(DOC.read_text())
    kinds: dict[str, set[str]] = {}
    for example in found:
        kinds.setdefault(example.section, set()).add("shell" if example.is_shell else example.language)
    missing = {
        family: sorted({"shell", "python"} - kinds.get(family, set()))
        for family in FAMILIES
        if {"shell", "python"} - kinds.get(family, set())
    }
    assert not missing, f"sections of docs/api.md without a tested curl or Python example: {missing}"
    assert {e.language for e in found} <= {"python", *SHELL}, "only Python and shell blocks can be run"


def _run_python(example: Example, namespace: dict[str, Any]) -> str | None:
    try:
        exec(compile(example.code, f"docs/api.md:{example.line}", "exec"), namespace)
    except Exception:  # any failure of an example is reported with its traceback
        return traceback.format_exc(limit=-3)
    return None


def _run_shell(example: Example, env: dict[str, str]) -> str | None:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", example.code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode == 0:
        return None
    return f"exit code {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"


@pytest.mark.timeout(600)
def test_the_examples_of_docs_api_md_run(live_server: LiveServer, tmp_path: Path) -> None:
    found = examples(DOC.read_text())
    assert found, "docs/api.md has no example marked <!-- test -->"
    can_shell = all(shutil.which(tool) for tool in ("bash", "curl", "jq"))
    given = {
        "BASE_URL": live_server.base_url,
        "TOKEN": live_server.token(),
        "USERNAME": live_server.username,
        "PASSWORD": live_server.password,
    }
    namespace: dict[str, Any] = {"__name__": "docs_api_example", **given}
    env = {k: v for k, v in os.environ.items() if not k.startswith("APG_")} | given | {"HOME": str(tmp_path)}
    skipped = 0
    for example in found:
        if example.is_shell and not can_shell:
            skipped += 1
            continue
        failure = _run_shell(example, env) if example.is_shell else _run_python(example, namespace)
        if failure is not None:
            log = (tmp_path / "server.log").read_text(errors="replace")[-4000:]
            pytest.fail(
                f"the example at docs/api.md:{example.line} ({example.section}) failed:\n"
                f"{example.code}\n{failure}\nserver log:\n{log}"
            )
    if skipped:
        pytest.skip(f"{skipped} shell examples not run: bash, curl or jq is missing")


LINK = re.compile(r"\]\(([\w./-]+\.md)(?:#([\w-]+))?\)")


def _anchors(markdown: str) -> set[str]:
    """The anchors of the headings, as GitHub makes them."""
    found = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return found


def test_the_links_of_docs_api_md_lead_somewhere() -> None:
    broken = []
    for target, anchor in LINK.findall(DOC.read_text()):
        page = DOC.parent / target
        if not page.exists() or (anchor and anchor not in _anchors(page.read_text())):
            broken.append(f"{target}#{anchor}" if anchor else target)
    assert not broken, f"docs/api.md links to what does not exist: {broken}"
