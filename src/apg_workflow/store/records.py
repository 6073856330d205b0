"""Rows at the store's boundary, as frozen values (``from_row``); changes are new values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _fields(cls: type, row: Any) -> dict[str, Any]:
    mapping: Mapping[str, Any] = row._mapping if hasattr(row, "_mapping") else row
    return {name: mapping[name] for name in cls.__dataclass_fields__}  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Source:
    """One file of a workflow version: the main definition first, then called processes and DMN."""

    name: str
    format: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "format": self.format, "text": self.text}


@dataclass(frozen=True, slots=True)
class Deployment:
    """What a deploy did: the workflow's key and version, and whether that version is new."""

    workflow_id: int
    version_id: int
    key: str
    name: str | None
    version: int
    created: bool


@dataclass(frozen=True, slots=True)
class ExecutionRow:
    """An execution as a transition sees it, read under its row lock."""

    id: str
    tenant_id: str
    workflow_id: int
    version_id: int
    process_id: str | None
    parent_id: str | None
    root_id: str
    status: str
    state: dict[str, Any] | None
    version: int

    @classmethod
    def from_row(cls, row: Any) -> ExecutionRow:
        return cls(**_fields(cls, row))


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    id: str
    tenant_id: str
    workflow_key: str
    workflow_version: int
    process_id: str | None
    business_key: str | None
    parent_id: str | None
    status: str
    error: str | None
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> ExecutionRecord:
        return cls(**_fields(cls, row))


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A claimed job: ``claims`` is the fencing token its completion must carry."""

    id: str
    tenant_id: str
    execution_id: str
    element_id: str
    component_type: str | None
    implementation: str | None
    config: dict[str, Any]
    variables: dict[str, Any]
    attempt: int
    claims: int

    @classmethod
    def from_row(cls, row: Any) -> JobRecord:
        return cls(**_fields(cls, row))


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimed timer or inbox command."""

    id: Any
    execution_id: str
    claims: int

    @classmethod
    def from_row(cls, row: Any) -> Claim:
        return cls(**_fields(cls, row))


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A command written to the inbox for another execution, to deliver after the commit."""

    command_id: int
    execution_id: str


@dataclass(slots=True)
class Outcome:
    """What one transition did."""

    execution_id: str
    status: str
    rejected: str | None = None
    claimed: list[JobRecord] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)
    jobs_ready: bool = False
    timer_set: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskRecord:
    id: str
    tenant_id: str
    execution_id: str
    element_id: str
    name: str | None
    assignee: str | None
    candidate_users: list[str]
    candidate_groups: list[str]
    form: dict[str, Any] | None
    due_at: datetime | None
    priority: int | None
    variables: dict[str, Any]
    status: str
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> TaskRecord:
        return cls(**_fields(cls, row))


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: str
    tenant_id: str
    execution_id: str
    element_id: str
    message: str
    status: str
    created_at: datetime
    resolved_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> IncidentRecord:
        return cls(**_fields(cls, row))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; pass ``next_cursor`` back for the next one."""

    items: tuple[T, ...]
    next_cursor: str | None


__all__ = [
    "Claim",
    "Deployment",
    "ExecutionRecord",
    "ExecutionRow",
    "IncidentRecord",
    "JobRecord",
    "Outcome",
    "Outgoing",
    "Page",
    "Source",
    "TaskRecord",
]
