"""The rows one transition writes, as both dialects' hot-path statements take them
(:mod:`.hotpath`): the execution's new state, its jobs, timers, history and outbox rows, with the
columns of each batch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apg_workflow.store.records import ExecutionRow

EXECUTION = "id, tenant_id, workflow_id, version_id, process_id, parent_id, root_id, status, state, version"
FENCED = ("jobs", "timers")

# Columns of the rows written in batches: (name, PostgreSQL array type, is JSON).
JOB = (
    ("id", "text", False),
    ("tenant_id", "text", False),
    ("execution_id", "text", False),
    ("element_id", "text", False),
    ("component_type", "text", False),
    ("implementation", "text", False),
    ("config", "text", True),
    ("variables", "text", True),
    ("retry", "text", True),
    ("attempt", "int", False),
    ("run_at", "timestamptz", False),
    ("due_at", "timestamptz", False),
    ("claimed_by", "text", False),
    ("claims", "int", False),
    ("created_at", "timestamptz", False),
)
TIMER = (
    ("id", "text", False),
    ("tenant_id", "text", False),
    ("execution_id", "text", False),
    ("element_id", "text", False),
    ("fire_at", "timestamptz", False),
    ("due_at", "timestamptz", False),
    ("claimed_by", "text", False),
    ("created_at", "timestamptz", False),
)
HISTORY = (
    ("tenant_id", "text", False),
    ("execution_id", "text", False),
    ("at", "timestamptz", False),
    ("event", "text", False),
    ("element_id", "text", False),
    ("instance_id", "text", False),
    ("data", "text", True),
)
OUTBOX = (
    ("tenant_id", "text", False),
    ("execution_id", "text", False),
    ("event", "text", False),
    ("payload", "text", True),
    ("created_at", "timestamptz", False),
)
Columns = tuple[tuple[str, str, bool], ...]

# On a conflict a job takes the new values, and its claim number grows by the new row's ``claims``
# (1 when this step claimed it, else 0): fencing tokens never go back. A timer keeps its claims.
JOB_CONFLICT = (
    ", ".join(f"{name} = excluded.{name}" for name, _, _ in JOB if name not in ("id", "created_at", "claims"))
    + ", claims = jobs.claims + excluded.claims"
)
TIMER_CONFLICT = ", ".join(
    f"{name} = excluded.{name}" for name, _, _ in TIMER if name not in ("id", "created_at")
)


@dataclass(frozen=True, slots=True)
class NewExecution:
    """A start written by :func:`write_alone`: the execution's row is inserted, provided its
    workflow has no concurrency limit and, with ``latest``, that this is still its latest version."""

    business_key: str | None
    latest: int | None


@dataclass(slots=True)
class StepRows:
    """What one transition writes besides the rarer rows (user tasks, incidents, subscriptions,
    inbox commands), which go through the toolkit as they come. ``fence`` (table, id, claim
    number), ``unlimited`` and ``new`` are for :func:`write_alone` only."""

    execution: ExecutionRow
    now: datetime
    state: Mapping[str, Any] | None = None
    status: str = "running"
    error: str | None = None
    job_deletes: list[str] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    timer_deletes: list[str] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    fence: tuple[str, str, int] | None = None
    unlimited: bool = False
    new: NewExecution | None = None

    @property
    def ended(self) -> bool:
        return self.status not in ("running", "pending")


def execution_row(record: Mapping[str, Any], state: dict[str, Any] | None) -> ExecutionRow:
    return ExecutionRow(
        id=record["id"],
        tenant_id=record["tenant_id"],
        workflow_id=record["workflow_id"],
        version_id=record["version_id"],
        process_id=record["process_id"],
        parent_id=record["parent_id"],
        root_id=record["root_id"],
        status=record["status"],
        state=state,
        version=record["version"],
    )


def process_id(rows: StepRows) -> str | None:
    return None if rows.state is None else rows.state["process_id"]


def ended_at(rows: StepRows) -> datetime | None:
    return rows.now if rows.ended else None


__all__ = [
    "EXECUTION",
    "FENCED",
    "HISTORY",
    "JOB",
    "JOB_CONFLICT",
    "OUTBOX",
    "TIMER",
    "TIMER_CONFLICT",
    "Columns",
    "NewExecution",
    "StepRows",
    "ended_at",
    "execution_row",
    "process_id",
]
