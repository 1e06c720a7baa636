"""The rules of orders: checkout, each step the seller takes, cancellation and expiry.

One checkout over several shops makes one order per shop. Placing takes the stock in the
same transaction (``catalog.stock``); cancelling or expiring gives it back exactly once
(``holds_stock`` is cleared under the order's row lock). Every change of state goes
through ``TRANSITIONS`` and takes the order's row lock first, so a seller's click, the
expiry job and a payment webhook arriving at once apply one after another, each seeing
what the last one did. Services flush; the caller commits.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.cart import services as carts
from marketplace.catalog import stock
from marketplace.core import states
from marketplace.core.database import lock_row
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.mail import queue_mail
from marketplace.core.models import utcnow
from marketplace.core.money import format_vnd
from marketplace.core.text import clean_line
from marketplace.extensions import db
from marketplace.orders.models import (
    Checkout,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from marketplace.shops import places
from marketplace.shops.models import Shop

log = logging.getLogger(__name__)

S = OrderStatus
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud on the phone
NUMBER_PREFIX = "DH"  # "đơn hàng"
NUMBER_LENGTH = 6
# Amounts are 32-bit columns (2 147 483 647 đ at most); a checkout above this is refused.
MAX_CHECKOUT_VND = 2_000_000_000


class OrderError(DomainError):
    """A rule about orders refused the operation."""


class InvalidTransition(OrderError, states.InvalidTransition):
    pass


class ReasonRequired(OrderError, states.ReasonRequired):
    pass


class InvalidShipping(OrderError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class CartNeedsReview(OrderError):
    """Some lines changed (price, stock, no longer for sale): the shopper must look first."""


class SoldOut(OrderError):
    def __init__(self, message: str, product_ids: list[int]) -> None:
        super().__init__(message)
        self.product_ids = product_ids


TRANSITIONS: states.Transitions[OrderStatus] = states.Transitions(
    allowed={
        S.AWAITING_PAYMENT: frozenset({S.PLACED, S.CANCELLED}),
        S.PLACED: frozenset({S.CONFIRMED, S.CANCELLED}),
        S.CONFIRMED: frozenset({S.SHIPPED, S.CANCELLED}),
        S.SHIPPED: frozenset({S.DELIVERED}),
        S.DELIVERED: frozenset(),
        S.CANCELLED: frozenset(),
    },
    needs_reason=frozenset({S.CANCELLED}),
    refused=lambda: _("The order's current state does not allow this."),
    reason_required=lambda: _("Give a reason: the shopper will see it."),
    invalid=InvalidTransition,
    missing_reason=ReasonRequired,
)

STATUS_LABELS = {
    S.AWAITING_PAYMENT: _l("Waiting for payment"),
    S.PLACED: _l("Waiting for the shop to confirm"),
    S.CONFIRMED: _l("Confirmed, being prepared"),
    S.SHIPPED: _l("Shipped"),
    S.DELIVERED: _l("Delivered"),
    S.CANCELLED: _l("Cancelled"),
}
METHOD_LABELS = {
    PaymentMethod.COD: _l("Cash on delivery"),
    PaymentMethod.VIETQR: _l("Bank transfer (VietQR)"),
    PaymentMethod.CARD: _l("Card (Stripe)"),
}
STEP_LABELS = {
    "paid": _l("Payment received"),
    "collected": _l("Cash collected"),
    "transfer_received": _l("Bank transfer received"),
    "refunded": _l("Refunded"),
}
PAYMENT_LABELS = {
    PaymentStatus.UNPAID: _l("Not paid yet"),
    PaymentStatus.PAID: _l("Paid"),
    PaymentStatus.REFUNDED: _l("Refunded"),
}


@dataclass(frozen=True)
class Shipping:
    """Where the shopper wants the parcel."""

    name: str
    phone: str
    street: str
    province_code: int
    commune_code: int
    note: str = ""


def check_shipping(shipping: Shipping) -> Shipping:
    """Return the cleaned shipping details, or raise ``InvalidShipping`` naming the field."""
    name = clean_line(shipping.name)
    if not name:
        raise InvalidShipping(_("Enter the name of the person who receives the parcel."), "name")
    try:
        phone = accounts.normalise_phone(shipping.phone)
    except accounts.AccountError as error:
        raise InvalidShipping(str(error), "phone") from error
    street = clean_line(shipping.street)
    if not street:
        raise InvalidShipping(_("Enter the street address (house number, street)."), "street")
    if places.province(shipping.province_code) is None:
        raise InvalidShipping(_("Choose a province or city."), "province_code")
    if not places.commune_in_province(shipping.commune_code, shipping.province_code):
        raise InvalidShipping(_("Choose a commune or ward of that province."), "commune_code")
    return Shipping(
        name=name[:120],
        phone=phone,
        street=street[:200],
        province_code=shipping.province_code,
        commune_code=shipping.commune_code,
        note=clean_line(shipping.note)[:500],
    )


def last_shipping(buyer: User) -> Shipping | None:
    """Where the member's last order went: the checkout form starts from it."""
    order = db.session.scalar(
        select(Order).where(Order.buyer_id == buyer.id).order_by(Order.id.desc()).limit(1)
    )
    if order is None:
        return None
    return Shipping(
        order.ship_name, order.ship_phone, order.ship_street,
        order.ship_province_code, order.ship_commune_code,
    )  # fmt: skip


