"""File components: read, write, list and delete files under the worker's storage root, each job in
its tenant's directory of it (``<storage_root>/<tenant_id>``), so tenants never share files."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import Field

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext
from apg_workflow.components.builtins.integration.storage import (
    PathNotAllowed,
    confine,
    load,
    relative_name,
    save,
    storage_root,
)
from apg_workflow.components.builtins.integration.support import content_bytes, render
from apg_workflow.components.errors import BpmnError, ConfigurationError

INPUTS = {
    "type": "object",
    "description": "Variables that `${name}` placeholders in the configuration refer to.",
}
PATH_DESCRIPTION = (
    "Path relative to the tenant's directory of the storage root (`${name}` placeholders allowed). "
    "Absolute paths, `..` and symbolic links leading out of that directory are refused."
)
Mode = Literal["text", "binary"]
MODE_DESCRIPTION = "`text` for strings in `encoding`; `binary` for bytes carried as base64 text."


class FileReadConfig(ComponentConfig):
    path: str = Field(description=PATH_DESCRIPTION)
    mode: Mode = Field("text", description=MODE_DESCRIPTION)
    encoding: str = Field("utf-8", description="Text encoding (text mode).")
    max_bytes: int = Field(
        10 * 1024 * 1024,
        gt=0,
        le=100 * 1024 * 1024,
        description="Largest file read; a larger one raises the BPMN error `file-too-large`.",
    )


def _target(context: ComponentContext, template: str, inputs: Mapping[str, Any]) -> tuple[Path, Path]:
    root = storage_root(context)
    return root, confine(root, str(render(template, inputs, "path")))


class FileRead(Component[FileReadConfig]):
    type = "file.read"
    category = "integration"
    title = "Read a file"
    description = (
        "Reads a file from the storage root as text or as base64 (binary mode). A missing file raises the "
        "BPMN error `file-not-found`."
    )
    Config = FileReadConfig
    inputs = INPUTS
    outputs = {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "content": {"type": "string", "description": "text, or base64 in binary mode"},
            "size": {"type": "integer", "description": "bytes"},
        },
    }
    examples = (
        {
            "config": {"path": "reports/${day}.csv"},
            "inputs": {"day": "2024-05-01"},
            "outputs": {"path": "reports/2024-05-01.csv", "content": "id,total\n1,9.5\n", "size": 15},
        },
    )

    async def run(
        self, context: ComponentContext, config: FileReadConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        root, path = _target(context, config.path, inputs)
        name = relative_name(root, path)
        data = await load(root, path, config.max_bytes)
        if config.mode == "binary":
            content = base64.b64encode(data).decode("ascii")
        else:
            try:
                content = data.decode(config.encoding)
            except (UnicodeDecodeError, LookupError) as exc:
                raise BpmnError(
                    "file-not-text", f"'{name}' is not {config.encoding} text ({exc}); read it in binary mode"
                ) from None
        return {"path": name, "content": content, "size": len(data)}


class FileWriteConfig(ComponentConfig):
    path: str = Field(description=PATH_DESCRIPTION)
    content: Any = Field(
        description="What to write: text (a non-string value is written as JSON), or base64 in binary mode. "
        "`${name}` placeholders take input values."
    )
    mode: Mode = Field("text", description=MODE_DESCRIPTION)
    encoding: str = Field("utf-8", description="Text encoding (text mode).")
    if_exists: Literal["overwrite", "append", "fail"] = Field(
        "overwrite",
        description="An existing file is replaced atomically (`overwrite`), extended (`append`, not "
        "idempotent: a "
        "retried job appends twice) or left alone with the BPMN error `file-exists` (`fail`).",
    )
    make_dirs: bool = Field(True, description="Create missing parent directories.")


class FileWrite(Component[FileWriteConfig]):
    type = "file.write"
    category = "integration"
    title = "Write a file"
    description = (
        "Writes text or bytes (base64) to a file under the storage root, creating parent directories. "
        "Overwriting is atomic: readers see the old file or the new one, never half of it."
    )
    Config = FileWriteConfig
    inputs = INPUTS
    outputs = {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "size": {"type": "integer", "description": "bytes written"},
            "created": {"type": "boolean", "description": "whether the file is new"},
        },
    }
    examples = (
        {
            "config": {"path": "invoices/${invoice.id}.json", "content": "${invoice}"},
            "inputs": {"invoice": {"id": "INV-7", "total": 120}},
            "outputs": {"path": "invoices/INV-7.json", "size": 29, "created": True},
        },
    )

    async def run(
        self, context: ComponentContext, config: FileWriteConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        root, path = _target(context, config.path, inputs)
        name = relative_name(root, path)
        data = content_bytes(render(config.content, inputs, "content"), config.mode, config.encoding)
        created = await save(root, path, data, config.if_exists, config.make_dirs)
        return {"path": name, "size": len(data), "created": created}


class FileListConfig(ComponentConfig):
    directory: str = Field(
        ".", description="Directory to list, relative to the tenant's directory of the storage root."
    )
    pattern: str = Field("*", description="Glob pattern: `*.csv`; `**/*.csv` descends into subdirectories.")
    include_directories: bool = Field(False, description="List directories too, not only files.")
    max_entries: int = Field(1000, gt=0, le=100_000, description="Most entries returned (sorted by path).")


def _list(root: Path, directory: Path, config: FileListConfig) -> list[dict[str, Any]]:
    entries = []
    for found in directory.glob(config.pattern):
        real = found.resolve()
        if not real.is_relative_to(root) or (found.is_dir() and not config.include_directories):
            continue  # a link out of the root is not listed
        stat = found.stat()
        entries.append(
            {
                "path": relative_name(root, found.parent.resolve() / found.name),
                "name": found.name,
                "size": stat.st_size,
                "modified": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
                "is_directory": found.is_dir(),
            }
        )
    return sorted(entries, key=lambda entry: entry["path"])


class FileList(Component[FileListConfig]):
    type = "file.list"
    category = "integration"
    title = "List files"
    description = "Lists the files under a directory of the storage root that match a glob pattern."
    Config = FileListConfig
    inputs = INPUTS
    outputs = {
        "type": "object",
        "properties": {
            "files": {"type": "array", "description": "{path, name, size, modified, is_directory} per entry"},
            "count": {"type": "integer"},
            "truncated": {"type": "boolean", "description": "whether max_entries cut the list"},
        },
    }
    examples = (
        {
            "config": {"directory": "inbox", "pattern": "*.csv"},
            "inputs": {},
            "outputs": {
                "files": [
                    {
                        "path": "inbox/a.csv",
                        "name": "a.csv",
                        "size": 12,
                        "modified": "2024-05-01T09:30:00+00:00",
                        "is_directory": False,
                    }
                ],
                "count": 1,
                "truncated": False,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: FileListConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        root, directory = _target(context, config.directory, inputs)
        pattern = PurePosixPath(str(render(config.pattern, inputs, "pattern")))
        if pattern.is_absolute() or ".." in pattern.parts:
            raise PathNotAllowed(f"the pattern '{pattern}' must stay inside the directory")
        if not directory.is_dir():
            raise BpmnError("file-not-found", f"there is no directory '{relative_name(root, directory)}'")
        listed = await asyncio.to_thread(
            _list, root, directory, config.model_copy(update={"pattern": str(pattern)})
        )
        shown = listed[: config.max_entries]
        return {"files": shown, "count": len(shown), "truncated": len(listed) > len(shown)}


class FileDeleteConfig(ComponentConfig):
    path: str = Field(description=PATH_DESCRIPTION)
    missing_ok: bool = Field(
        True,
        description="A missing file is not an error (so a retried job succeeds); else the BPMN error "
        "`file-not-found`.",
    )


class FileDelete(Component[FileDeleteConfig]):
    type = "file.delete"
    category = "integration"
    title = "Delete a file"
    description = "Deletes a file under the storage root (files only, not directories)."
    Config = FileDeleteConfig
    inputs = INPUTS
    outputs = {
        "type": "object",
        "properties": {"path": {"type": "string"}, "deleted": {"type": "boolean"}},
    }
    examples = (
        {
            "config": {"path": "tmp/${upload}"},
            "inputs": {"upload": "u-1.bin"},
            "outputs": {"path": "tmp/u-1.bin", "deleted": True},
        },
    )

    async def run(
        self, context: ComponentContext, config: FileDeleteConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        root, path = _target(context, config.path, inputs)
        name = relative_name(root, path)
        if path.is_dir():
            raise ConfigurationError(f"'{name}' is a directory; file.delete removes files only")
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            if not config.missing_ok:
                raise BpmnError("file-not-found", f"there is no file '{name}'") from None
            return {"path": name, "deleted": False}
        return {"path": name, "deleted": True}


COMPONENTS = (FileRead, FileWrite, FileList, FileDelete)
