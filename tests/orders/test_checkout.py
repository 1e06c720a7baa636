"""Checkout over HTTP: one order per shop, prices copied, stock taken, a retry is a no-op."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from tests.factories import log_in, make_product, make_shop, make_user
from tests.orders.helpers import add_to_cart, checkout_form, place_order


def test_checkout_over_two_shops_makes_one_order_per_shop_with_its_shipping_fee(app, client):
    honey = make_product(shop=make_shop(name="Mật Ong Rừng U Minh"), name="Mật ong rừng U Minh",
                         price_vnd=250_000, stock=5)  # fmt: skip
    fish_shop = make_shop(name="Khô Cá Út Hiền")
    fish_shop.free_shipping_from_vnd = 400_000
    db.session.commit()
    fish = make_product(shop=fish_shop, price_vnd=450_000, stock=3)
    shopper = make_user()
    log_in(client, shopper)
    add_to_cart(client, honey, 2)
    add_to_cart(client, fish, 1)

    response = place_order(client)

    assert response.status_code == 303
    orders = db.session.scalars(select(Order).order_by(Order.shop_id)).all()
    assert len(orders) == 2
    by_shop = {order.shop_id: order for order in orders}
    honey_order = by_shop[honey.shop_id]
    assert (honey_order.goods_vnd, honey_order.shipping_fee_vnd, honey_order.total_vnd) == (
        500_000, 30_000, 530_000)  # fmt: skip
    fish_order = by_shop[fish.shop_id]
    assert (fish_order.goods_vnd, fish_order.shipping_fee_vnd) == (450_000, 0)
    assert {o.status for o in orders} == {OrderStatus.PLACED}
    assert honey_order.lines[0].product_name == "Mật ong rừng U Minh"
    db.session.expire_all()
    assert db.session.get(Product, honey.id).stock == 3
    assert db.session.get(Product, fish.id).stock == 2
    page = client.get("/account/orders").get_data(as_text=True)
    assert honey_order.number in page and fish_order.number in page
    assert client.get("/cart").get_data(as_text=True).count("cart-line") == 0


def test_the_same_checkout_sent_twice_creates_the_orders_once(app, client):
    product = make_product(stock=5)
    log_in(client, make_user())
    add_to_cart(client, product, 2)
    form = checkout_form(client)

    first = client.post("/checkout", data=form)
    second = client.post("/checkout", data=form)

    assert first.status_code == second.status_code == 303
    assert db.session.scalar(select(func.count(Order.id))) == 1
    db.session.expire_all()
    assert db.session.get(Product, product.id).stock == 3


def test_later_edits_do_not_change_a_past_order(app, client):
    product = make_product(price_vnd=100_000, stock=5)
    log_in(client, make_user())
    add_to_cart(client, product)
    place_order(client)
    product.price_vnd, product.name = 200_000, "Tên mới"
    db.session.commit()

    order = db.session.scalar(select(Order))
    page = client.get(f"/account/orders/{order.number}").get_data(as_text=True)

    assert order.lines[0].unit_price_vnd == 100_000
    assert "Khô cá lóc đồng 1 nắng" in page and "Tên mới" not in page
