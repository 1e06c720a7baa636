"""Refunds, expiry and races found in review: each once a bug, each kept as a test."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from marketplace.catalog.models import Product
from marketplace.core.models import utcnow
from marketplace.core.outbox import OutboxMessage
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import gateway
from marketplace.payments import services as payments
from tests.conftest import csrf_token_from
from tests.factories import log_in, make_product, make_shop, make_user
from tests.orders.helpers import add_to_cart, place_order
from tests.payments.test_card_payments import _completed, _post, app_config  # noqa: F401


def test_card_order_whose_session_never_opened_still_expires(app, client, fake_stripe):
    product = make_product(price_vnd=150_000, stock=5)
    log_in(client, make_user())
    add_to_cart(client, product, 2)
    fake_stripe.fail_next(2)  # Stripe down at checkout; the shopper walks away
    place_order(client, payment_method="card")
    order = db.session.scalar(select(Order))
    assert order.status == OrderStatus.AWAITING_PAYMENT
    order.pay_by = utcnow() - timedelta(hours=2)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["orders", "expire"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED  # stays AWAITING
    assert db.session.get(Product, product.id).stock == 5  # stays 3: held forever


def _cancel_as_seller(app, order):
    seller = log_in(app.test_client(), order.shop.owner)
    page = seller.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    seller.post(
        f"/seller/orders/{order.number}/cancel",
        data={"csrf_token": csrf_token_from(page), "reason": "Hết hàng"},
    )


def test_a_refund_is_not_credited_to_another_cancelled_order(app, client, fake_stripe):
    a = make_product(shop=make_shop(owner=make_user(email="a@example.com"), name="Shop A"),
                     price_vnd=150_000, stock=5)  # fmt: skip
    b = make_product(shop=make_shop(owner=make_user(email="b@example.com"), name="Shop B"),
                     price_vnd=200_000, stock=5)  # fmt: skip
    log_in(client, make_user(email="shopper@example.com"))
    add_to_cart(client, a)
    add_to_cart(client, b)
    place_order(client, payment_method="card")
    session_id = db.session.scalar(select(payments.CardPayment)).session_id
    _completed(client, fake_stripe, session_id)
    first, second = db.session.scalars(select(Order).order_by(Order.id)).all()

    fake_stripe.fail_next(2)  # the first refund fails once (retried in 2 minutes)
    _cancel_as_seller(app, first)
    _cancel_as_seller(app, second)  # this one's refund goes through
    charge = next(iter(fake_stripe.charges.values()))
    _post(client, fake_stripe, "charge.refunded", dict(charge))
    db.session.execute(update(OutboxMessage).values(available_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    payments.drain_payments()  # the first order's retry

    sent = sum(refund["amount"] for refund in fake_stripe.refunds.values())
    assert sent == 180_000 + 230_000  # only 230 000: the first order's refund is never sent


def test_buyer_cannot_cancel_an_order_the_shop_confirmed_meanwhile(app):
    shopper = make_user(email="shopper@example.com")
    product = make_product(price_vnd=100_000, stock=5)
    from tests.orders.helpers import CA_MAU, COMMUNE

    with app.test_request_context():
        from marketplace.cart.services import MemberCart, add

        cart = MemberCart(shopper)
        add(cart, product, 1)
        shipping = orders.Shipping("Bình", "0987654321", "12 Lý Thường Kiệt", CA_MAU, COMMUNE)
        record = orders.checkout(shopper, cart, shipping, orders.PaymentMethod.COD, "t" * 20,
                                 card_enabled=False)  # fmt: skip
        db.session.commit()
        order = record.orders[0]
        assert order.status == OrderStatus.PLACED  # what the buyer's request read
        # The seller's confirm commits between that read and the buyer's row lock (PG).
        db.session.execute(
            update(Order).where(Order.id == order.id).values(status=OrderStatus.CONFIRMED)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        with pytest.raises(orders.InvalidTransition):
            orders.cancel_by_buyer(order, by=shopper, reason="đổi ý")


def test_retrying_a_card_payment_does_not_hold_sqlite_write_lock_during_stripe_call(
    app, client, fake_stripe, monkeypatch
):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite only")
    product = make_product(price_vnd=150_000, stock=5)
    log_in(client, make_user())
    add_to_cart(client, product)
    fake_stripe.fail_next(2)
    place_order(client, payment_method="card")
    order = db.session.scalar(select(Order))
    db.session.commit()
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    real, seen = gateway.create_session, []

    def create_session(**kwargs):
        other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append("free")
        except sqlite3.OperationalError as error:
            seen.append(str(error))
        finally:
            other.close()
        return real(**kwargs)

    monkeypatch.setattr(gateway, "create_session", create_session)
    page = client.get(f"/account/orders/{order.number}").get_data(as_text=True)
    client.post(f"/account/orders/{order.number}/pay", data={"csrf_token": csrf_token_from(page)})

    assert seen == ["free"]  # ["database is locked"]: every writer waits on Stripe


def test_an_order_cancelled_before_the_session_opened_is_not_refunded(app, client, fake_stripe):
    a = make_product(shop=make_shop(owner=make_user(email="a@example.com"), name="Shop A"),
                     price_vnd=150_000, stock=5)  # fmt: skip
    b = make_product(shop=make_shop(owner=make_user(email="b@example.com"), name="Shop B"),
                     price_vnd=200_000, stock=5)  # fmt: skip
    log_in(client, make_user(email="shopper@example.com"))
    add_to_cart(client, a)
    add_to_cart(client, b)
    fake_stripe.fail_next(2)  # Stripe down at checkout: no session yet
    place_order(client, payment_method="card")
    first, second = db.session.scalars(select(Order).order_by(Order.id)).all()
    page = client.get(f"/account/orders/{first.number}").get_data(as_text=True)
    client.post(f"/account/orders/{first.number}/cancel",
                data={"csrf_token": csrf_token_from(page), "reason": "đổi ý"})  # fmt: skip
    page = client.get(f"/account/orders/{second.number}").get_data(as_text=True)
    client.post(f"/account/orders/{second.number}/pay", data={"csrf_token": csrf_token_from(page)})
    payment = db.session.scalar(select(payments.CardPayment))
    db.session.refresh(payment)
    assert fake_stripe.session(payment.session_id)["amount_total"] == 230_000  # B only

    _completed(client, fake_stripe, payment.session_id)

    # A was never charged, yet 180 000 đ of B's payment goes back to the card.
    assert sum(refund["amount"] for refund in fake_stripe.refunds.values()) == 0


def test_a_fully_refunded_delivered_order_leaves_no_tax_withheld(app, client, fake_stripe):
    from marketplace.payments import ledger

    seller = make_user(email="seller@example.com")
    product = make_product(shop=make_shop(owner=seller), price_vnd=150_000, stock=5)
    log_in(client, make_user(email="shopper@example.com"))
    add_to_cart(client, product, 2)
    place_order(client, payment_method="card")
    order = db.session.scalar(select(Order))
    _r, session = _completed(
        client, fake_stripe, db.session.scalar(select(payments.CardPayment)).session_id
    )
    with app.test_request_context():
        orders.confirm(order, by=seller)
        orders.ship(order, by=seller, carrier="GHN", tracking_number="1")
        orders.deliver(order, by=seller)
        db.session.commit()
    intent = session["payment_intent"]
    refund = fake_stripe.refund(intent["id"] if isinstance(intent, dict) else intent)
    _post(client, fake_stripe, "charge.refunded", dict(fake_stripe.charges[refund["charge"]]))

    db.session.expire_all()
    assert ledger.balance(db.session.get(Order, order.id).shop) == 0  # -4 500: tax on no sale
