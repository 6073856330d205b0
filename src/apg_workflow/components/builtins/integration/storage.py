"""Confinement to the storage root: the one place file paths from workflows are turned into real paths.

A path is relative to the job's tenant's directory of ``context.storage_root``
(``<storage_root>/<tenant_id>``; the root itself when no tenant is given, as in the in-memory
runner), so one tenant never reads or writes another's files. Absolute paths, ``..`` segments and
symbolic links whose target lies outside that directory are refused; files are then opened with
``O_NOFOLLOW`` so a link swapped in after the check is not followed either.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from apg_workflow.components.base import ComponentContext
from apg_workflow.components.errors import BpmnError, ConfigurationError

_DRIVE = re.compile(r"^[A-Za-z]:")
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class PathNotAllowed(ConfigurationError):
    """A path would leave the storage root."""


def storage_root(context: ComponentContext) -> Path:
    """The directory the job's paths are relative to: its tenant's, created on first use."""
    if context.storage_root is None:
        raise ConfigurationError("file storage is not configured for this worker (no storage root)")
    root = context.storage_root.resolve()
    if context.tenant_id is None:
        return root
    directory = root / tenant_directory(context.tenant_id)
    directory.mkdir(parents=True, exist_ok=True)
    return directory.resolve()


def tenant_directory(tenant_id: str) -> str:
    """The name of a tenant's directory: its id, percent-encoded so that it is one path segment and
    two tenants never share one."""
    name = quote(tenant_id, safe="")
    if name in ("", ".", ".."):
        raise ConfigurationError(f"the tenant id {tenant_id!r} cannot name a storage directory")
    return name


def confine(root: Path, path: str, field: str = "path") -> Path:
    """The real path of ``path`` inside ``root``, or :class:`PathNotAllowed` saying why not."""
    if not isinstance(path, str) or not path.strip() or "\x00" in path:
        raise PathNotAllowed(f"'{field}' must be a non-empty relative path, not {path!r}")
    normal = path.replace("\\", "/")
    pure = PurePosixPath(normal)
    if pure.is_absolute() or _DRIVE.match(normal):
        raise PathNotAllowed(f"'{path}' is an absolute path: {field} must be relative to the storage root")
    if ".." in pure.parts:
        raise PathNotAllowed(f"'{path}' contains '..': {field} may not climb out of the storage root")
    resolved = (root / pure).resolve()
    if not resolved.is_relative_to(root):
        raise PathNotAllowed(f"'{path}' leads outside the storage root through a symbolic link")
    return resolved


def relative_name(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix() or "."


def read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes (refusing a symbolic link and anything larger than ``limit``)."""
    descriptor = os.open(path, os.O_RDONLY | NOFOLLOW)
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise BpmnError("file-too-large", f"'{path.name}' is larger than the {limit} bytes allowed")
    return data


def write_bytes(path: Path, data: bytes, if_exists: str = "overwrite", make_dirs: bool = True) -> bool:
    """Write (``if_exists``: overwrite atomically, append, or fail); True when the file is new."""
    if make_dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    if if_exists == "overwrite":
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.fchmod(handle, 0o644)  # mkstemp makes files only their owner can read
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return not existed
    flags = os.O_WRONLY | os.O_CREAT | NOFOLLOW | (os.O_APPEND if if_exists == "append" else os.O_EXCL)
    with os.fdopen(os.open(path, flags, 0o644), "wb") as stream:
        stream.write(data)
    return not existed


async def load(root: Path, path: Path, limit: int) -> bytes:
    """Read a confined file off the event loop, with BPMN errors a process can catch."""
    name = relative_name(root, path)
    try:
        return await asyncio.to_thread(read_bytes, path, limit)
    except (FileNotFoundError, NotADirectoryError):
        raise BpmnError("file-not-found", f"there is no file '{name}'") from None
    except IsADirectoryError:
        raise BpmnError("file-not-found", f"'{name}' is a directory, not a file") from None
    except OSError as exc:
        raise PathNotAllowed(f"'{name}' cannot be read: {exc.strerror}") from None


async def save(
    root: Path, path: Path, data: bytes, if_exists: str = "overwrite", make_dirs: bool = True
) -> bool:
    """Write a confined file off the event loop (see :func:`write_bytes`); True when it is new."""
    name = relative_name(root, path)
    try:
        return await asyncio.to_thread(write_bytes, path, data, if_exists, make_dirs)
    except FileExistsError:
        raise BpmnError("file-exists", f"'{name}' already exists") from None
    except IsADirectoryError:
        raise ConfigurationError(f"'{name}' is a directory") from None
    except OSError as exc:
        raise PathNotAllowed(f"'{name}' cannot be written: {exc.strerror}") from None


__all__ = ["PathNotAllowed", "confine", "load", "relative_name", "save", "storage_root", "tenant_directory"]
