"""A pull feed (Google Merchant product data): the channel fetches it, nothing is pushed."""

from __future__ import annotations

from typing import Any

from marketplace.sync.connectors.base import Connector, ListingPayload


class FeedConnector(Connector):
    type_name = "feed"
    required = ("image_urls",)
    needs_base_url = False

    def body(self, payload: ListingPayload) -> dict[str, Any]:
        # Google Merchant's attribute names (support.google.com/merchants/answer/7052112).
        return {
            "id": payload.reference,
            "title": payload.name,
            "description": payload.description,
            "link": payload.url,
            "image_link": payload.image_urls[0] if payload.image_urls else None,
            "price": f"{payload.price_vnd} VND",
            "availability": "in_stock" if payload.stock > 0 else "out_of_stock",
            "brand": payload.brand,
            "gtin": payload.gtin,
        }
