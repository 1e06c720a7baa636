"""Bank transfer by VietQR: offered when the shop has an account, marked received by hand."""

from __future__ import annotations

import re

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.orders.models import Order, PaymentStatus
from marketplace.payments.vietqr import crc16
from tests.conftest import csrf_token_from, submit_form
from tests.factories import log_in, make_product, make_shop, make_user
from tests.orders.helpers import add_to_cart, checkout_form, place_order


def _shop_with_account(app, owner):
    shop = make_shop(owner=owner)
    client = log_in(app.test_client(), owner)
    response = submit_form(
        client,
        "/seller/shop/selling",
        {
            "shipping_fee_vnd": "25.000",
            "free_shipping_from_vnd": "",
            "bank_bin": "970436",
            "bank_account_number": "0011 0012 34567",
            "bank_account_name": "Nguyễn Thị Hiền",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    db.session.refresh(shop)
    return shop, client


def test_a_seller_enters_an_account_and_shoppers_pay_by_vietqr(app, client):
    seller = make_user(email="seller@example.com")
    shop, seller_client = _shop_with_account(app, seller)
    assert (shop.bank_account_number, shop.bank_account_name) == (
        "0011001234567",
        "NGUYỄN THỊ HIỀN",
    )
    product = make_product(shop=shop, price_vnd=150_000, stock=5)
    log_in(client, make_user())
    add_to_cart(client, product)
    assert 'value="vietqr"' in client.get("/checkout").get_data(as_text=True)

    place_order(client, payment_method="vietqr")
    order = db.session.scalar(select(Order))
    page = client.get(f"/account/orders/{order.number}").get_data(as_text=True)

    assert order.total_vnd == 175_000
    assert (
        "vietqr-title" in page and "<svg" in page.split("</h2>", 1)[-1] and "0011001234567" in page
    )
    token = csrf_token_from(
        seller_client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    )
    seller_client.post(f"/seller/orders/{order.number}/received", data={"csrf_token": token})
    db.session.refresh(order)
    assert order.payment_status == PaymentStatus.PAID
    assert "vietqr-title" not in client.get(f"/account/orders/{order.number}").get_data(
        as_text=True
    )


def test_transfer_is_not_offered_by_a_shop_without_an_account(app, client):
    product = make_product(stock=5)
    log_in(client, make_user())
    add_to_cart(client, product)

    form = checkout_form(client)
    refused = client.post("/checkout", data={**form, "payment_method": "vietqr"})

    assert refused.status_code == 400
    assert db.session.scalar(select(Order)) is None


def test_bad_selling_settings_get_a_message(app):
    seller = make_user()
    make_shop(owner=seller)
    client = log_in(app.test_client(), seller)

    for data in (
        {"shipping_fee_vnd": "-5", "bank_bin": ""},
        {
            "shipping_fee_vnd": "20000",
            "bank_bin": "123456",
            "bank_account_number": "1234",
            "bank_account_name": "A",
        },
        {
            "shipping_fee_vnd": "20000",
            "bank_bin": "970436",
            "bank_account_number": "12",
            "bank_account_name": "A",
        },
        {
            "shipping_fee_vnd": "20000",
            "bank_bin": "970436",
            "bank_account_number": "123456",
            "bank_account_name": "",
        },
    ):
        response = submit_form(client, "/seller/shop/selling", data)
        assert response.status_code == 400, data


def test_the_vietqr_payload_carries_the_order_number_and_amount():
    from marketplace.payments.vietqr import transfer_note, vietqr_payload

    payload = vietqr_payload("970436", "0011001234567", 175_000, transfer_note("DH7K3F9Q"))

    assert "5406175000" in payload and "DH7K3F9Q" in payload
    assert payload[-4:] == crc16(payload[:-4])
    assert re.search(r"0006970436", payload)
