"""The errors of the store: one root, structured fields (what kind of object, which id)."""

from __future__ import annotations


class StoreError(Exception):
    """Root of the store's errors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(StoreError, LookupError):
    """No ``kind`` with this id in the caller's tenant."""

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"no {kind} '{object_id}'")
        self.kind = kind
        self.object_id = object_id


class StaleClaim(StoreError):
    """A worker reported on a job (or fired a timer) it no longer holds: the claim expired and
    someone else took it, the attempt moved on, or the execution cancelled it."""

    def __init__(self, kind: str, object_id: str, claim: int) -> None:
        super().__init__(f"{kind} '{object_id}': claim {claim} is no longer current")
        self.kind = kind
        self.object_id = object_id
        self.claim = claim


class CommandRejected(StoreError):
    """The engine refused the command (an unknown or stale id, a finished execution)."""

    def __init__(self, execution_id: str, reason: str) -> None:
        super().__init__(f"execution '{execution_id}': {reason}")
        self.execution_id = execution_id
        self.reason = reason


__all__ = ["CommandRejected", "NotFound", "StaleClaim", "StoreError"]
