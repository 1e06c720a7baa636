"""Pages of results: the items of one page and the total."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select

from marketplace.core.numbers import NumberFormatError, parse_whole_number
from marketplace.extensions import db

T = TypeVar("T")
MAX_PAGE = 10_000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def clamp_page(value: object) -> int:
    """Return a page number from user input: anything odd becomes page 1."""
    try:
        page = parse_whole_number(str(value))
    except NumberFormatError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def count_rows(query: Select[tuple[T]]) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def paginate(
    query: Select[tuple[T]],
    *,
    page: int,
    per_page: int,
    count: Callable[[Select[tuple[T]]], int] = count_rows,
) -> Page[T]:
    """Run ``query`` for one page; ``count`` gives the number of all its rows."""
    total = count(query)
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, page=page, per_page=per_page, total=total or 0)
