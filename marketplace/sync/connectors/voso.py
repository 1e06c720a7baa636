"""voso.vn (Viettel Post): the assumed contract is in docs/channels/voso.md."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import requests

from marketplace.sync.connectors.base import ListingPayload, PushConnector, Pushed, Refused, Remote


class VosoConnector(PushConnector):
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

    def headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        assert self.access is not None
        partner, _sep, secret = self.access.credentials.partition(":")
        timestamp = str(int(time.time()))
        message = f"{method}\n{path}\n{timestamp}\n".encode() + body
        signature = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        return {
            "X-Voso-Partner": partner,
            "X-Voso-Timestamp": timestamp,
            "X-Voso-Signature": signature,
        }

    def error_in(self, response: requests.Response) -> str | None:
        # voso may report an error in a 200 body (docs/channels/voso.md).
        try:
            body = response.json()
        except ValueError:
            return None
        if isinstance(body, dict) and body.get("status") == "error":
            return str(body.get("msg") or body.get("error_code") or "error")[:500]
        return None

    def upsert(self, payload: ListingPayload, external_id: str | None) -> Pushed:
        # voso does not refuse a second item with one SKU: look ours up before creating,
        # so a retry after a lost answer updates instead of creating a duplicate.
        if external_id is None:
            found = self.get(payload.reference)
            external_id = found.external_id if found is not None else None
        if external_id is not None:
            response = self.request("PATCH", f"/v2/items/{quote(external_id, safe='')}",
                                    self.body(payload))  # fmt: skip
            if response.status_code != 404:
                data = response.json().get("data") or {}
                return Pushed(external_id=external_id, url=data.get("url"))
        data = self.request("POST", "/v2/items", self.body(payload)).json().get("data") or {}
        if not data.get("item_id"):
            raise Refused("voso answered without an item id")
        return Pushed(external_id=str(data["item_id"]), url=data.get("link"))

    def delete(self, reference: str, external_id: str | None) -> None:
        if external_id is None:
            found = self.get(reference)
            if found is None:
                return
            external_id = found.external_id
        self.request("DELETE", f"/v2/items/{quote(external_id, safe='')}")

    def get(self, reference: str) -> Remote | None:
        data = self.request("GET", f"/v2/items?sku={quote(reference, safe='')}").json()
        items = data.get("data") or []
        return _remote(items[0]) if items else None

    def listings(self) -> Iterator[Remote]:
        page: int | None = 1
        while page:
            data = self.request("GET", f"/v2/items?page={page}").json()
            yield from (_remote(item) for item in data.get("data") or [])
            page = data.get("next_page")

    def categories(self) -> list[tuple[str, str]]:
        data = self.request("GET", "/v2/categories").json()
        return [(str(item["cat_id"]), str(item["cat_name"])) for item in data.get("data") or []]


def _remote(item: dict[str, Any]) -> Remote:
    return Remote(
        reference=str(item.get("reference") or item.get("sku") or ""),
        external_id=str(item.get("external_id") or item.get("item_id")),
        fields=item,
    )
