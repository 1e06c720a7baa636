"""Search parameters read from a query string, shared by the results page and the API."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from marketplace.catalog import queries as catalog_queries
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.numbers import NumberFormatError, parse_optional_number
from marketplace.extensions import db
from marketplace.search.backend import SearchFilters, Sort
from marketplace.shops.models import Shop, ShopStatus


class BadParameter(DomainError):
    """A query-string value the API refuses (the HTML page ignores it instead)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def whole_number(args: Mapping[str, str], name: str, *, money: bool = False) -> int | None:
    """The whole number in ``args[name]`` (ASCII digits, thousands grouped by dots or
    spaces, as ``core.numbers`` reads them), or None when it is empty or missing."""
    try:
        value = parse_optional_number(args.get(name), money=money)
    except NumberFormatError:
        raise BadParameter(name, f"{name} must be a whole number") from None
    if value is not None and value > MAX_NUMBER:
        raise BadParameter(name, f"{name} is at most {MAX_NUMBER}")
    return value


# Ten digits: above any price (1 000 000 000 đ at most) or code, below what a database
# integer column compares without an overflow error.
MAX_NUMBER = 9_999_999_999


def parse_filters(args: Mapping[str, str]) -> SearchFilters:
    """Read category, province, shop, ocop, min_price, max_price and in_stock."""
    category_ids: tuple[int, ...] = ()
    if slug := (args.get("category") or "").strip()[:80]:
        try:
            category = catalog_queries.category_by_slug(slug)
        except NotFound:
            raise BadParameter("category", f"no category {slug!r}") from None
        category_ids = tuple(catalog_queries.descendant_ids(category))
    shop_id = None
    if shop_slug := (args.get("shop") or "").strip()[:80]:
        shop_id = db.session.scalar(
            select(Shop.id).where(Shop.slug == shop_slug, Shop.status == ShopStatus.APPROVED)
        )
        if shop_id is None:
            raise BadParameter("shop", f"no shop {shop_slug!r}")
    ocop = whole_number(args, "ocop")
    if ocop is not None and ocop not in (3, 4, 5):
        raise BadParameter("ocop", "ocop is a minimum number of stars: 3, 4 or 5")
    min_price = whole_number(args, "min_price", money=True)
    max_price = whole_number(args, "max_price", money=True)
    if min_price is not None and max_price is not None and min_price > max_price:
        raise BadParameter("max_price", "max_price is below min_price")
    return SearchFilters(
        category_ids=category_ids,
        province_code=whole_number(args, "province"),
        shop_id=shop_id,
        min_ocop_stars=ocop,
        min_price_vnd=min_price,
        max_price_vnd=max_price,
        in_stock=(args.get("in_stock") or "") in ("1", "true"),
    )


def parse_sort(args: Mapping[str, str]) -> Sort:
    try:
        return Sort(args.get("sort") or Sort.RELEVANCE)
    except ValueError:
        allowed = ", ".join(sort.value for sort in Sort)
        raise BadParameter("sort", f"sort is one of: {allowed}") from None


def lenient_filters(args: Mapping[str, str]) -> SearchFilters:
    """``parse_filters`` for pages: a wrong value is dropped, not an error."""
    cleaned = dict(args)
    while True:
        try:
            return parse_filters(cleaned)
        except BadParameter as error:
            cleaned.pop(error.name, None)