def payment_methods(view: carts.CartView, *, card_enabled: bool) -> list[PaymentMethod]:
    """What this cart can be paid with: cash always, transfer if every shop takes it, card."""
    offered = [PaymentMethod.COD]
    if view.groups and all(group.shop.takes_transfers for group in view.groups):
        offered.append(PaymentMethod.VIETQR)
    if card_enabled:
        offered.append(PaymentMethod.CARD)
    return offered


_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_checkout_token() -> str:
    return secrets.token_urlsafe(24)


def _new_number() -> str:
    return NUMBER_PREFIX + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def _settings() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(hours=config.get("ORDER_CONFIRM_HOURS", 24)),
        timedelta(minutes=config.get("CARD_PAYMENT_MINUTES", 60)),
    )


def checkout(
    buyer: User,
    cart: carts.Cart,
    shipping: Shipping,
    method: PaymentMethod,
    token: str,
    *,
    card_enabled: bool,
) -> Checkout:
    """Turn the cart into one order per shop, taking the stock; return the checkout.

    The same ``token`` again (a double tap, the back button, a retry) returns the orders
    made the first time and changes nothing.
    """
    if not _TOKEN.fullmatch(token):
        # Ours are URL-safe; another would break the card payment's idempotency key.
        raise OrderError(_("Your form expired. Please send it again."))
    earlier = _checkout_by_token(token)
    if earlier is not None:
        return _same_buyer(earlier, buyer)
    shipping = check_shipping(shipping)
    view = carts.view(cart)
    if view.empty:
        # The same form sent twice at once: the other request may have committed since.
        earlier = _checkout_by_token(token)
        if earlier is not None:
            return _same_buyer(earlier, buyer)
        raise OrderError(_("Your cart is empty."))
    if any(group.shop.owner_id == buyer.id for group in view.groups):
        raise OrderError(_("You cannot order from your own shop. Remove its products first."))
    if view.problems:
        raise CartNeedsReview(_("Some products in your cart changed. Check them and try again."))
    if view.total_vnd > MAX_CHECKOUT_VND:
        raise OrderError(
            _(
                "One checkout can be at most %(max)s. Buy fewer at a time.",
                max=format_vnd(MAX_CHECKOUT_VND),
            )
        )
    if method not in payment_methods(view, card_enabled=card_enabled):
        raise OrderError(_("This payment method is not available for these shops."))
    try:
        with db.session.begin_nested():
            record = Checkout(
                token=token, buyer_id=buyer.id, payment_method=method, total_vnd=view.total_vnd
            )
            db.session.add(record)
    except IntegrityError:
        # The same form, submitted twice at once: the other request made the orders.
        earlier = _checkout_by_token(token)
        if earlier is None:
            raise
        return _same_buyer(earlier, buyer)
    quantities = {line.product.id: line.quantity for line in view.lines}
    confirm_within, pay_within = _settings()
    now = utcnow()
    for group in view.groups:
        order = _place(record, buyer, group, shipping, method, now)
        if method == PaymentMethod.CARD:
            order.pay_by = now + pay_within
        else:
            order.confirm_by = now + confirm_within
            _notify_placed(order)
    cart.remove(list(quantities))
    db.session.flush()
    # Last: taking the stock locks the listings' rows until the commit, and every other
    # checkout of a listing waits for that lock, so nothing else is done while holding it
    # (taken first, 0.8 of the 1.0 checkout statements running at a time on PostgreSQL
    # waited for it in bench/checkout.py; 0.2 now). Sold out, the caller rolls back the
    # orders made above with everything else.
    try:
        stock.take_stock(db.session, quantities)
    except stock.OutOfStock as error:
        names = ", ".join(
            line.product.name for line in view.lines if line.product.id in error.product_ids
        )
        raise SoldOut(
            _("Sold out or not enough left: %(names)s. Your cart shows what is left.", names=names),
            error.product_ids,
        ) from error
    return record


