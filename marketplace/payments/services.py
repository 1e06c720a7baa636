"""Card payments: starting a Stripe Checkout, applying Stripe's webhook events, refunds.

Events are applied idempotently whatever their order or number: each event id is kept
once (``StripeEvent``), each step checks the state it moves from under a row lock, and
refunds carry Stripe's cumulative ``amount_refunded`` (the largest one seen wins), so a
second delivery, or an old event arriving after a newer one, changes nothing. Refunds
are asked of Stripe from the outbox's ``payments`` topic, after the cancellation commits.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.core import outbox
from marketplace.core.database import begin_write_transaction
from marketplace.core.errors import DomainError
from marketplace.core.mail import queue_mail
from marketplace.core.models import utcnow
from marketplace.core.money import format_vnd
from marketplace.core.security import MAX_ID
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderStatus, PaymentStatus
from marketplace.payments import gateway, ledger
from marketplace.payments.models import CardPayment, CardPaymentStatus, StripeEvent

log = logging.getLogger(__name__)
TOPIC = "payments"
MAX_ATTEMPTS = 10
MAX_AMOUNT_VND = 2**31 - 1  # the database's amounts are 32-bit


class PaymentError(DomainError):
    pass


# -- starting a payment ---------------------------------------------------------------------


def prepare_card_payment(record: Checkout) -> CardPayment:
    """Write the payment row of a card checkout, in the checkout's own transaction."""
    payment = db.session.scalar(select(CardPayment).where(CardPayment.checkout_id == record.id))
    if payment is None:
        payment = CardPayment(
            checkout_id=record.id,
            idempotency_key=f"checkout-{record.id}-{record.token[:16]}",
            amount_vnd=record.total_vnd,
        )
        db.session.add(payment)
        db.session.flush()
    return payment


def open_session(payment: CardPayment, *, success_url: str, cancel_url: str) -> str:
    """Return the Stripe page where the shopper pays, creating the session if needed.

    Called outside any transaction that matters: the call waits on the network. The same
    idempotency key is sent on every try, so a lost answer never makes a second session.
    """
    if payment.session_url and payment.status == CardPaymentStatus.OPEN:
        return payment.session_url
    if payment.status not in (CardPaymentStatus.STARTING, CardPaymentStatus.OPEN):
        raise PaymentError(_("This payment can no longer be made."))
    record = payment.checkout
    orders_ = [order for order in record.orders if order.status == OrderStatus.AWAITING_PAYMENT]
    if not orders_:
        raise PaymentError(_("This payment can no longer be made."))
    lines = [
        gateway.SessionLine(line.product_name, line.unit_price_vnd, line.quantity)
        for order in orders_
        for line in order.lines
    ]
    lines += [
        gateway.SessionLine(
            _("Shipping %(number)s", number=order.number), order.shipping_fee_vnd, 1
        )
        for order in orders_
        if order.shipping_fee_vnd
    ]
    deadline = min(order.pay_by for order in orders_ if order.pay_by is not None)
    try:
        state = gateway.create_session(
            lines=lines,
            reference=str(record.id),
            metadata={"checkout_id": str(record.id), "orders": ",".join(o.number for o in orders_)},
            success_url=success_url,
            cancel_url=cancel_url,
            # Stripe wants at least 30 minutes; our own deadline follows a little later.
            expires_at=max(deadline, utcnow() + timedelta(minutes=31)),
            idempotency_key=payment.idempotency_key,
            email=record.orders[0].buyer.email if record.orders else None,
        )
    except gateway.GatewayError as error:
        payment.last_error = str(error)[:500]
        db.session.commit()
        log.warning("could not open a Stripe session for checkout %s: %s", record.id, error)
        raise PaymentError(
            _("The card payment page could not be opened. Please try again in a moment.")
        ) from error
    payment.session_id, payment.session_url = state.id, state.url
    payment.status, payment.last_error = CardPaymentStatus.OPEN, None
    db.session.commit()
    return state.url or success_url


def payment_of(record: Checkout) -> CardPayment | None:
    return db.session.scalar(select(CardPayment).where(CardPayment.checkout_id == record.id))


# -- the webhook ------------------------------------------------------------------------------


