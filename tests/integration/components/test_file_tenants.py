"""Every tenant has its own directory of the storage root (``<storage_root>/<tenant_id>``): file
components, and every component that reads the storage root (decision.evaluate, ml.predict, e-mail
attachments, S3 transfers), see only the files of the tenant their job runs for."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from apg_workflow.components import BpmnError, ComponentContext, ConfigurationError
from apg_workflow.components.builtins.integration.storage import PathNotAllowed
from apg_workflow.runtime.registry import platform_registry
from tests.conftest import ROOT

pytestmark = pytest.mark.asyncio

REGISTRY = platform_registry()
DISCOUNT = ROOT / "tests" / "fixtures" / "dmn" / "dmn11_discount.dmn"


async def run_as(
    tenant: str | None, type_name: str, config: Mapping[str, Any], root: Path, **inputs: Any
) -> Mapping[str, Any]:
    """The outputs of component ``type_name`` run for a job of ``tenant``."""
    component = REGISTRY.create(type_name)
    context = ComponentContext(
        job_id="job-1",
        attempt=1,
        execution_id="execution-1",
        element_id="task-1",
        logger=logging.getLogger("tests.components"),
        storage_root=root,
        tenant_id=tenant,
    )
    return await component.run(context, component.parse_config(config), inputs)


async def test_each_tenant_reads_and_writes_its_own_directory(tmp_path: Path) -> None:
    for tenant in ("acme", "globex"):
        config = {"path": "reports/today.txt", "content": f"{tenant} only"}
        assert (await run_as(tenant, "file.write", config, tmp_path))["path"] == "reports/today.txt"

    assert (tmp_path / "acme" / "reports" / "today.txt").read_text() == "acme only"
    assert (tmp_path / "globex" / "reports" / "today.txt").read_text() == "globex only"
    read = await run_as("acme", "file.read", {"path": "reports/today.txt"}, tmp_path)
    assert read["content"] == "acme only"
    listed = await run_as("globex", "file.list", {"pattern": "**/*"}, tmp_path)
    assert [entry["path"] for entry in listed["files"]] == ["reports/today.txt"]


async def test_a_tenant_cannot_reach_another_tenants_files(tmp_path: Path) -> None:
    await run_as("globex", "file.write", {"path": "secret.txt", "content": "globex's"}, tmp_path)

    with pytest.raises(BpmnError, match=r"there is no file 'secret\.txt'"):
        await run_as("acme", "file.read", {"path": "secret.txt"}, tmp_path)
    with pytest.raises(PathNotAllowed, match=r"contains '\.\.'"):
        await run_as("acme", "file.read", {"path": "../globex/secret.txt"}, tmp_path)
    with pytest.raises(PathNotAllowed, match="absolute path"):
        await run_as("acme", "file.read", {"path": str(tmp_path / "globex" / "secret.txt")}, tmp_path)
    assert (await run_as("acme", "file.list", {}, tmp_path))["files"] == []
    assert (await run_as("acme", "file.delete", {"path": "secret.txt"}, tmp_path))["deleted"] is False
    assert (tmp_path / "globex" / "secret.txt").read_text() == "globex's"


async def test_a_link_into_another_tenants_directory_is_refused(tmp_path: Path) -> None:
    await run_as("globex", "file.write", {"path": "ledger/q1.csv", "content": "1,2\n"}, tmp_path)
    await run_as("acme", "file.write", {"path": "mine.txt", "content": "acme's"}, tmp_path)
    (tmp_path / "acme" / "borrowed").symlink_to(tmp_path / "globex" / "ledger")

    with pytest.raises(PathNotAllowed, match="leads outside the storage root through a symbolic link"):
        await run_as("acme", "file.read", {"path": "borrowed/q1.csv"}, tmp_path)
    listed = await run_as("acme", "file.list", {"pattern": "**/*"}, tmp_path)
    assert [entry["path"] for entry in listed["files"]] == ["mine.txt"]


async def test_tenant_ids_map_to_one_directory_each(tmp_path: Path) -> None:
    await run_as("north/eu", "file.write", {"path": "a.txt", "content": "slash"}, tmp_path)
    await run_as("north", "file.write", {"path": "a.txt", "content": "plain"}, tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["north", "north%2Feu"]
    assert (tmp_path / "north%2Feu" / "a.txt").read_text() == "slash"
    assert (tmp_path / "north" / "a.txt").read_text() == "plain"
    with pytest.raises(ConfigurationError, match=r"the tenant id '\.\.' cannot name a storage directory"):
        await run_as("..", "file.read", {"path": "a.txt"}, tmp_path)


async def test_other_components_reading_the_storage_root_see_the_tenants_directory(tmp_path: Path) -> None:
    (tmp_path / "acme" / "rules").mkdir(parents=True)
    shutil.copy(DISCOUNT, tmp_path / "acme" / "rules" / "discount.dmn")
    config = {"file": "rules/discount.dmn", "output_variable": "percent"}

    decided = await run_as("acme", "decision.evaluate", config, tmp_path, customerType="Business", years=6)
    assert decided == {"percent": 12.5}
    with pytest.raises(ConfigurationError, match=r"no file 'rules/discount\.dmn'"):
        await run_as("globex", "decision.evaluate", config, tmp_path, customerType="Business", years=6)


async def test_without_a_tenant_paths_are_relative_to_the_root_itself(tmp_path: Path) -> None:
    await run_as(None, "file.write", {"path": "local.txt", "content": "in memory"}, tmp_path)
    assert (tmp_path / "local.txt").read_text() == "in memory"