def _checkout_by_token(token: str) -> Checkout | None:
    return db.session.scalar(select(Checkout).where(Checkout.token == token))


def _same_buyer(record: Checkout, buyer: User) -> Checkout:
    if record.buyer_id != buyer.id:
        raise OrderError(_("This checkout form has expired. Reload the page."))
    return record


def _place(
    record: Checkout,
    buyer: User,
    group: carts.ShopGroup,
    shipping: Shipping,
    method: PaymentMethod,
    now: datetime,
) -> Order:
    card = method == PaymentMethod.CARD
    fields = dict(
        checkout_id=record.id,
        shop_id=group.shop.id,
        buyer_id=buyer.id,
        status=S.AWAITING_PAYMENT if card else S.PLACED,
        payment_method=method,
        payment_status=PaymentStatus.UNPAID,
        goods_vnd=group.goods_vnd,
        shipping_fee_vnd=group.shipping_fee_vnd,
        total_vnd=group.total_vnd,
        ship_name=shipping.name,
        ship_phone=shipping.phone,
        ship_street=shipping.street,
        ship_province_code=shipping.province_code,
        ship_commune_code=shipping.commune_code,
        shopper_note=shipping.note,
        placed_at=None if card else now,
        holds_stock=True,
    )
    for _attempt in range(8):
        order = Order(number=_new_number(), **fields)
        order.lines = [
            OrderLine(
                product_id=line.product.id,
                product_name=line.product.name,
                unit=line.product.unit,
                unit_price_vnd=line.product.price_vnd,
                quantity=line.quantity,
                line_total_vnd=line.total_vnd,
            )
            for line in group.lines
        ]
        order.events = [OrderEvent(step=str(order.status), actor_id=buyer.id)]
        try:
            with db.session.begin_nested():
                db.session.add(order)
        except IntegrityError:
            continue  # another order took this number: draw again
        return order
    raise OrderError(_("Could not place the order. Please try again."))


# -- reading -------------------------------------------------------------------------------


def orders_of_buyer(buyer: User) -> list[Order]:
    return list(
        db.session.scalars(
            select(Order).where(Order.buyer_id == buyer.id).order_by(Order.id.desc()).limit(200)
        )
    )


def order_of_buyer(buyer: User, number: str) -> Order:
    """The buyer's order by its number; anyone else's is not found."""
    order = db.session.scalar(
        select(Order).where(Order.number == number.upper(), Order.buyer_id == buyer.id)
    )
    if order is None:
        raise NotFound(_("Order not found."))
    return order


def order_of_shop(shop: Shop, number: str) -> Order:
    order = db.session.scalar(
        select(Order).where(Order.number == number.upper(), Order.shop_id == shop.id)
    )
    if order is None:
        raise NotFound(_("Order not found."))
    return order


def order_by_number(number: str) -> Order:
    order = db.session.scalar(select(Order).where(Order.number == number.upper()))
    if order is None:
        raise NotFound(_("Order not found."))
    return order


def waiting_count(shop: Shop) -> int:
    """Orders the shop must act on now: to confirm, or to ship."""
    return (
        db.session.scalar(
            select(func.count(Order.id)).where(
                Order.shop_id == shop.id, Order.status.in_((S.PLACED, S.CONFIRMED))
            )
        )
        or 0
    )


def orders_of_shop(shop: Shop, status: OrderStatus | None = None) -> list[Order]:
    query = select(Order).where(Order.shop_id == shop.id)
    if status is not None:
        query = query.where(Order.status == status)
    return list(db.session.scalars(query.order_by(Order.id.desc()).limit(200)))


# -- steps -----------------------------------------------------------------------------------


def lock(order: Order) -> Order:
    """The order re-read under its row lock: check its state after this, not before."""
    return lock_row(db.session, order)


def _move(
    order: Order,
    target: OrderStatus,
    *,
    actor: User | None,
    reason: str | None = None,
    only_from: frozenset[OrderStatus] | None = None,
) -> Order:
    order = lock(order)
    if only_from is not None and order.status not in only_from:
        raise InvalidTransition(
            _("The shop has already confirmed this order; contact the shop to cancel it.")
        )
    reason = TRANSITIONS.check(order.status, target, reason)
    order.status = target
    if reason is not None:
        order.cancel_reason = reason
    order.events.append(
        OrderEvent(step=str(target), actor_id=actor.id if actor else None, note=reason or "")
    )
    return order