def _id(obj: dict[str, Any], name: str) -> str | None:
    """The id in ``obj[name]`` (or in the object expanded there), None if absent.

    Raise ``gateway.BadEvent`` for anything else: no lookup is made with a number, a list
    or a text the database cannot store.
    """
    value = obj.get(name)
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return None
    if not gateway.is_stripe_id(value):
        raise gateway.BadEvent(f"{name} is not an id")
    return str(value)


def _amount(obj: dict[str, Any], name: str) -> int:
    value = obj.get(name) or 0
    if type(value) is not int or not 0 <= value <= MAX_AMOUNT_VND:
        raise gateway.BadEvent(f"{name} is not an amount in VND")
    return value


def apply_event(event: dict[str, Any]) -> str:
    """Apply one verified Stripe event (``gateway.verify_event``); return what happened.

    Raise ``gateway.BadEvent`` if a field the event is applied by has the wrong type.
    """
    event_id, kind, obj = str(event["id"]), str(event["type"]), event["data"]["object"]
    seen = StripeEvent(id=event_id, type=kind[:80])
    if kind == "charge.refunded":
        seen.payment_intent_id = _id(obj, "payment_intent")
        seen.amount_refunded_vnd = _amount(obj, "amount_refunded")
    try:
        with db.session.begin_nested():
            db.session.add(seen)
    except IntegrityError:
        return "already applied"
    handler = _HANDLERS.get(kind)
    if handler is None:
        return "ignored"
    return handler(obj)


def _payment_by_session(obj: dict[str, Any]) -> CardPayment | None:
    session_id = _id(obj, "id")
    if not session_id:
        return None
    payment = db.session.scalar(select(CardPayment).where(CardPayment.session_id == session_id))
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise gateway.BadEvent("metadata is not an object")
    if payment is None:
        # The answer to our create call may have been lost: the metadata still says whose.
        checkout_id = str(metadata.get("checkout_id") or "")
        if (
            len(checkout_id) <= 10
            and checkout_id.isascii()
            and checkout_id.isdigit()
            and int(checkout_id) <= MAX_ID
        ):
            payment = db.session.scalar(
                select(CardPayment).where(CardPayment.checkout_id == int(checkout_id))
            )
            if payment is not None and payment.session_id not in (None, session_id):
                return None
            if payment is not None:
                payment.session_id = session_id
    return payment


