"""voso.vn (Viettel Post): the assumed contract is in docs/channels/voso.md."""

from __future__ import annotations

from typing import Any

from marketplace.sync.connectors.base import Connector, ListingPayload


class VosoConnector(Connector):
    type_name = "voso"
    required = ("category_id", "image_urls", "description")

    def body(self, payload: ListingPayload) -> dict[str, Any]:
        return {
            "sku": payload.reference,
            "title": payload.name,
            "content": payload.description,
            "sale_price": payload.price_vnd,
            "original_price": payload.compare_at_price_vnd or payload.price_vnd,
            "quantity": payload.stock,
            "cat_id": payload.category_id,
            "image_urls": list(payload.image_urls),
            "weight": payload.weight_grams,
            "brand_name": payload.brand,
            "gtin": payload.gtin,
            "origin_url": payload.url,
        }
