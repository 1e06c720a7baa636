"""postmart.vn (VNPost): the assumed contract is in docs/channels/postmart.md."""

from __future__ import annotations

from typing import Any

from marketplace.sync.connectors.base import Connector, ListingPayload


class PostmartConnector(Connector):
    type_name = "postmart"
    # Post offices price shipping by weight: a listing without one is refused.
    required = ("category_id", "image_urls", "weight_grams")

    def body(self, payload: ListingPayload) -> dict[str, Any]:
        return {
            "seller_sku": payload.reference,
            "name": payload.name,
            "description": payload.description,
            "price": payload.price_vnd,
            "list_price": payload.compare_at_price_vnd,
            "quantity": payload.stock,
            "unit": payload.unit,
            "weight_gram": payload.weight_grams,
            "category_id": payload.category_id,
            "images": list(payload.image_urls),
            "brand": payload.brand,
            "barcode": payload.gtin,
            "source_url": payload.url,
            "ocop_rating": payload.ocop_stars,
            "origin": payload.origin,
        }
