"""Card payments: starting a Stripe Checkout, applying Stripe's webhook events, refunds.

Events are applied idempotently whatever their order or number: each event id is kept
once (``StripeEvent``), each step checks the state it moves from under a row lock, and
refunds carry Stripe's cumulative ``amount_refunded`` (the largest one seen wins), so a
second delivery, or an old event arriving after a newer one, changes nothing. Refunds
are asked of Stripe from the outbox's ``payments`` topic, after the cancellation commits.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.core import outbox
from marketplace.core.database import begin_write_transaction, lock_row
from marketplace.core.errors import DomainError
from marketplace.core.mail import queue_mail
from marketplace.core.models import utcnow
from marketplace.core.money import format_vnd
from marketplace.core.security import MAX_ID
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderStatus, PaymentStatus
from marketplace.payments import gateway, ledger
from marketplace.payments.models import CardPayment, CardPaymentStatus, CardRefund, StripeEvent

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

    Commits the caller's transaction first: no database lock is held while Stripe is
    asked (SQLite's writers would queue behind the call). The orders, amounts and expiry
    asked for are fixed at the first try and the same idempotency key is sent every time,
    so a retry is the very same request and a lost answer never makes a second session.
    """
    if payment.session_url and payment.status == CardPaymentStatus.OPEN:
        return payment.session_url
    if payment.status not in (CardPaymentStatus.STARTING, CardPaymentStatus.OPEN):
        raise PaymentError(_("This payment can no longer be made."))
    record = payment.checkout
    awaiting = {o.id for o in record.orders if o.status == OrderStatus.AWAITING_PAYMENT}
    if payment.session_id is None and not set(payment.order_ids or []) <= awaiting:
        # An order was cancelled before any session opened: ask for the rest only, as a
        # new request under a new key (a session made by a lost first try is never shown).
        payment.order_ids = []
        payment.idempotency_key = f"checkout-{record.id}-{secrets.token_hex(8)}"
    if not payment.order_ids:
        covered = [o for o in record.orders if o.status == OrderStatus.AWAITING_PAYMENT]
        if not covered:
            raise PaymentError(_("This payment can no longer be made."))
        deadline = min(o.pay_by for o in covered if o.pay_by is not None)
        # Stripe wants 30 minutes to 24 hours; our own deadline follows a little later.
        now = utcnow()
        payment.expires_at = min(
            max(deadline, now + timedelta(minutes=31)), now + timedelta(hours=23)
        )
        payment.order_ids = [o.id for o in covered]
        payment.amount_vnd = sum(o.total_vnd for o in covered)
    covered = [o for o in record.orders if o.id in payment.order_ids]
    lines = [
        gateway.SessionLine(line.product_name, line.unit_price_vnd, line.quantity)
        for order in covered
        for line in order.lines
    ]
    lines += [
        gateway.SessionLine(_("Shipping %(number)s", number=o.number), o.shipping_fee_vnd, 1)
        for o in covered
        if o.shipping_fee_vnd
    ]
    request = dict(
        lines=lines,
        reference=str(record.id),
        metadata={"checkout_id": str(record.id), "orders": ",".join(o.number for o in covered)},
        success_url=success_url,
        cancel_url=cancel_url,
        expires_at=payment.expires_at,
        idempotency_key=payment.idempotency_key,
        email=covered[0].buyer.email,
    )
    payment_id, checkout_id = payment.id, record.id
    db.session.commit()
    try:
        state = gateway.create_session(**request)  # type: ignore[arg-type]
    except gateway.GatewayError as error:
        begin_write_transaction()
        db.session.get(CardPayment, payment_id).last_error = str(error)[:500]  # type: ignore[union-attr]
        db.session.commit()
        log.warning("could not open a Stripe session for checkout %s: %s", checkout_id, error)
        raise PaymentError(
            _("The card payment page could not be opened. Please try again in a moment.")
        ) from error
    begin_write_transaction()
    payment = db.session.get(CardPayment, payment_id)  # type: ignore[assignment]
    if payment.session_id is None:
        payment.session_id, payment.session_url = state.id, state.url
    if payment.status == CardPaymentStatus.STARTING:
        payment.status = CardPaymentStatus.OPEN
    payment.last_error = None
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
    return lock_row(db.session, payment)


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
    for order in _covered(payment):
        order = orders.card_paid(order)
        if order.status == OrderStatus.CANCELLED:
            # Given up on (cancelled, or expired) before the money came: it goes back.
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


