"""The cart: bounded by stock, changes flagged (never silently applied), merged at log-in."""

from __future__ import annotations

from marketplace.catalog import services as catalog
from marketplace.extensions import db
from tests.conftest import csrf_token_from
from tests.factories import log_in, make_product, make_shop, make_user
from tests.orders.helpers import add_to_cart, place_order


def _cart(client) -> str:
    return client.get("/cart").get_data(as_text=True)


def test_a_visitor_adds_from_two_shops_and_sees_them_grouped_with_shipping(app, client):
    honey = make_product(shop=make_shop(name="Mật Ong U Minh"), name="Mật ong rừng U Minh")
    fish = make_product(shop=make_shop(name="Khô Cá Út Hiền"), name="Khô cá sặc")

    add_to_cart(client, honey, 2)
    add_to_cart(client, fish)
    page = _cart(client)

    assert page.count('class="card cart-shop"') == 2
    assert "Mật ong rừng U Minh" in page and "Khô cá sặc" in page
    assert "30.000" in page  # each shop's flat shipping fee


def test_quantities_are_held_to_the_stock(app, client):
    product = make_product(stock=3)

    add_to_cart(client, product, 2)
    response = add_to_cart(client, product, 5)
    page = _cart(client)

    assert response.status_code == 303
    assert 'value="3"' in page
    token = csrf_token_from(page)
    client.post(f"/cart/update/{product.id}", data={"csrf_token": token, "quantity": "99"})
    assert 'value="3"' in _cart(client)


def test_a_sold_out_or_hidden_listing_cannot_be_added(app, client):
    sold_out = make_product(stock=0)
    hidden = make_product(stock=5)
    catalog.hide_product(hidden, reason="Báo cáo vi phạm")
    db.session.commit()

    add_to_cart(client, sold_out)
    add_to_cart(client, hidden)

    assert "cart-line" not in _cart(client)


def test_a_price_change_is_flagged_and_checkout_waits_until_the_shopper_accepts_it(app, client):
    product = make_product(price_vnd=100_000, stock=5)
    log_in(client, make_user())
    add_to_cart(client, product)
    catalog.set_price_and_stock(product, price_vnd=120_000, stock=5)
    db.session.commit()

    page = _cart(client)
    refused = place_order(client)

    assert "has-problem" in page and "100.000" in page and "120.000" in page
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/cart")
    client.post(f"/cart/accept/{product.id}", data={"csrf_token": csrf_token_from(page)})
    assert "has-problem" not in _cart(client)
    assert place_order(client).headers["Location"].startswith("/account/orders")


def test_a_listing_that_became_unavailable_stays_in_the_cart_flagged(app, client):
    product = make_product(stock=5)
    add_to_cart(client, product)
    catalog.hide_product(product, reason="Báo cáo vi phạm")
    db.session.commit()

    page = _cart(client)

    assert product.name in page and "has-problem" in page


def test_a_visitors_cart_joins_the_members_cart_at_log_in(app, client):
    member = make_user()
    first, second = make_product(stock=5), make_product(stock=5, name="Tôm khô Rạch Gốc")
    member_client = log_in(app.test_client(), member)
    add_to_cart(member_client, first, 1)

    add_to_cart(client, first, 2)
    add_to_cart(client, second, 1)
    log_in(client, member)
    page = _cart(client)

    assert "Tôm khô Rạch Gốc" in page
    assert 'value="3"' in page  # 1 already in the member's cart, 2 from the visit


def test_adding_from_another_site_is_refused(app, client):
    product = make_product(stock=5)

    response = client.post(
        f"/cart/add/{product.id}",
        data={"quantity": "1"},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert "cart-line" not in _cart(client)


def test_bad_quantities_get_a_message_not_an_error(app, client):
    product = make_product(stock=5)
    add_to_cart(client, product)
    token = csrf_token_from(_cart(client))

    for quantity in ("-1", "abc", "²", "1e9", ""):
        response = client.post(
            f"/cart/update/{product.id}", data={"csrf_token": token, "quantity": quantity}
        )
        assert response.status_code == 303
    assert add_to_cart(client, product, "x").status_code == 303
    assert client.post("/cart/add/999999", data={"quantity": "1"}).status_code == 404