def confirm(order: Order, *, by: User) -> Order:
    """The seller takes the order and will prepare it."""
    order = _move(order, S.CONFIRMED, actor=by)
    order.confirmed_at = utcnow()
    order.confirm_by = None
    _notify(order, _("Your order %(number)s was confirmed by the shop.", number=order.number))
    db.session.flush()
    return order


def ship(order: Order, *, by: User, carrier: str, tracking_number: str) -> Order:
    """Hand the parcel to a carrier; the shopper gets the tracking number."""
    carrier, tracking_number = clean_line(carrier)[:60], clean_line(tracking_number)[:60]
    if not carrier or not tracking_number:
        raise OrderError(_("Enter the carrier and the tracking number."))
    order = _move(order, S.SHIPPED, actor=by)
    order.carrier, order.tracking_number, order.shipped_at = carrier, tracking_number, utcnow()
    order.events[-1].note = f"{carrier} {tracking_number}"
    _notify(
        order,
        _(
            "Your order %(number)s has shipped with %(carrier)s, tracking number %(tracking)s.",
            number=order.number,
            carrier=carrier,
            tracking=tracking_number,
        ),
    )
    db.session.flush()
    return order


def deliver(order: Order, *, by: User | None) -> Order:
    """The parcel reached the shopper."""
    from marketplace.payments import ledger

    order = _move(order, S.DELIVERED, actor=by)
    order.delivered_at = utcnow()
    ledger.record_delivery(order)
    _notify(order, _("Your order %(number)s was delivered. Thank you!", number=order.number))
    db.session.flush()
    return order


def mark_paid(order: Order, *, by: User | None, step: str = "paid") -> Order:
    """Money for the order arrived (cash collected, transfer received, card confirmed)."""
    order = lock(order)
    if order.payment_status != PaymentStatus.UNPAID:
        raise OrderError(_("This order is already marked paid."))
    if order.status == S.CANCELLED:
        raise OrderError(_("This order was cancelled."))
    order.payment_status, order.paid_at = PaymentStatus.PAID, utcnow()
    order.events.append(OrderEvent(step=step, actor_id=by.id if by else None))
    db.session.flush()
    return order


def collect_cash(order: Order, *, by: User) -> Order:
    """The seller (or the carrier for them) collected the cash on delivery."""
    if order.payment_method != PaymentMethod.COD:
        raise OrderError(_("Only cash-on-delivery orders are collected."))
    if order.status not in (S.SHIPPED, S.DELIVERED):
        raise OrderError(_("Cash is collected when the parcel is handed over."))
    order = mark_paid(order, by=by, step="collected")
    _notify(order, _("Payment for order %(number)s was collected. Thank you!", number=order.number))
    return order


def mark_transfer_received(order: Order, *, by: User) -> Order:
    """The seller or an admin saw the bank transfer arrive."""
    if order.payment_method != PaymentMethod.VIETQR:
        raise OrderError(_("This order is not paid by bank transfer."))
    order = mark_paid(order, by=by, step="transfer_received")
    _notify(order, _("We received your transfer for order %(number)s.", number=order.number))
    return order


def cancel(
    order: Order,
    *,
    by: User | None,
    reason: str,
    notify_shop: bool = True,
    only_from: frozenset[OrderStatus] | None = None,
) -> Order:
    """Cancel the order and put its stock back (once, whoever cancels)."""
    order = _move(order, S.CANCELLED, actor=by, reason=reason, only_from=only_from)
    order.cancelled_at = utcnow()
    order.confirm_by = order.pay_by = None
    release_stock(order)
    if order.payment_method == PaymentMethod.CARD and order.payment_status == PaymentStatus.PAID:
        from marketplace.payments import services as payments

        payments.refund_order(order)
    text = _(
        "Your order %(number)s was cancelled: %(reason)s",
        number=order.number,
        reason=order.cancel_reason,
    )
    if order.payment_method == PaymentMethod.VIETQR and order.payment_status == PaymentStatus.PAID:
        # The transfer went to the shop's own account: only the shop can send it back.
        owed = _(
            "The shop must send your transfer of %(amount)s back.",
            amount=format_vnd(order.total_vnd),
        )
        order.events[-1].note = f"{order.events[-1].note} · {owed}"
        text = f"{text}\n{owed}"
    _notify(order, text, shop_too=notify_shop)
    db.session.flush()
    return order


