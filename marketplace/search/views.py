"""The search results page and the suggestions endpoint."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from marketplace.catalog import queries as catalog_queries
from marketplace.core.pagination import clamp_page
from marketplace.core.text import fold, normalise
from marketplace.extensions import limiter
from marketplace.search import params, services
from marketplace.search.analysis import folded_terms
from marketplace.search.backend import Sort

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
    try:
        sort = params.parse_sort(request.args)
    except params.BadParameter:
        sort = Sort.RELEVANCE
    page = services.search_products(
        text,
        params.lenient_filters(request.args),
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
@limiter.limit("120 per minute", error_message=lambda: _("Too many searches."))
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
