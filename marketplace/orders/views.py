"""Checkout, the shopper's orders, the seller's orders and the back office's order page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.accounts.models import User
from marketplace.accounts.services import format_phone
from marketplace.cart import services as carts
from marketplace.cart.views import current_cart
from marketplace.core.errors import NotFound
from marketplace.core.forms import Form, form_problem
from marketplace.core.security import require_admin
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.forms import ActionForm, BuyerCancelForm, CancelForm, CheckoutForm, ShipForm
from marketplace.orders.models import Checkout, Order, OrderStatus, PaymentMethod, PaymentStatus
from marketplace.payments import gateway
from marketplace.payments import services as payments
from marketplace.payments.vietqr import BANKS, qr_svg, transfer_note, vietqr_payload
from marketplace.shops import acting, places
from marketplace.shops import services as shops
from marketplace.shops.models import Shop

bp = Blueprint("orders", __name__)


@bp.app_context_processor
def order_labels() -> dict[str, object]:
    return {
        "order_status_label": lambda s: services.STATUS_LABELS[OrderStatus(s)],
        "payment_method_label": lambda m: services.METHOD_LABELS[PaymentMethod(m)],
        "payment_status_label": lambda p: services.PAYMENT_LABELS[PaymentStatus(p)],
        "place_name": _place_name,
        "order_step_label": _step_label,
        "bank_name": lambda bin_: BANKS.get(bin_ or "", bin_ or ""),
    }


def _step_label(step: str) -> str:
    if step in OrderStatus.__members__.values():
        return str(services.STATUS_LABELS[OrderStatus(step)])
    return str(services.STEP_LABELS.get(step, step))


def _place_name(code: int) -> str:
    place = places.commune(code) or places.province(code)
    return place.name if place else ""


# -- checkout ------------------------------------------------------------------------------


@bp.route("/checkout", methods=["GET", "POST"])
@login_required
def checkout() -> ResponseReturnValue:
    user = current_user._get_current_object()
    cart = current_cart()
    view = carts.view(cart)
    methods = services.payment_methods(view, card_enabled=gateway.enabled())
    form = CheckoutForm()
    form.fill_choices(methods)
    if request.method == "GET":
        if view.empty:
            return redirect(url_for("cart.show"))
        form.token.data = services.new_checkout_token()
        _fill_address(form, user)
        form.fill_choices(methods)  # the communes of the province just chosen
        form.payment_method.data = PaymentMethod.COD.value
        return render_template("orders/checkout.html", form=form, cart=view)
    if "refresh_places" in request.form:
        return render_template("orders/checkout.html", form=form, cart=view)
    if not form.validate_on_submit() or not form.token.data:
        if not form.errors:
            form.form_errors.append(_("Your form expired. Please send it again."))
        return render_template("orders/checkout.html", form=form, cart=view), 400
    shipping = services.Shipping(
        name=form.name.data or "",
        phone=form.phone.data or "",
        street=form.street.data or "",
        province_code=form.province_code.data or 0,
        commune_code=form.commune_code.data or 0,
        note=form.note.data or "",
    )
    try:
        record = services.checkout(
            user,
            cart,
            shipping,
            PaymentMethod(form.payment_method.data),
            form.token.data[:64],
            card_enabled=gateway.enabled(),
        )
        if record.payment_method == PaymentMethod.CARD:
            payments.prepare_card_payment(record)
    except services.InvalidShipping as error:
        db.session.rollback()
        getattr(form, error.field).errors = [str(error)]
        return render_template("orders/checkout.html", form=form, cart=carts.view(cart)), 400
    except (services.SoldOut, services.CartNeedsReview) as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("cart.show")), 303
    except services.OrderError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return render_template("orders/checkout.html", form=form, cart=carts.view(cart)), 400
    db.session.commit()
    if record.payment_method == PaymentMethod.CARD:
        return _to_card_payment(record.id)
    flash(
        _("Thank you! Your order has been placed.")
        if len(record.orders) == 1
        else _(
            "Thank you! Your %(n)d orders have been placed, one per shop.", n=len(record.orders)
        ),
        "success",
    )
    return redirect(url_for("orders.mine", checkout=record.id)), 303


def _fill_address(form: CheckoutForm, user: User) -> None:
    """Start from the address of the member's last order, else their name and phone."""
    last = services.last_shipping(user)
    form.name.data = last.name if last else user.full_name
    form.phone.data = format_phone(last.phone if last else user.phone)
    form.street.data = last.street if last else ""
    form.province_code.data = last.province_code if last else places.default_province_code()
    form.commune_code.data = last.commune_code if last else 0