def _covered(payment: CardPayment) -> list[Order]:
    """The orders the session asked money for (not those cancelled before it opened)."""
    return [order for order in payment.checkout.orders if order.id in (payment.order_ids or [])]


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
    for order in payment.checkout.orders:  # those the session never covered as well
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
    """Bring the payment up to Stripe's cumulative refunded total.

    Refunds we asked for count on their own order when Stripe takes them (``_send_refund``);
    only what nobody here asked for (a refund made in Stripe's dashboard) is shared out
    over the orders, oldest first. Stripe's totals only grow, so a repeated or older event
    changes nothing.
    """
    refunded_total = min(refunded_total, payment.amount_vnd)
    if refunded_total <= payment.refunded_vnd:
        return
    payment.refunded_vnd = refunded_total
    asked = db.session.scalar(
        select(func.coalesce(func.sum(CardRefund.amount_vnd), 0)).where(
            CardRefund.payment_id == payment.id
        )
    )
    unattributed = max(0, refunded_total - int(asked or 0))
    delta = unattributed - payment.unattributed_vnd
    if delta <= 0:
        return
    payment.unattributed_vnd = unattributed
    for order in _covered(payment):
        if delta <= 0:
            break
        part = min(delta, order.total_vnd - order.refunded_vnd)
        if part > 0:
            delta -= part
            _count_refund(order, part)
    db.session.flush()


def _count_refund(order: Order, amount: int) -> None:
    """``amount`` went back to the shopper's card for ``order``."""
    order.refunded_vnd += amount
    if order.refunded_vnd >= order.total_vnd:
        order.payment_status = PaymentStatus.REFUNDED
    order.events.append(OrderEvent(step="refunded", note=format_vnd(amount)))
    ledger.record_refund(order, order.refunded_vnd)
    queue_mail(
        order.buyer.email,
        _("Order %(number)s: refund", number=order.number),
        _(
            "%(amount)s of order %(number)s went back to your card.",
            amount=format_vnd(amount),
            number=order.number,
        ),
    )


_HANDLERS = {
    "checkout.session.completed": _on_completed,
    "checkout.session.async_payment_succeeded": _on_completed,
    "checkout.session.expired": _on_expired,
    "charge.refunded": _on_refunded,
}


# -- refunds, from the outbox ----------------------------------------------------------------


def refund_order(order: Order) -> None:
    """Ask Stripe to give a cancelled card order's money back, once this transaction commits."""
    payment = payment_of(order.checkout)
    if payment is None:
        return
    asked = db.session.scalar(
        select(func.coalesce(func.sum(CardRefund.amount_vnd), 0)).where(
            CardRefund.order_id == order.id, CardRefund.stripe_refund_id.is_(None)
        )
    )
    amount = order.total_vnd - order.refunded_vnd - int(asked or 0)
    if amount <= 0:
        return
    refund = CardRefund(payment_id=payment.id, order_id=order.id, amount_vnd=amount)
    db.session.add(refund)
    db.session.flush()
    outbox.enqueue(TOPIC, f"refund:{refund.id}", {"refund_id": refund.id})


def _send_refund(message: outbox.Message) -> None:
    refund = db.session.get(CardRefund, int(message.payload["refund_id"]))
    if refund is None or refund.stripe_refund_id is not None:
        return
    payment = db.session.get(CardPayment, refund.payment_id)
    if payment is None or not payment.payment_intent_id:
        return
    refund_id, amount, intent = refund.id, refund.amount_vnd, payment.payment_intent_id
    db.session.commit()  # no lock held while Stripe is asked
    # One key per refund: a retry after a lost answer cannot refund twice.
    stripe_id = gateway.refund(intent, amount, idempotency_key=f"refund-{refund_id}")
    begin_write_transaction()
    refund = db.session.get(CardRefund, refund_id)
    if refund is not None and refund.stripe_refund_id is None:
        refund.stripe_refund_id, refund.sent_at = stripe_id, utcnow()
        order = orders.lock(db.session.get(Order, refund.order_id))
        _count_refund(order, min(amount, order.total_vnd - order.refunded_vnd))
    db.session.commit()
    log.info("Stripe refunded %s đ (refund %s)", amount, refund_id)


def _backoff(attempt: int) -> timedelta:
    return timedelta(minutes=min(2**attempt, 240))


def drain_payments() -> int:
    if not gateway.enabled():
        return 0
    return outbox.drain_each(TOPIC, _send_refund, max_attempts=MAX_ATTEMPTS, backoff=_backoff)


def _drain_after_commit() -> None:
    # The committing session is done: handle in an app context (and session) of its own.
    with current_app.app_context():
        try:
            drain_payments()
        finally:
            db.session.remove()


outbox.register(TOPIC, drain_payments, after_commit=_drain_after_commit)


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
