"""The search backend interface: what views, the API and the CLI may ask of a search engine."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from flask import Flask


class Sort(enum.StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"


@dataclass(frozen=True)
class SearchDocument:
    """What the index knows of one public listing."""

    id: int
    name: str
    description: str
    shop_name: str
    category_names: str
    origin: str
    shop_id: int
    category_id: int
    root_category_id: int
    province_code: int
    ocop_stars: int
    price_vnd: int
    in_stock: bool
    published_at: int  # seconds since the epoch


@dataclass(frozen=True)
class SearchFilters:
    category_ids: tuple[int, ...] = ()  # any of them (a category and its descendants)
    province_code: int | None = None
    shop_id: int | None = None
    min_ocop_stars: int | None = None
    min_price_vnd: int | None = None
    max_price_vnd: int | None = None
    in_stock: bool = False


FACETS = ("root_category_id", "province_code", "ocop_stars")


@dataclass(frozen=True)
class SearchHits:
    ids: list[int]
    total: int
    facets: dict[str, dict[int, int]] = field(default_factory=dict)
    suggestion: str | None = None


class SearchBackend(Protocol):
    def index(self, documents: Iterable[SearchDocument]) -> None:
        """Add or replace these documents."""

    def remove(self, ids: Iterable[int]) -> None:
        """Drop these listings from the index."""

    def query(
        self, text: str, filters: SearchFilters, sort: Sort, page: int, per_page: int
    ) -> SearchHits:
        """Return one page of matching ids, the total, facet counts and a suggestion."""

    def rebuild(self, documents: Iterable[SearchDocument]) -> None:
        """Build a fresh index beside the live one and swap it in."""

    def prune(self) -> None:
        """Drop what earlier rebuilds left behind."""

    def document_ids(self) -> set[int]:
        """Every id in the index (for ``flask search check``)."""

    def suggest(self, prefix: str, limit: int) -> list[int]:
        """Ids of the best listings whose names start like ``prefix`` (search-as-you-type)."""

    def check(self) -> None:
        """Raise when the index cannot be opened (``/healthz``)."""


BackendFactory = Callable[[Flask], SearchBackend]
_BACKENDS: dict[str, BackendFactory] = {}


def register_backend(name: str, factory: BackendFactory) -> None:
    _BACKENDS[name] = factory


def create_backend(app: Flask) -> SearchBackend:
    name = app.config.get("SEARCH_BACKEND", "whoosh")
    try:
        return _BACKENDS[name](app)
    except KeyError:
        raise RuntimeError(f"unknown SEARCH_BACKEND {name!r}; known: {sorted(_BACKENDS)}") from None
