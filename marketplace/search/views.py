"""The search results page and the suggestions endpoint."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from markupsafe import Markup, escape

from marketplace.catalog import queries as catalog_queries
from marketplace.core.errors import NotFound
from marketplace.core.pagination import clamp_page
from marketplace.core.text import fold, normalise
from marketplace.extensions import limiter
from marketplace.search import services
from marketplace.search.analysis import folded_terms
from marketplace.search.backend import SearchFilters, Sort

bp = Blueprint("search", __name__)

PAGE_SIZE = 24
# The only query keys links on the results page carry forward.
KEPT_ARGS = (
    "q",
    "sort",
    "category",
    "province",
    "shop",
    "ocop",
    "min_price",
    "max_price",
    "in_stock",
)
SNIPPET_LENGTH = 160


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip().replace(".", "")
    if not value.isdigit() or len(value) > 10:
        return None
    return int(value)


def filters_from_request() -> SearchFilters:
    """Read the filters from the query string; anything malformed is ignored."""
    category_ids: tuple[int, ...] = ()
    slug = request.args.get("category", "").strip()
    if slug:
        try:
            category = catalog_queries.category_by_slug(slug[:80])
        except NotFound:
            category = None
        if category is not None:
            category_ids = tuple(catalog_queries.descendant_ids(category))
    ocop = _int_arg("ocop")
    return SearchFilters(
        category_ids=category_ids,
        province_code=_int_arg("province"),
        shop_id=_int_arg("shop"),
        min_ocop_stars=ocop if ocop in (3, 4, 5) else None,
        min_price_vnd=_int_arg("min_price"),
        max_price_vnd=_int_arg("max_price"),
        in_stock=request.args.get("in_stock") == "1",
    )


def sort_from_request() -> Sort:
    try:
        return Sort(request.args.get("sort", Sort.RELEVANCE))
    except ValueError:
        return Sort.RELEVANCE


def highlight(text: str, query: str) -> Markup:
    """An excerpt of ``text`` with the query's words marked, however they were typed.

    Folding works letter by letter on NFC text, so positions in the folded copy are
    positions in the original.
    """
    text = normalise(text or "")
    folded = "".join(fold(ch) or ch for ch in text)
    if len(folded) != len(text):  # a letter folded to nothing or to two: no marks
        return escape(text[:SNIPPET_LENGTH])
    words = set(folded_terms(query))
    spans = [
        match.span()
        for word in words
        for match in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", folded)
    ]
    first = min((span[0] for span in spans), default=0)
    begin = max(0, first - 40)
    end = min(len(text), begin + SNIPPET_LENGTH)
    pieces, position = [], begin
    for start, stop in sorted(spans):
        if start < position or stop > end:
            continue
        pieces += [escape(text[position:start]), Markup("<mark>"), escape(text[start:stop])]
        pieces.append(Markup("</mark>"))
        position = stop
    pieces.append(escape(text[position:end]))
    pieces.insert(0, escape("…" if begin else ""))
    pieces.append(escape("…" if end < len(text) else ""))
    return escape("").join(pieces)


@bp.get("/search")
def results() -> ResponseReturnValue:
    text = request.args.get("q", "")
    sort = sort_from_request()
    page = services.search_products(
        text,
        filters_from_request(),
        sort,
        page=clamp_page(request.args.get("page")),
        per_page=PAGE_SIZE,
        locale=str(get_locale()),
    )
    return render_template(
        "search/results.html",
        query=text,
        page=page,
        sort=sort,
        highlight=highlight,
        categories=catalog_queries.category_tree(),
        args={key: request.args[key][:200] for key in KEPT_ARGS if request.args.get(key)},
    )


@bp.get("/search/suggest")
@limiter.limit("120 per minute")
def suggest() -> ResponseReturnValue:
    products = services.suggestions(request.args.get("q", ""))
    return jsonify(
        [
            {
                "id": product.id,
                "name": product.name,
                "url": url_for("catalog.product_detail", product_id=product.id, slug=product.slug),
            }
            for product in products
        ]
    )
