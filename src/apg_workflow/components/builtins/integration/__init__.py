"""The integration family: HTTP (with an SSRF guard), SQL, Redis, files, S3, e-mail and chat webhooks.

Every component here reaches a system outside the platform. Credentials come from named connections,
configuration strings take ``${name}`` placeholders filled from the inputs, and transient failures
raise :class:`~apg_workflow.components.RetryableError` so the element's retry policy applies.
"""

from apg_workflow.components.base import Component
from apg_workflow.components.builtins.integration import chat, email, files, http, redis, s3, sql

COMPONENTS: tuple[type[Component], ...] = (
    *http.COMPONENTS,
    *sql.COMPONENTS,
    *redis.COMPONENTS,
    *files.COMPONENTS,
    *s3.COMPONENTS,
    *email.COMPONENTS,
    *chat.COMPONENTS,
)

__all__ = ["COMPONENTS"]
