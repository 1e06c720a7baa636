"""``/api/v1``: read the catalog as JSON. Errors are ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from marketplace.catalog.models import Product
from marketplace.core.security import external_url
from marketplace.media.services import image_url
from marketplace.search import params, services
from marketplace.shops import places

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 24


def _error(code: str, message: str, status: int = 400) -> ResponseReturnValue:
    return jsonify({"error": {"code": code, "message": message}}), status


def product_item(product: Product) -> dict[str, Any]:
    """The API's shape of a listing in a list."""
    province = places.province(product.shop.province_code)
    cover = product.cover
    return {
        "id": product.id,
        "name": product.name,
        "slug": product.slug,
        "url": external_url("catalog.product_detail", product_id=product.id, slug=product.slug),
        "price_vnd": product.price_vnd,
        "compare_at_price_vnd": product.compare_at_price_vnd,
        "stock": product.stock,
        "unit": product.unit,
        "ocop_stars": product.ocop_stars,
        "province": province.short_name if province else None,
        "image_url": current_app.config["SITE_URL"] + image_url(cover, 600) if cover else None,
        "shop": {"slug": product.shop.slug, "name": product.shop.name},
        "category": {"slug": product.category.slug, "name": product.category.name_vi},
    }


def _paging() -> tuple[int, int]:
    page = params.whole_number(request.args, "page")
    per_page = params.whole_number(request.args, "per_page")
    page = 1 if page is None else page
    per_page = DEFAULT_PER_PAGE if per_page is None else per_page
    if not 1 <= page <= 10_000:
        raise params.BadParameter("page", "page is between 1 and 10000")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise params.BadParameter("per_page", f"per_page is between 1 and {MAX_PER_PAGE}")
    return page, per_page


@bp.get("/products")
def products() -> ResponseReturnValue:
    """Search and list public products: q, category, province, min_price, max_price, ocop,
    shop, in_stock, sort (relevance, newest, price_asc, price_desc), page, per_page."""
    try:
        filters = params.parse_filters(request.args)
        sort = params.parse_sort(request.args)
        page, per_page = _paging()
    except params.BadParameter as error:
        return _error(f"invalid_{error.name}", str(error))
    results = services.search_products(
        request.args.get("q", ""),
        filters,
        sort,
        page=page,
        per_page=per_page,
        locale=str(get_locale()),
    )
    return jsonify(
        {
            "total": results.total,
            "page": page,
            "per_page": per_page,
            "items": [product_item(product) for product in results.items],
            "facets": {
                name: [
                    {"value": facet.value, "label": facet.label, "count": facet.count}
                    for facet in values
                ]
                for name, values in results.facets.items()
            },
            "suggestion": results.suggestion,
        }
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    return jsonify({"products": url_for("api.products")})
