"""file.read / write / list / delete in a real temporary directory, confined to the storage root."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from apg_workflow.components import BpmnError, ConfigurationError
from apg_workflow.components.builtins.integration.files import FileDelete, FileList, FileRead, FileWrite
from apg_workflow.components.builtins.integration.storage import PathNotAllowed

from .conftest import RunComponent

pytestmark = pytest.mark.asyncio


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "storage"
    root.mkdir()
    return root


async def test_text_round_trip_with_placeholders_and_directories(
    root: Path, run_component: RunComponent
) -> None:
    invoice = {"id": "INV-7", "total": 120, "customer": "Zoë"}
    out = await run_component(
        FileWrite,
        {"path": "invoices/${invoice.id}.json", "content": "${invoice}"},
        {"invoice": invoice},
        storage_root=root,
    )
    assert out == {
        "path": "invoices/INV-7.json",
        "size": len(json.dumps(invoice, ensure_ascii=False).encode()),
        "created": True,
    }
    assert json.loads((root / "invoices" / "INV-7.json").read_text()) == invoice
    read = await run_component(FileRead, {"path": "invoices/INV-7.json"}, storage_root=root)
    assert json.loads(read["content"]) == invoice
    again = await run_component(
        FileWrite, {"path": "invoices/INV-7.json", "content": "v2"}, storage_root=root
    )
    assert again["created"] is False
    assert (root / "invoices" / "INV-7.json").read_text() == "v2"
    assert [p.name for p in (root / "invoices").iterdir()] == ["INV-7.json"]  # no temporary left behind


async def test_binary_mode_uses_base64(root: Path, run_component: RunComponent) -> None:
    data = bytes(range(256))
    await run_component(
        FileWrite,
        {"path": "blob.bin", "content": base64.b64encode(data).decode(), "mode": "binary"},
        storage_root=root,
    )
    assert (root / "blob.bin").read_bytes() == data
    out = await run_component(FileRead, {"path": "blob.bin", "mode": "binary"}, storage_root=root)
    assert base64.b64decode(out["content"]) == data and out["size"] == 256
    with pytest.raises(BpmnError) as caught:
        await run_component(FileRead, {"path": "blob.bin"}, storage_root=root)
    assert caught.value.code == "file-not-text"
    with pytest.raises(ConfigurationError, match="base64"):
        await run_component(
            FileWrite, {"path": "x.bin", "content": "not base64!", "mode": "binary"}, storage_root=root
        )


async def test_append_and_fail_if_exists(root: Path, run_component: RunComponent) -> None:
    for line in ("a\n", "b\n"):
        await run_component(
            FileWrite, {"path": "log.txt", "content": line, "if_exists": "append"}, storage_root=root
        )
    assert (root / "log.txt").read_text() == "a\nb\n"
    with pytest.raises(BpmnError) as caught:
        await run_component(
            FileWrite, {"path": "log.txt", "content": "c", "if_exists": "fail"}, storage_root=root
        )
    assert caught.value.code == "file-exists"
    assert (root / "log.txt").read_text() == "a\nb\n"


async def test_list_with_glob_and_delete(root: Path, run_component: RunComponent) -> None:
    for name in ("inbox/a.csv", "inbox/b.csv", "inbox/c.txt", "inbox/deep/d.csv"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    flat = await run_component(FileList, {"directory": "inbox", "pattern": "*.csv"}, storage_root=root)
    assert [f["path"] for f in flat["files"]] == ["inbox/a.csv", "inbox/b.csv"]
    assert flat["files"][0]["size"] == len("inbox/a.csv") and flat["truncated"] is False
    deep = await run_component(
        FileList, {"directory": "inbox", "pattern": "**/*.csv", "max_entries": 2}, storage_root=root
    )
    assert deep["count"] == 2 and deep["truncated"] is True
    out = await run_component(FileDelete, {"path": "inbox/a.csv"}, storage_root=root)
    assert out == {"path": "inbox/a.csv", "deleted": True}
    assert not (root / "inbox" / "a.csv").exists()
    assert (await run_component(FileDelete, {"path": "inbox/a.csv"}, storage_root=root))["deleted"] is False
    with pytest.raises(BpmnError, match="there is no file"):
        await run_component(FileDelete, {"path": "inbox/a.csv", "missing_ok": False}, storage_root=root)
    with pytest.raises(BpmnError) as caught:
        await run_component(FileRead, {"path": "inbox/a.csv"}, storage_root=root)
    assert caught.value.code == "file-not-found"


@pytest.mark.parametrize("component", [FileRead, FileWrite, FileDelete])
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../secret.txt", "contains '..'"),
        ("reports/../../secret.txt", "contains '..'"),
        ("..\\secret.txt", "contains '..'"),
        ("/etc/passwd", "absolute path"),
    ],
)
async def test_traversal_and_absolute_paths_are_refused(
    root: Path, run_component: RunComponent, component: type, path: str, message: str
) -> None:
    (root.parent / "secret.txt").write_text("top secret")
    with pytest.raises(PathNotAllowed, match=message):
        await run_component(
            component,
            {"path": path, "content": "x"} if component is FileWrite else {"path": path},
            storage_root=root,
        )
    assert (root.parent / "secret.txt").read_text() == "top secret"


async def test_symlinks_out_of_the_root_are_refused(root: Path, run_component: RunComponent) -> None:
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    for path in ("link.txt", "linkdir/secret.txt"):
        with pytest.raises(PathNotAllowed, match="outside the storage root through a symbolic link"):
            await run_component(FileRead, {"path": path}, storage_root=root)
        with pytest.raises(PathNotAllowed):
            await run_component(FileWrite, {"path": path, "content": "pwned"}, storage_root=root)
    with pytest.raises(PathNotAllowed):
        await run_component(FileWrite, {"path": "linkdir/new.txt", "content": "x"}, storage_root=root)
    listed = await run_component(FileList, {"pattern": "**/*"}, storage_root=root)
    assert listed["files"] == []
    assert (outside / "secret.txt").read_text() == "top secret"
    assert not (outside / "new.txt").exists()
    (root / "inside.txt").write_text("ok")
    (root / "alias.txt").symlink_to(root / "inside.txt")
    assert (await run_component(FileRead, {"path": "alias.txt"}, storage_root=root))["content"] == "ok"


async def test_limits_and_missing_storage_root(root: Path, run_component: RunComponent) -> None:
    (root / "big.txt").write_text("x" * 100)
    with pytest.raises(BpmnError) as caught:
        await run_component(FileRead, {"path": "big.txt", "max_bytes": 10}, storage_root=root)
    assert caught.value.code == "file-too-large"
    with pytest.raises(ConfigurationError, match="no storage root"):
        await run_component(FileRead, {"path": "big.txt"})