def _to_card_payment(checkout_id: int) -> ResponseReturnValue:
    record = db.session.get(Checkout, checkout_id)
    assert record is not None
    payment = payments.payment_of(record)
    if payment is None:
        abort(404)
    try:
        url = payments.open_session(
            payment,
            success_url=url_for("payments.stripe_return", checkout_id=record.id, _external=True)
            + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=url_for("orders.mine", checkout=record.id, _external=True),
        )
    except payments.PaymentError as error:
        flash(str(error), "error")
        return redirect(url_for("orders.mine", checkout=record.id)), 303
    return redirect(url, code=303)


# -- the shopper's orders ------------------------------------------------------------------


@bp.get("/account/orders")
@login_required
def mine() -> ResponseReturnValue:
    orders = services.orders_of_buyer(current_user._get_current_object())
    return render_template("orders/mine.html", orders=orders)


def _order_page(order: Order, *, seen_by: str) -> str:
    """The order page as the buyer, the seller or an admin sees it (their buttons only)."""
    return render_template(
        "orders/order.html",
        order=order,
        as_seller=seen_by == "seller",
        as_admin=seen_by == "admin",
        qr=_transfer_qr(order) if seen_by == "buyer" else None,
        payment=payments.payment_of(order.checkout) if seen_by != "seller" else None,
    )


def _step(
    order: Order, form: Form, action: Callable[[], object], *, back: str, done: str
) -> ResponseReturnValue:
    """Validate ``form``, run ``action`` (a service call), commit, tell, go back to the order."""
    if not form.validate_on_submit():
        if form.csrf_token.errors or not form.csrf_token.data:
            abort(400)
        flash(form_problem(form), "error")
    else:
        try:
            action()
        except services.OrderError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(done, "success")
    return redirect(url_for(back, number=order.number)), 303


@bp.get("/account/orders/<number>")
@login_required
def mine_detail(number: str) -> ResponseReturnValue:
    return _order_page(_buyer_order(number), seen_by="buyer")


@bp.post("/account/orders/<number>/cancel")
@login_required
def mine_cancel(number: str) -> ResponseReturnValue:
    order = _buyer_order(number)
    form = BuyerCancelForm()
    return _step(
        order,
        form,
        lambda: services.cancel_by_buyer(
            order, by=current_user._get_current_object(), reason=form.reason.data or ""
        ),
        back="orders.mine_detail",
        done=_("Order %(number)s was cancelled.", number=order.number),
    )


@bp.post("/account/orders/<number>/pay")
@login_required
def mine_pay(number: str) -> ResponseReturnValue:
    order = _buyer_order(number)
    if not ActionForm().validate_on_submit():
        abort(400)
    if order.payment_method != PaymentMethod.CARD or order.status != OrderStatus.AWAITING_PAYMENT:
        flash(_("This order is not waiting for a card payment."), "error")
        return redirect(url_for("orders.mine_detail", number=order.number)), 303
    return _to_card_payment(order.checkout_id)


def _buyer_order(number: str) -> Order:
    try:
        return services.order_of_buyer(current_user._get_current_object(), number[:20])
    except NotFound:
        abort(404)


