"""Errors as ``application/problem+json`` (RFC 9457): a stable ``type``, a human ``detail`` and,
for validation, what is at fault. Nothing unexpected leaks a traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from apg_workflow.model import Problem
from apg_workflow.security.identity import AuthenticationError
from apg_workflow.services import Conflict, InvalidDefinition, ServiceError
from apg_workflow.services.workflows import UnsupportedMediaType
from apg_workflow.store import CommandRejected, NotFound, StoreError

log = logging.getLogger(__name__)

TYPE_BASE = "https://apg-workflow.dev/problems/"
MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_TYPES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
    500: "internal",
    503: "unavailable",
}


class ProblemError(Exception):
    """Raise from a handler to answer with a problem document."""

    def __init__(
        self, status: int, type: str, detail: str, *, title: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.type = type
        self.detail = detail
        self.title = title
        self.extra = extra


def problem_response(
    status: int,
    detail: str,
    *,
    type: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": TYPE_BASE + (type or _TYPES.get(status, "error")),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def problem_of(problem: Problem) -> dict[str, Any]:
    return {
        "code": problem.code,
        "severity": problem.severity.value,
        "message": problem.message,
        "element_id": problem.element_id,
        "line": problem.line,
        "column": problem.column,
    }


def _data_exception(exc: DBAPIError) -> str | None:
    """The database's words when it refused a value the request carried (SQLSTATE class 22, "data
    exception": a NUL character in text, a number past the column's range), else None."""
    if not str(getattr(exc.orig, "sqlstate", None) or "").startswith("22"):
        return None
    cause = exc.orig.__cause__ if exc.orig is not None else None
    return str(cause or exc.orig)


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.detail, type=exc.type, title=exc.title, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "message": "invalid request"}
        detail = f"{_location(tuple(first['loc'])) or 'request'}: {first['message']}"
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
        return problem_response(422, detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(AuthenticationError)
    async def _unauthenticated(_: Request, exc: AuthenticationError) -> JSONResponse:
        return problem_response(401, str(exc), headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return problem_response(404, str(exc), kind=exc.kind, id=exc.object_id)

    @app.exception_handler(InvalidDefinition)
    async def _definition(_: Request, exc: InvalidDefinition) -> JSONResponse:
        return problem_response(
            422, exc.message, type="invalid-definition", errors=[problem_of(p) for p in exc.problems]
        )

    @app.exception_handler(UnsupportedMediaType)
    async def _media(_: Request, exc: UnsupportedMediaType) -> JSONResponse:
        return problem_response(415, exc.message)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return problem_response(409, exc.message)

    @app.exception_handler(CommandRejected)
    async def _rejected(_: Request, exc: CommandRejected) -> JSONResponse:
        return problem_response(409, str(exc))

    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        return problem_response(400, exc.message)

    @app.exception_handler(StoreError)
    async def _store(_: Request, exc: StoreError) -> JSONResponse:
        return problem_response(400, str(exc))

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        return problem_response(422, f"a number is out of range: {exc}", type="invalid-value")

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        refused = _data_exception(exc)
        if refused is None:
            return await _unexpected(request, exc)
        return problem_response(422, f"a value cannot be stored: {refused}", type="invalid-value")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(500, "an unexpected error occurred; it has been logged")


__all__ = ["MEDIA_TYPE", "TYPE_BASE", "ProblemError", "install", "problem_of", "problem_response"]
