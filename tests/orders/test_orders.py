"""An order's life: the seller's steps, cancellation with restocking, expiry, privacy."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import Order, OrderStatus, PaymentStatus
from tests.conftest import csrf_token_from, process_config
from tests.factories import log_in, make_product, make_shop, make_user
from tests.orders.helpers import add_to_cart, place_order


def _ordered(client, product, quantity=1, **changes):
    add_to_cart(client, product, quantity)
    response = place_order(client, **changes)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return db.session.scalar(select(Order).order_by(Order.id.desc()))


def _step(client, order, step, **data):
    page = client.get(f"/seller/orders/{order.number}")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(f"/seller/orders/{order.number}/{step}", data={"csrf_token": token, **data})


def _mails(caplog, to: str) -> list[str]:
    """The mails logged (no MAIL_SERVER in tests) to ``to``: subject and body."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "marketplace.core.mail" and f"to={to} " in r.getMessage()
    ]


@pytest.fixture
def seller_and_product(app):
    seller = make_user(email="seller@example.com")
    shop = make_shop(owner=seller)
    return seller, make_product(shop=shop, stock=5, price_vnd=100_000)


def test_the_seller_confirms_ships_delivers_and_collects_cash(
    app, client, seller_and_product, caplog
):
    caplog.set_level("INFO", logger="marketplace.core.mail")
    seller, product = seller_and_product
    shopper = make_user()
    log_in(client, shopper)
    order = _ordered(client, product, 2)
    seller_client = log_in(app.test_client(), seller)

    assert _step(seller_client, order, "confirm").status_code == 303
    assert (
        _step(
            seller_client, order, "ship", carrier="VNPost", tracking_number="EB123456789VN"
        ).status_code
        == 303
    )
    assert _step(seller_client, order, "deliver").status_code == 303
    assert _step(seller_client, order, "collect").status_code == 303

    db.session.refresh(order)
    assert order.status == OrderStatus.DELIVERED
    assert order.payment_status == PaymentStatus.PAID
    assert (order.carrier, order.tracking_number) == ("VNPost", "EB123456789VN")
    steps = [event.step for event in order.events]
    assert steps == ["placed", "confirmed", "shipped", "delivered", "collected"]
    page = client.get(f"/account/orders/{order.number}").get_data(as_text=True)
    assert "EB123456789VN" in page
    # A mail to each side at every step: placed, confirmed, shipped, delivered, collected.
    assert len(_mails(caplog, shopper.email)) == 5
    assert len(_mails(caplog, seller.email)) == 5


def test_an_illegal_step_is_refused_with_a_message_and_changes_nothing(
    app, client, seller_and_product
):
    seller, product = seller_and_product
    log_in(client, make_user())
    order = _ordered(client, product)
    seller_client = log_in(app.test_client(), seller)

    response = _step(seller_client, order, "deliver")  # not confirmed, not shipped

    assert response.status_code == 303
    db.session.refresh(order)
    assert order.status == OrderStatus.PLACED
    page = seller_client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "flash-error" in page


def test_the_seller_cancels_with_a_reason_and_the_stock_comes_back_once(
    app, client, seller_and_product, caplog
):
    caplog.set_level("INFO", logger="marketplace.core.mail")
    seller, product = seller_and_product
    shopper = make_user()
    log_in(client, shopper)
    order = _ordered(client, product, 3)
    seller_client = log_in(app.test_client(), seller)

    assert _step(seller_client, order, "cancel", reason="").status_code == 303
    db.session.refresh(order)
    assert order.status == OrderStatus.PLACED  # a reason is required
    _step(seller_client, order, "cancel", reason="Hết hàng ở kho")
    _step(seller_client, order, "cancel", reason="Bấm lần hai")

    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED
    assert db.session.get(Product, product.id).stock == 5
    assert sum("Hết hàng ở kho" in mail for mail in _mails(caplog, shopper.email)) == 1


