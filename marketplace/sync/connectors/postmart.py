"""postmart.vn (VNPost): the assumed contract is in docs/channels/postmart.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from marketplace.sync.connectors.base import ListingPayload, PushConnector, Pushed, Remote


class PostmartConnector(PushConnector):
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

    def headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        assert self.access is not None
        return {"Authorization": f"Bearer {self.access.credentials}"}

    def upsert(self, payload: ListingPayload, external_id: str | None) -> Pushed:
        # PUT by seller SKU is idempotent: a retry after a lost answer updates the same one.
        response = self.request("PUT", _path(payload.reference), self.body(payload))
        data = response.json()
        return Pushed(external_id=str(data["product_id"]), url=data.get("url"))

    def delete(self, reference: str, external_id: str | None) -> None:
        self.request("DELETE", _path(reference))

    def get(self, reference: str) -> Remote | None:
        response = self.request("GET", _path(reference))
        if response.status_code == 404:
            return None
        return _remote(response.json())

    def listings(self) -> Iterator[Remote]:
        page = 1
        while True:
            data = self.request("GET", f"/products?page={page}&per_page=100").json()
            yield from (_remote(item) for item in data["items"])
            if page * 100 >= data["total"] or not data["items"]:
                return
            page += 1

    def categories(self) -> list[tuple[str, str]]:
        data = self.request("GET", "/categories").json()
        return [(str(item["id"]), str(item["name"])) for item in data["categories"]]


def _path(reference: str) -> str:
    return f"/products/{quote(reference, safe='')}"


def _remote(item: dict[str, Any]) -> Remote:
    reference = item.get("reference") or item.get("seller_sku") or ""
    return Remote(reference=str(reference), external_id=str(item["external_id"]), fields=item)
