"""The retry policy as a pure decision: when to try a failed job again, or that it is exhausted."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from apg_workflow.model import RetryPolicy, parse_duration

DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class RetryAt:
    at: datetime


@dataclass(frozen=True, slots=True)
class Exhausted:
    attempts: int


def retry_decision(
    policy: RetryPolicy | None, attempt: int, now: datetime, jitter: float
) -> RetryAt | Exhausted:
    """After the ``attempt``-th failed attempt (1-based): retry at some time, or give up.

    The backoff is ``initial_backoff * multiplier ** (attempt - 1)`` capped at ``max_backoff``;
    with ``policy.jitter`` it is spread over [50 %, 150 %) of that by ``jitter`` (a random number
    in [0, 1) the caller draws), still capped.
    """
    policy = policy or DEFAULT_POLICY
    if attempt >= policy.max_attempts:
        return Exhausted(attempt)
    cap = parse_duration(policy.max_backoff).total_seconds()
    delay = parse_duration(policy.initial_backoff).total_seconds() * policy.multiplier ** (attempt - 1)
    delay = min(delay, cap)
    if policy.jitter:
        delay = min(delay * (0.5 + min(max(jitter, 0.0), 1.0)), cap)
    return RetryAt(now + timedelta(seconds=delay))


def policy_dict(policy: RetryPolicy | None) -> dict[str, Any]:
    """The policy a job carries, as plain data."""
    return asdict(policy or DEFAULT_POLICY)