def _lock(payment: CardPayment) -> CardPayment:
    locked = db.session.get(CardPayment, payment.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    return locked


def _on_completed(obj: dict[str, Any]) -> str:
    payment = _payment_by_session(obj)
    if payment is None:
        log.warning("Stripe session %s is not one of ours", obj.get("id"))
        return "unknown session"
    if obj.get("payment_status") != "paid":
        return "not paid yet"  # an asynchronous method: its own event follows
    return mark_session_paid(payment, _id(obj, "payment_intent"))


def mark_session_paid(payment: CardPayment, payment_intent: str | None) -> str:
    """Stripe took the money: every order of the checkout goes to its seller."""
    payment = _lock(payment)
    if payment.status == CardPaymentStatus.PAID:
        return "already paid"
    payment.status = CardPaymentStatus.PAID
    payment.payment_intent_id = payment_intent
    for order in payment.checkout.orders:
        order = orders.card_paid(order)
        if order.status == OrderStatus.CANCELLED:
            # We gave up on it before the money came: it goes back.
            _refund_paid_cancelled(order)
    if payment_intent:
        early = db.session.scalar(
            select(func.max(StripeEvent.amount_refunded_vnd)).where(
                StripeEvent.payment_intent_id == payment_intent
            )
        )
        if early:
            _apply_refunded(payment, int(early))
    db.session.flush()
    return "paid"


def _refund_paid_cancelled(order: Order) -> None:
    order.payment_status = PaymentStatus.PAID
    order.paid_at = utcnow()
    refund_order(order)


def _on_expired(obj: dict[str, Any]) -> str:
    payment = _payment_by_session(obj)
    if payment is None:
        log.warning("Stripe session %s is not one of ours", obj.get("id"))
        return "unknown session"
    return mark_session_expired(payment)


def mark_session_expired(payment: CardPayment) -> str:
    """The session can no longer be paid: its unpaid orders are cancelled, stock released."""
    payment = _lock(payment)
    if payment.status in (CardPaymentStatus.PAID, CardPaymentStatus.EXPIRED):
        return "nothing to do"
    payment.status = CardPaymentStatus.EXPIRED
    for order in payment.checkout.orders:
        if order.status == OrderStatus.AWAITING_PAYMENT:
            orders.cancel(
                order,
                by=None,
                reason=_("The payment was not completed in time."),
                notify_shop=False,
            )
    db.session.flush()
    return "expired"


def _on_refunded(obj: dict[str, Any]) -> str:
    intent = _id(obj, "payment_intent")
    payment = (
        db.session.scalar(select(CardPayment).where(CardPayment.payment_intent_id == intent))
        if intent
        else None
    )
    if payment is None:
        log.info("refund for payment %s, not known yet: kept until it is", intent)
        return "kept for later"
    _apply_refunded(_lock(payment), _amount(obj, "amount_refunded"))
    return "refunded"


def _apply_refunded(payment: CardPayment, refunded_total: int) -> None:
    """Bring the orders' refunded amounts up to Stripe's cumulative total for the payment."""
    refunded_total = min(refunded_total, payment.amount_vnd)
    delta = refunded_total - payment.refunded_vnd
    if delta <= 0:
        return  # told before, or an older event after a newer one
    payment.refunded_vnd = refunded_total
    # Cancelled orders are what refunds are for; the rest, oldest first.
    ordered = sorted(
        payment.checkout.orders, key=lambda o: (o.status != OrderStatus.CANCELLED, o.id)
    )
    for order in ordered:
        if delta <= 0:
            break
        part = min(delta, order.total_vnd - order.refunded_vnd)
        if part <= 0:
            continue
        delta -= part
        order.refunded_vnd += part
        if order.refunded_vnd == order.total_vnd:
            order.payment_status = PaymentStatus.REFUNDED
        order.events.append(OrderEvent(step="refunded", note=format_vnd(part)))
        ledger.record_refund(order, order.refunded_vnd)
        queue_mail(
            order.buyer.email,
            _("Order %(number)s: refund", number=order.number),
            _(
                "%(amount)s of order %(number)s went back to your card.",
                amount=format_vnd(part),
                number=order.number,
            ),
        )
    db.session.flush()


_HANDLERS = {
    "checkout.session.completed": _on_completed,
    "checkout.session.async_payment_succeeded": _on_completed,
    "checkout.session.expired": _on_expired,
    "charge.refunded": _on_refunded,
}


# -- refunds, from the outbox ----------------------------------------------------------------


def refund_order(order: Order) -> None:
    """Ask Stripe to give a cancelled card order's money back, once this transaction commits."""
    outbox.enqueue(TOPIC, f"refund:{order.id}", {"order_id": order.id})


def _send_refund(message: outbox.Message) -> None:
    # Runs after a commit too, when the request's session is done: read on a fresh one.
    with Session(db.engine) as session:
        row = session.execute(
            select(
                Order.number, Order.total_vnd - Order.refunded_vnd, CardPayment.payment_intent_id
            )
            .join(CardPayment, CardPayment.checkout_id == Order.checkout_id)
            .where(Order.id == int(message.payload["order_id"]))
        ).first()
    if row is None or not row.payment_intent_id or row[1] <= 0:
        return
    number, amount, intent = row
    # One key per order: a retry after a lost answer cannot refund twice.
    gateway.refund(intent, amount, idempotency_key=f"refund-order-{message.payload['order_id']}")
    log.info("asked Stripe to refund order %s (%s đ)", number, amount)


def _backoff(attempt: int) -> timedelta:
    return timedelta(minutes=min(2**attempt, 240))


def drain_payments() -> int:
    if not gateway.enabled():
        return 0
    return outbox.drain_each(TOPIC, _send_refund, max_attempts=MAX_ATTEMPTS, backoff=_backoff)


outbox.register(TOPIC, drain_payments, after_commit=drain_payments)


# -- the expiry job's part ------------------------------------------------------------------


def settle_expired_card_order(order: Order) -> str:
    """Before cancelling an unpaid card order, close its Stripe session; act on the truth.

    If the shopper paid at the last moment (and the webhook is late), the session is
    complete, and the order is marked paid instead of cancelled.
    """
    payment = payment_of(order.checkout)
    if payment is None or payment.session_id is None or not gateway.enabled():
        return "no session"
    session_id = payment.session_id
    db.session.commit()  # no lock is held across the network call
    state = gateway.expire_session(session_id)
    begin_write_transaction()
    if state.status == "complete" and state.payment_status == "paid":
        return mark_session_paid(payment, state.payment_intent)
    return mark_session_expired(payment)