def test_nobody_sees_or_changes_another_members_order(app, client, seller_and_product):
    _seller, product = seller_and_product
    log_in(client, make_user())
    order = _ordered(client, product)
    stranger = log_in(app.test_client(), make_user())
    other = make_user()
    make_shop(owner=other, name="Gian hàng khác")
    other_seller = log_in(app.test_client(), other)
    token = csrf_token_from(stranger.get("/account").get_data(as_text=True))

    assert stranger.get(f"/account/orders/{order.number}").status_code == 404
    assert (
        stranger.post(
            f"/account/orders/{order.number}/cancel", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        stranger.post(f"/account/orders/{order.number}/pay", data={"csrf_token": token}).status_code
        == 404
    )
    assert stranger.get(f"/seller/orders/{order.number}").status_code == 404
    for step in ("confirm", "ship", "deliver", "collect", "received", "cancel"):
        assert (
            stranger.post(
                f"/seller/orders/{order.number}/{step}", data={"csrf_token": token}
            ).status_code
            == 404
        )
        other_token = csrf_token_from(other_seller.get("/seller").get_data(as_text=True))
        response = other_seller.post(
            f"/seller/orders/{order.number}/{step}", data={"csrf_token": other_token}
        )
        assert response.status_code == 404
    assert other_seller.get(f"/seller/orders/{order.number}").status_code == 404
    assert stranger.get(f"/admin/orders/{order.number}").status_code == 403
    assert (
        stranger.post(
            f"/admin/orders/{order.number}/cancel", data={"csrf_token": token}
        ).status_code
        == 403
    )
    db.session.refresh(order)
    assert order.status == OrderStatus.PLACED


def test_the_shopper_may_cancel_before_the_shop_confirms(app, client, seller_and_product):
    _seller, product = seller_and_product
    log_in(client, make_user())
    order = _ordered(client, product, 2)
    page = client.get(f"/account/orders/{order.number}").get_data(as_text=True)

    client.post(
        f"/account/orders/{order.number}/cancel",
        data={"csrf_token": csrf_token_from(page), "reason": "Đặt nhầm"},
    )

    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED
    assert db.session.get(Product, product.id).stock == 5


def _expire_command(app_config) -> subprocess.Popen:
    env_config = process_config(app_config["SQLALCHEMY_DATABASE_URI"], app_config["INSTANCE_PATH"])
    script = (
        "import sys, json; from marketplace import create_app; "
        "app = create_app(json.loads(sys.argv[1])); "
        "app.test_cli_runner().invoke(args=['orders', 'expire'], catch_exceptions=False)"
    )
    import json

    return subprocess.Popen([sys.executable, "-c", script, json.dumps(env_config)])


def test_an_order_left_unconfirmed_a_day_is_cancelled_once_even_by_two_runs_at_once(
    app, app_config, client, seller_and_product
):
    _seller, product = seller_and_product
    shopper = make_user()
    log_in(client, shopper)
    order = _ordered(client, product, 2)
    fresh = _ordered(client, product, 1)
    order.confirm_by -= timedelta(hours=25)
    db.session.commit()

    runs = [_expire_command(app_config) for _ in range(2)]
    assert [run.wait(timeout=60) for run in runs] == [0, 0]

    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED
    assert db.session.get(Order, fresh.id).status == OrderStatus.PLACED
    assert db.session.get(Product, product.id).stock == 4  # 5 - 2 - 1 + 2, once
    assert [event.step for event in db.session.get(Order, order.id).events].count("cancelled") == 1


def test_expiry_leaves_an_order_that_changed_since_it_was_listed(app, client, seller_and_product):
    seller, product = seller_and_product
    log_in(client, make_user())
    order = _ordered(client, product)
    order.confirm_by -= timedelta(hours=25)
    db.session.commit()
    due = services.due_for_expiry()
    services.confirm(order, by=seller)  # the seller clicks just before the job locks it
    db.session.commit()

    assert due == [order.id]
    assert services.expire(db.session.get(Order, order.id)) is False
    assert db.session.get(Order, order.id).status == OrderStatus.CONFIRMED


def test_the_provincial_report_counts_orders_and_sales_by_month_and_commune(
    app, client, seller_and_product
):
    from marketplace.core.models import local_today
    from marketplace.moderation import figures

    seller, product = seller_and_product
    log_in(client, make_user())
    kept = _ordered(client, product, 2)  # 200 000 đ of goods
    dropped = _ordered(client, product, 1)
    services.cancel(dropped, by=seller, reason="Hết hàng")
    db.session.commit()

    report = figures.build_report(local_today())
    rows = list(figures.report_rows(report))

    assert report.orders[-1] == 1 and report.sales_vnd[-1] == 200_000
    commune = next(row for row in report.communes if row.code == kept.shop.commune_code)
    assert (commune.orders, commune.sales_vnd) == (1, 200_000)
    assert ["sales_by_month", report.months[-1], 1, 200_000] in rows
