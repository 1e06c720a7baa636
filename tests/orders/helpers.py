"""Shared steps of the buying tests: a shopper's cart filled and checked out over HTTP."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any

from flask.testing import FlaskClient

from marketplace.catalog.models import Product
from marketplace.shops import places
from tests.conftest import csrf_token_from

CA_MAU = places.default_province_code()
COMMUNE = places.communes(CA_MAU)[1].code


def cookie_header(client: FlaskClient) -> str:
    """The test client's cookies as a ``Cookie`` header, for requests over real HTTP."""
    jar = SimpleCookie()
    for cookie in client._cookies.values():  # type: ignore[attr-defined]
        jar[cookie.key] = cookie.value
    return "; ".join(f"{key}={morsel.value}" for key, morsel in jar.items())


def add_to_cart(client: FlaskClient, product: Product, quantity: int = 1) -> Any:
    return client.post(f"/cart/add/{product.id}", data={"quantity": str(quantity)})


def checkout_form(client: FlaskClient) -> dict[str, str]:
    """The checkout page's hidden fields (CSRF and the checkout token) and an address."""
    page = client.get("/checkout")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="token" name="token" type="hidden" value="([^"]+)"', html
    )
    assert token, "the checkout form has no token"
    return {
        "csrf_token": csrf_token_from(html),
        "token": token.group(1),
        "name": "Trần Văn Bình",
        "phone": "0987 654 321",
        "street": "12 Lý Thường Kiệt",
        "province_code": str(CA_MAU),
        "commune_code": str(COMMUNE),
        "note": "",
        "payment_method": "cod",
    }


def place_order(client: FlaskClient, **changes: str) -> Any:
    form = checkout_form(client)
    form.update(changes)
    return client.post("/checkout", data=form)
