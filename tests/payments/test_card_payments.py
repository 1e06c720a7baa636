"""Card payments end to end: the real stripe library against the fake Stripe API.

The checkout opens a Checkout Session in VND, the webhook (signed with the real scheme)
decides what the order becomes, and every event applies once, whatever its order.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus, PaymentStatus
from marketplace.payments import ledger
from marketplace.payments.models import CardPayment, LedgerKind, StripeEvent
from tests.conftest import csrf_token_from
from tests.factories import log_in, make_product, make_shop, make_user
from tests.orders.helpers import add_to_cart, place_order
from tests.payments.conftest import stripe_test_config


@pytest.fixture
def app_config(tmp_path, database_url, fake_stripe):
    return stripe_test_config(tmp_path, database_url, fake_stripe)


@pytest.fixture
def bought(app, client):
    """A shopper who checked out 2 × 150 000 đ by card: (order, product, session id)."""
    seller = make_user(email="seller@example.com")
    product = make_product(shop=make_shop(owner=seller), price_vnd=150_000, stock=5)
    log_in(client, make_user(email="shopper@example.com"))
    add_to_cart(client, product, 2)
    response = place_order(client, payment_method="card")
    assert response.status_code == 303
    order = db.session.scalar(select(Order))
    payment = db.session.scalar(select(CardPayment))
    assert response.headers["Location"] == payment.session_url
    return order, product, payment.session_id


def _post(client, fake, kind, obj, **sign):
    payload, signature = fake.event(kind, obj, **sign)
    return client.post(
        "/payments/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def _completed(client, fake, session_id):
    session = fake.complete(session_id)
    return _post(client, fake, "checkout.session.completed", session), session


def test_a_card_checkout_opens_a_session_in_vnd_and_holds_the_stock(
    app, client, fake_stripe, bought
):
    order, product, session_id = bought

    created = fake_stripe.api_requests("POST", "/v1/checkout/sessions")
    assert len(created) == 1
    body = created[0].body
    assert body["currency"] == "vnd"
    assert body["line_items"][0]["price_data"]["unit_amount"] == "150000"  # zero-decimal
    assert body["line_items"][0]["quantity"] == "2"
    assert created[0].headers.get("Idempotency-Key")
    assert fake_stripe.session(session_id)["amount_total"] == order.total_vnd
    assert order.status == OrderStatus.AWAITING_PAYMENT
    db.session.expire_all()
    assert db.session.get(Product, product.id).stock == 3
    back = client.get(f"/payments/stripe/return/{order.checkout_id}?session_id={session_id}")
    assert 'data-payment-state="waiting"' in back.get_data(as_text=True)


def test_the_webhook_marks_the_order_paid_once_however_often_it_comes(
    app, client, fake_stripe, bought
):
    order, _product, session_id = bought
    first, session = _completed(client, fake_stripe, session_id)
    payload, signature = fake_stripe.event("checkout.session.completed", session)
    headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}

    again = [
        client.post("/payments/stripe/webhook", data=payload, headers=headers) for _ in range(2)
    ]

    assert first.status_code == 200 and all(r.status_code == 200 for r in again)
    assert json.loads(again[-1].data)["result"] == "already applied"
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.status, order.payment_status) == (OrderStatus.PLACED, PaymentStatus.PAID)
    assert [e.step for e in order.events].count("paid") == 1
    back = client.get(f"/payments/stripe/return/{order.checkout_id}")
    assert 'data-payment-state="paid"' in back.get_data(as_text=True)


@pytest.mark.parametrize(
    "sign",
    [
        {"secret": "whsec_someone_else"},
        {"timestamp": int(time.time()) - 3600},  # replayed an hour later
        {"timestamp": int(time.time()) + 3600},  # the library alone accepts the future
    ],
    ids=["wrong secret", "too old", "in the future"],
)
def test_a_bad_signature_is_a_400_and_changes_nothing(app, client, fake_stripe, bought, sign):
    order, _product, session_id = bought
    session = fake_stripe.complete(session_id)

    response = _post(client, fake_stripe, "checkout.session.completed", session, **sign)

    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0
    db.session.refresh(order)
    assert order.payment_status == PaymentStatus.UNPAID


def test_a_missing_signature_or_a_changed_body_is_a_400(app, client, fake_stripe, bought):
    _order, _product, session_id = bought
    session = fake_stripe.complete(session_id)
    payload, signature = fake_stripe.event("checkout.session.completed", session)

    missing = client.post("/payments/stripe/webhook", data=payload)
    changed = client.post(
        "/payments/stripe/webhook",
        data=payload.replace(b'"paid"', b'"unpaid"', 1),
        headers={"Stripe-Signature": signature},
    )

    assert missing.status_code == changed.status_code == 400


def test_an_expired_session_cancels_the_order_and_releases_the_stock_once(
    app, client, fake_stripe, bought
):
    order, product, session_id = bought
    session = fake_stripe.expire(session_id)

    responses = [_post(client, fake_stripe, "checkout.session.expired", session) for _ in range(3)]

    assert all(r.status_code == 200 for r in responses)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED
    assert db.session.get(Product, product.id).stock == 5


def test_an_expiry_arriving_after_the_payment_changes_nothing(app, client, fake_stripe, bought):
    order, product, session_id = bought
    _response, session = _completed(client, fake_stripe, session_id)
    late = dict(session, status="expired")

    assert _post(client, fake_stripe, "checkout.session.expired", late).status_code == 200

    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.PLACED
    assert db.session.get(Product, product.id).stock == 3


def test_refunds_apply_once_in_any_order_and_come_off_the_ledger(app, client, fake_stripe, bought):
    order, _product, session_id = bought
    session = fake_stripe.complete(session_id)
    intent = session["payment_intent"]
    intent_id = intent["id"] if isinstance(intent, dict) else intent
    partial = fake_stripe.refund(intent_id, amount=50_000)
    charge = fake_stripe.charges[partial["charge"]]
    first_refund = dict(charge, amount_refunded=50_000, refunded=False)

    # The refund's event comes before the payment's: it waits, then applies.
    assert _post(client, fake_stripe, "charge.refunded", first_refund).status_code == 200
    _post(client, fake_stripe, "checkout.session.completed", session)
    _post(client, fake_stripe, "charge.refunded", first_refund)  # a new event id, same total

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.refunded_vnd == 50_000
    assert order.payment_status == PaymentStatus.PAID
    assert [e.step for e in order.events].count("refunded") == 1


def test_a_delivered_card_order_is_owed_to_the_shop_less_the_withheld_tax(
    app, client, fake_stripe, bought
):
    order, _product, session_id = bought
    _completed(client, fake_stripe, session_id)
    seller = log_in(app.test_client(), db.session.get(Order, order.id).shop.owner)
    for step, data in (
        ("confirm", {}),
        ("ship", {"carrier": "GHN", "tracking_number": "GHN1"}),
        ("deliver", {}),
    ):
        token = csrf_token_from(seller.get(f"/seller/orders/{order.number}").get_data(as_text=True))
        seller.post(f"/seller/orders/{order.number}/{step}", data={"csrf_token": token, **data})

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.DELIVERED
    # 300 000 đ of goods and 30 000 đ shipping; a household business: 1 % VAT, 0.5 % PIT.
    assert ledger.balance(order.shop) == 330_000 - 3_000 - 1_500
    kinds = sorted(entry.kind for entry in ledger.entries(order.shop))
    assert kinds == sorted([LedgerKind.SALE, LedgerKind.VAT, LedgerKind.PIT])
    assert "325.500" in seller.get("/seller/balance").get_data(as_text=True)


def test_cancelling_a_paid_card_order_asks_stripe_for_the_refund_once(
    app, client, fake_stripe, bought
):
    order, product, session_id = bought
    _completed(client, fake_stripe, session_id)
    seller = log_in(app.test_client(), db.session.get(Order, order.id).shop.owner)
    token = csrf_token_from(seller.get(f"/seller/orders/{order.number}").get_data(as_text=True))

    seller.post(
        f"/seller/orders/{order.number}/cancel", data={"csrf_token": token, "reason": "Hết hàng"}
    )

    refunds = fake_stripe.api_requests("POST", "/v1/refunds")
    assert len(refunds) == 1
    assert int(refunds[0].body["amount"]) == 330_000
    db.session.expire_all()
    assert db.session.get(Product, product.id).stock == 5


def test_an_event_for_a_session_we_do_not_know_is_acknowledged(app, client, fake_stripe, caplog):
    unknown = {"id": "cs_test_unknown", "object": "checkout.session", "payment_status": "paid"}
    response = _post(client, fake_stripe, "checkout.session.completed", unknown)

    assert response.status_code == 200
    assert json.loads(response.data)["result"] == "unknown session"
    assert "cs_test_unknown" in caplog.text


def test_when_stripe_is_down_the_shopper_can_try_again_with_the_same_key(app, client, fake_stripe):
    product = make_product(price_vnd=150_000, stock=5)
    log_in(client, make_user())
    add_to_cart(client, product)
    fake_stripe.fail_next(2)  # the call and the library's own retry

    response = place_order(client, payment_method="card")

    order = db.session.scalar(select(Order))
    assert response.status_code == 303 and "/account/orders" in response.headers["Location"]
    assert order.status == OrderStatus.AWAITING_PAYMENT
    page = client.get(f"/account/orders/{order.number}").get_data(as_text=True)
    retried = client.post(
        f"/account/orders/{order.number}/pay", data={"csrf_token": csrf_token_from(page)}
    )
    assert retried.status_code == 303 and "/pay/" in retried.headers["Location"]
    keys = {
        r.headers.get("Idempotency-Key")
        for r in fake_stripe.api_requests("POST", "/v1/checkout/sessions")
    }
    assert len(keys) == 1


def test_an_unpaid_card_order_expires_and_its_session_is_closed(
    app, app_config, client, fake_stripe, bought
):
    order, product, session_id = bought
    order.pay_by = order.pay_by - timedelta(hours=2)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["orders", "expire"])

    assert result.exit_code == 0, result.output
    assert fake_stripe.session(session_id)["status"] == "expired"
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED
    assert db.session.get(Product, product.id).stock == 5


def test_expiry_finds_a_payment_whose_webhook_was_lost(app, client, fake_stripe, bought):
    order, product, session_id = bought
    fake_stripe.complete(session_id)  # paid; the webhook never arrives
    order.pay_by = order.pay_by - timedelta(hours=2)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["orders", "expire"])

    assert "1 found paid" in result.output
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.status, order.payment_status) == (OrderStatus.PLACED, PaymentStatus.PAID)
    assert db.session.get(Product, product.id).stock == 3
