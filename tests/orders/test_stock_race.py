"""The last unit cannot be sold twice: many shoppers checking out at once over real HTTP."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from sqlalchemy import func, select

from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderLine
from tests.factories import log_in, make_product, make_user
from tests.orders.helpers import add_to_cart, checkout_form, cookie_header

SHOPPERS = 50
STOCK = 10


def test_fifty_shoppers_at_once_buy_exactly_the_ten_in_stock(app, served):
    product = make_product(stock=STOCK, price_vnd=120_000)
    prepared = []
    for _ in range(SHOPPERS):
        client = app.test_client()
        log_in(client, make_user())
        add_to_cart(client, product, 1)
        form = checkout_form(client)  # first: showing the form may renew the session cookie
        prepared.append((cookie_header(client), form))
    start = threading.Barrier(SHOPPERS)

    def buy(cookie_and_form):
        cookie, form = cookie_and_form
        connection = HTTPConnection("127.0.0.1", served, timeout=60)
        start.wait()
        connection.request(
            "POST",
            "/checkout",
            body=urlencode(form),
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        location = response.getheader("Location") or ""
        response.read()
        if location.endswith("/cart"):
            connection.request(
                "GET", "/cart", headers={"Cookie": cookie + "; " + _session_from(response)}
            )
            page = connection.getresponse().read().decode()
        else:
            page = ""
        connection.close()
        return response.status, location, page

    with ThreadPoolExecutor(SHOPPERS) as pool:
        results = list(pool.map(buy, prepared))

    db.session.expire_all()
    sold = db.session.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0)))
    assert sold == STOCK
    assert db.session.scalar(select(func.count(Order.id))) == STOCK
    assert db.session.get(Product, product.id).stock == 0
    assert all(status == 303 for status, _location, _page in results)
    turned_away = [page for _status, location, page in results if location.endswith("/cart")]
    assert len(turned_away) == SHOPPERS - STOCK
    assert all("Hết hàng" in page or "hết hàng" in page for page in turned_away)


def _session_from(response) -> str:
    cookie = SimpleCookie()
    for header in response.getheaders():
        if header[0].lower() == "set-cookie":
            cookie.load(header[1])
    return "; ".join(f"{key}={morsel.value}" for key, morsel in cookie.items())