def cancel_by_buyer(order: Order, *, by: User, reason: str) -> Order:
    """The shopper changes their mind before the shop confirms."""
    if order.buyer_id != by.id:
        raise NotFound(_("Order not found."))
    return cancel(
        order,
        by=by,
        reason=reason or _("Cancelled by the shopper"),
        only_from=frozenset({S.AWAITING_PAYMENT, S.PLACED}),  # checked under the lock
    )


def release_stock(order: Order) -> None:
    if order.holds_stock:
        order.holds_stock = False
        stock.return_stock(db.session, order.quantities)


def card_paid(order: Order) -> Order:
    """Stripe confirmed the card payment: the order goes to the seller."""
    order = lock(order)
    if order.payment_status != PaymentStatus.UNPAID:
        return order  # told twice
    if order.status == S.CANCELLED:
        # Paid after we gave up on it: the money goes back (see payments.services).
        log.warning("order %s was paid after it was cancelled", order.number)
        return order
    confirm_within, _pay = _settings()
    order.payment_status, order.paid_at = PaymentStatus.PAID, utcnow()
    order.events.append(OrderEvent(step="paid"))
    if order.status == S.AWAITING_PAYMENT:
        order = _move(order, S.PLACED, actor=None)
        order.placed_at, order.pay_by = utcnow(), None
        order.confirm_by = utcnow() + confirm_within
        _notify_placed(order)
    db.session.flush()
    return order


# -- expiry -----------------------------------------------------------------------------------


def due_for_expiry(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Orders past their deadline: unconfirmed after a day, card orders left unpaid."""
    now = now or utcnow()
    query = (
        select(Order.id)
        .where(
            ((Order.status == S.PLACED) & (Order.confirm_by < now))
            | ((Order.status == S.AWAITING_PAYMENT) & (Order.pay_by < now))
        )
        .order_by(Order.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def expire(order: Order, now: datetime | None = None) -> bool:
    """Cancel ``order`` if it is still past its deadline once locked; return True if so."""
    now = now or utcnow()
    order = lock(order)
    if order.status == S.PLACED and order.confirm_by is not None and order.confirm_by < now:
        cancel(order, by=None, reason=_("The shop did not confirm the order within a day."))
        return True
    if order.status == S.AWAITING_PAYMENT and order.pay_by is not None and order.pay_by < now:
        cancel(
            order, by=None, reason=_("The payment was not completed in time."), notify_shop=False
        )
        return True
    return False


# -- mails ---------------------------------------------------------------------------------------


def _order_summary(order: Order) -> str:
    lines = [
        f"- {line.product_name} × {line.quantity}: {format_vnd(line.line_total_vnd)}"
        for line in order.lines
    ]
    lines.append(_("Shipping: %(fee)s", fee=format_vnd(order.shipping_fee_vnd)))
    lines.append(_("Total: %(total)s", total=format_vnd(order.total_vnd)))
    return "\n".join(lines)


def _link(path: str) -> str:
    return current_app.config["SITE_URL"] + path


def _notify_placed(order: Order) -> None:
    shop = db.session.get(Shop, order.shop_id)
    buyer = db.session.get(User, order.buyer_id)
    assert shop is not None and buyer is not None
    summary = _order_summary(order)
    queue_mail(
        buyer.email,
        _("Order %(number)s placed", number=order.number),
        _("Thank you! %(shop)s has your order %(number)s.", shop=shop.name, number=order.number)
        + "\n\n"
        + summary
        + "\n\n"
        + _link(f"/account/orders/{order.number}"),
    )
    queue_mail(
        shop.owner.email,
        _("New order %(number)s", number=order.number),
        _("A new order waits for your confirmation (within a day).")
        + "\n\n"
        + summary
        + "\n\n"
        + _link(f"/seller/orders/{order.number}"),
    )


def _notify(order: Order, text: str, *, shop_too: bool = True) -> None:
    shop = db.session.get(Shop, order.shop_id)
    buyer = db.session.get(User, order.buyer_id)
    assert shop is not None and buyer is not None
    subject = _(
        "Order %(number)s: %(state)s", number=order.number, state=STATUS_LABELS[order.status]
    )
    queue_mail(buyer.email, subject, text + "\n\n" + _link(f"/account/orders/{order.number}"))
    if shop_too:
        queue_mail(
            shop.owner.email, subject, subject + "\n\n" + _link(f"/seller/orders/{order.number}")
        )
