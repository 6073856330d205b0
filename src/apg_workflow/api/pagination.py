"""Lists answer ``{"items": [...], "next_cursor": ...}``; pass ``cursor`` back for the next page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from apg_workflow.store import Page

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

Limit = Annotated[int, Query(ge=1, le=500, description="Items per page (1 to 500).")]
Cursor = Annotated[
    str | None, Query(max_length=500, description="`next_cursor` of the previous page; omit for the first.")
]


class PageOf(BaseModel, Generic[M]):
    items: list[M]
    next_cursor: str | None = None


def page_of(page: Page[T], render: Callable[[T], M]) -> PageOf[M]:
    return PageOf[M](items=[render(item) for item in page.items], next_cursor=page.next_cursor)


__all__ = ["Cursor", "Limit", "PageOf", "page_of"]