def _transfer_qr(order: Order) -> str | None:
    """The VietQR code of an unpaid transfer order: bank, account, amount, order number."""
    if (
        order.payment_method != PaymentMethod.VIETQR
        or order.payment_status != PaymentStatus.UNPAID
        or order.status == OrderStatus.CANCELLED
        or not order.shop.takes_transfers
    ):
        return None
    payload = vietqr_payload(
        order.shop.bank_bin or "",
        order.shop.bank_account_number or "",
        order.total_vnd,
        transfer_note(order.number),
    )
    return qr_svg(payload)


# -- the seller's orders -------------------------------------------------------------------


def _my_shop() -> Shop:
    shop = shops.shop_of(acting.seller())
    if shop is None:
        abort(404)
    return shop


def _shop_order(number: str) -> Order:
    try:
        return services.order_of_shop(_my_shop(), number[:20])
    except NotFound:
        abort(404)


@bp.get("/seller/orders")
@login_required
def shop_orders() -> ResponseReturnValue:
    shop = _my_shop()
    try:
        status = OrderStatus(request.args["status"]) if request.args.get("status") else None
    except ValueError:
        status = None
    return render_template(
        "orders/shop_orders.html",
        shop=shop,
        orders=services.orders_of_shop(shop, status),
        status=status,
        statuses=list(OrderStatus),
    )


@bp.get("/seller/orders/<number>")
@login_required
def shop_order(number: str) -> ResponseReturnValue:
    return _order_page(_shop_order(number), seen_by="seller")


# Each step: the form it comes with, and the service call it makes.
_STEPS: dict[str, tuple[type[Form], Callable[[Order, User, Any], object]]] = {
    "confirm": (ActionForm, lambda order, by, form: services.confirm(order, by=by)),
    "ship": (
        ShipForm,
        lambda order, by, form: services.ship(
            order, by=by, carrier=form.carrier.data, tracking_number=form.tracking_number.data
        ),
    ),
    "deliver": (ActionForm, lambda order, by, form: services.deliver(order, by=by)),
    "collect": (ActionForm, lambda order, by, form: services.collect_cash(order, by=by)),
    "received": (ActionForm, lambda order, by, form: services.mark_transfer_received(order, by=by)),
    "cancel": (
        CancelForm,
        lambda order, by, form: services.cancel(order, by=by, reason=form.reason.data),
    ),
}
ADMIN_STEPS = frozenset({"received", "cancel"})


def _run(order: Order, step: str, back: str) -> ResponseReturnValue:
    form_class, call = _STEPS[step]
    form = form_class()
    by = current_user._get_current_object()
    return _step(
        order,
        form,
        lambda: call(order, by, form),
        back=back,
        done=_("Order %(number)s updated.", number=order.number),
    )


@bp.post("/seller/orders/<number>/<step>")
@login_required
def shop_order_step(number: str, step: str) -> ResponseReturnValue:
    order = _shop_order(number)
    if step not in _STEPS:
        abort(404)
    return _run(order, step, "orders.shop_order")


# -- the back office ---------------------------------------------------------------------------


@bp.get("/admin/orders")
@login_required
def admin_orders() -> ResponseReturnValue:
    require_admin()
    number = (request.args.get("number") or "").strip()[:20]
    if number:
        try:
            return redirect(
                url_for("orders.admin_order", number=services.order_by_number(number).number)
            )
        except NotFound:
            flash(_("Order not found."), "error")
    recent = list(db.session.scalars(db.select(Order).order_by(Order.id.desc()).limit(100)))
    return render_template("orders/admin_orders.html", orders=recent)


@bp.get("/admin/orders/<number>")
@login_required
def admin_order(number: str) -> ResponseReturnValue:
    require_admin()
    return _order_page(_any_order(number), seen_by="admin")


@bp.post("/admin/orders/<number>/<step>")
@login_required
def admin_order_step(number: str, step: str) -> ResponseReturnValue:
    require_admin()
    order = _any_order(number)
    if step not in ADMIN_STEPS:
        abort(404)
    return _run(order, step, "orders.admin_order")


def _any_order(number: str) -> Order:
    try:
        return services.order_by_number(number[:20])
    except NotFound:
        abort(404)
