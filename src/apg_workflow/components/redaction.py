"""Keeping secrets out of what a run writes: error messages, output variables and log records.

A secret value is replaced by ``***`` wherever it appears. :data:`known_secrets` holds every
secret this process has handed to a component; :func:`install_log_redaction` makes every log
record (whatever its logger or handler) pass through :class:`RedactingFilter` as it is created.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

REDACTED = "***"


@lru_cache(maxsize=256)
def _pattern(secrets: frozenset[str]) -> re.Pattern[str]:
    # Longest first, so that a secret containing another one is replaced whole.
    return re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret replaced by ``***``."""
    wanted = frozenset(s for s in secrets if s)
    if not wanted or not text:
        return text
    return _pattern(wanted).sub(REDACTED, text)


def scrub_data(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of JSON-like data (mappings, lists, strings) with the secrets scrubbed from every string,
    keys included."""
    wanted = frozenset(s for s in secrets if s)
    return _scrub_value(value, wanted) if wanted else value


def _scrub_value(value: Any, secrets: frozenset[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, Mapping):
        return {_scrub_value(k, secrets): _scrub_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v, secrets) for v in value]
    return value


class SecretSet:
    """A growing, thread-safe set of secret values."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset(v for v in values if v)

    def add(self, values: Iterable[str]) -> None:
        new = frozenset(v for v in values if v)
        if not new <= self._values:
            with self._lock:
                self._values = self._values | new

    def __bool__(self) -> bool:
        return bool(self._values)

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def scrub(self, text: str) -> str:
        return scrub(text, self._values)


known_secrets = SecretSet()
"""Every secret value this process has handed to a component (see :func:`install_log_redaction`)."""


class RedactingFilter(logging.Filter):
    """Replaces known secret values in a log record: its message and arguments, its exception and
    stack text, and any string attribute added with ``extra=``. Never drops a record."""

    def __init__(self, secrets: SecretSet = known_secrets) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = self.secrets.scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for name, value in list(vars(record).items()):
            if name not in ("msg", "message") and isinstance(value, str):
                setattr(record, name, self.secrets.scrub(value))
        return True


_install_lock = threading.Lock()
_installed: RedactingFilter | None = None


def install_log_redaction(secrets: SecretSet = known_secrets) -> RedactingFilter:
    """Redact every log record of this process as it is created, before any handler (console, file,
    a log shipper, pytest's capture) sees it. Installing again changes nothing."""
    global _installed
    with _install_lock:
        if _installed is None:
            redacting = RedactingFilter(secrets)
            make_record = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = make_record(*args, **kwargs)
                redacting.filter(record)
                return record

            logging.setLogRecordFactory(factory)
            _installed = redacting
        return _installed


class ScrubbingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger a component gets when it may use connections: each line is formatted and scrubbed
    of the secrets in ``secrets`` (which may grow while the component runs) before the wrapped
    logger, and whatever it writes to, sees it."""

    def __init__(
        self, logger: logging.Logger | logging.LoggerAdapter[logging.Logger], secrets: SecretSet
    ) -> None:
        super().__init__(logger, {})  # type: ignore[arg-type]
        self.secrets = secrets

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            text = str(msg) % args if args else str(msg)
            self.logger.log(level, self.secrets.scrub(text), **kwargs)


__all__ = [
    "REDACTED",
    "RedactingFilter",
    "ScrubbingLogger",
    "SecretSet",
    "install_log_redaction",
    "known_secrets",
    "scrub",
    "scrub_data",
]
