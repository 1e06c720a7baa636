"""``flask orders …``: the deadlines of orders, from cron."""

from __future__ import annotations

import logging

import click
from flask import Flask
from flask.cli import AppGroup

from marketplace.core.database import begin_write_transaction
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import Order, OrderStatus, PaymentMethod
from marketplace.payments import gateway
from marketplace.payments import services as payments

log = logging.getLogger(__name__)
orders_cli = AppGroup("orders", help="Orders.")


@orders_cli.command("expire")
def expire_command() -> None:
    """Cancel orders past their deadline and put their stock back.

    Unconfirmed orders go after ORDER_CONFIRM_HOURS, unpaid card orders after
    CARD_PAYMENT_MINUTES (their Stripe session is closed first). Safe from cron, and twice
    at once: each order is re-checked under its row lock before it is cancelled.
    """
    cancelled = paid = 0
    due = services.due_for_expiry()
    db.session.rollback()  # each order below in a write transaction of its own
    for order_id in due:
        try:
            begin_write_transaction()
            order = db.session.get(Order, order_id)
            if (
                order is not None
                and order.status == OrderStatus.AWAITING_PAYMENT
                and order.payment_method == PaymentMethod.CARD
                and gateway.enabled()
            ):
                # Commits before its network call, then writes again: see its docstring.
                outcome = payments.settle_expired_card_order(order)
                if outcome != "no session":
                    db.session.commit()
                    paid += outcome == "paid"
                    cancelled += outcome == "expired"
                    continue
                # Its payment page never opened (still in our write transaction): nothing
                # to close at Stripe, so it is cancelled like any other.
            if order is not None and services.expire(order):
                cancelled += 1
            db.session.commit()
        except gateway.GatewayError as error:
            db.session.rollback()
            log.warning("order %s: %s; trying again on the next run", order_id, error)
    click.echo(f"{cancelled} orders cancelled, {paid} found paid.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(orders_cli)
