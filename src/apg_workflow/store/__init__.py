"""Persistence (SQLAlchemy 2 async) on SQLite or PostgreSQL, chosen by the database URL.

:class:`Database` owns the engine and the transaction discipline; :class:`Transitions` applies
engine commands durably (one step, one transaction); :mod:`.queries` holds the hot-path SQL;
:mod:`.reads` the listings. Schema migrations: :func:`upgrade` (Alembic, shipped here).
"""

from apg_workflow.store import api_tables as api_tables  # registers the API tables on the metadata
from apg_workflow.store import inbound_hooks as inbound_hooks  # inbound webhooks
from apg_workflow.store import outbox_reads as outbox_reads  # the live event tail's reads
from apg_workflow.store import webhooks as webhooks  # webhook subscriptions, deliveries, the dispatcher's SQL
from apg_workflow.store.db import Database
from apg_workflow.store.definitions import Trigger, deploy_txn, find_version
from apg_workflow.store.effects import Claimant, Outgoing
from apg_workflow.store.errors import CommandRejected, NotFound, StaleClaim, StoreError
from apg_workflow.store.messages import broadcast_signal, correlate_message
from apg_workflow.store.migrate import upgrade
from apg_workflow.store.programs import Compiler, ProgramCache
from apg_workflow.store.records import (
    Claim,
    Deployment,
    ExecutionRecord,
    IncidentRecord,
    JobRecord,
    Page,
    Source,
    TaskRecord,
)
from apg_workflow.store.schedules import ScheduleRecord
from apg_workflow.store.starts import Started, start_execution, start_txn
from apg_workflow.store.transitions import Fence, Outcome, Transitions, utcnow

__all__ = [
    "Claim",
    "Claimant",
    "CommandRejected",
    "Compiler",
    "Database",
    "Deployment",
    "ExecutionRecord",
    "Fence",
    "IncidentRecord",
    "JobRecord",
    "NotFound",
    "Outcome",
    "Outgoing",
    "Page",
    "ProgramCache",
    "ScheduleRecord",
    "Source",
    "StaleClaim",
    "Started",
    "StoreError",
    "TaskRecord",
    "Transitions",
    "Trigger",
    "broadcast_signal",
    "correlate_message",
    "deploy_txn",
    "find_version",
    "start_execution",
    "start_txn",
    "upgrade",
    "utcnow",
]
