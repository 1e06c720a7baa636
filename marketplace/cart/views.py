"""The cart page and its buttons; a visitor's cart joins the member's at log-in."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in

from marketplace.cart import services
from marketplace.catalog.models import Product
from marketplace.core.numbers import ascii_int
from marketplace.core.security import safe_next
from marketplace.extensions import csrf, db

bp = Blueprint("cart", __name__)
SESSION_KEY = "cart"


def current_cart() -> services.Cart:
    """The cart of whoever is asking: rows for a member, the session for a visitor."""
    if current_user.is_authenticated:
        return services.MemberCart(current_user._get_current_object())
    return services.VisitorCart(_SessionStore())


class _SessionStore(dict):  # type: ignore[type-arg]
    """The session's cart dict; writes mark the session modified so the cookie is sent."""

    def __init__(self) -> None:
        raw = session.get(SESSION_KEY)
        super().__init__(services.stored_cart(raw))
        if raw is not None and raw != dict(self):
            self._save()  # an older version's cart (or a forged one): only what makes sense

    def __setitem__(self, key: str, value: object) -> None:
        super().__setitem__(key, value)
        self._save()

    def pop(self, key: str, *default: object) -> object:
        value = super().pop(key, *default)
        self._save()
        return value

    def _save(self) -> None:
        if self:
            session[SESSION_KEY] = dict(self)
        else:
            session.pop(SESSION_KEY, None)


@bp.app_context_processor
def cart_count() -> dict[str, object]:
    def count() -> int:
        if current_user.is_authenticated:
            entries = services.MemberCart(current_user._get_current_object()).entries()
        else:
            entries = services.VisitorCart(_SessionStore()).entries()
        return sum(quantity for quantity, _price in entries.values())

    return {"cart_count": count}


def _merge_at_login(_app: object, user: object, **_extra: object) -> None:
    visitor = services.VisitorCart(_SessionStore())
    if visitor.entries():
        services.merge(visitor, services.MemberCart(user))  # type: ignore[arg-type]
        db.session.commit()


user_logged_in.connect(_merge_at_login)


def _same_site_origin() -> None:
    # Adding to the cart is exempt from the CSRF token, because cached public pages carry
    # the button to every visitor. What protects it is SameSite=Lax: a cross-site POST
    # comes without the session and remember cookies, so it can only fill a fresh,
    # empty visitor's cart. A foreign Origin is refused too, as a second fence.
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        abort(403)


def _product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    return product


def _quantity(default: int = 1) -> int:
    try:
        return ascii_int(request.form.get("quantity", default))
    except ValueError:
        return -1


def _back(default: str) -> ResponseReturnValue:
    return redirect(safe_next(request.form.get("next"), default))


@bp.route("/cart")
def show() -> ResponseReturnValue:
    cart = current_cart()
    view = services.view(cart)
    db.session.commit()  # lines of deleted listings were dropped
    return render_template("cart/cart.html", cart=view)


@bp.route("/cart/add/<id:product_id>", methods=["POST"])
@csrf.exempt
def add(product_id: int) -> ResponseReturnValue:
    _same_site_origin()
    product = _product(product_id)
    quantity = _quantity()
    cart = current_cart()
    try:
        had = cart.entries().get(product.id, (0, 0))[0]
        now = services.add(cart, product, quantity)
    except services.CartError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(url_for("cart.show")), 303
    db.session.commit()
    if now < had + quantity:
        flash(_("Only %(n)d left: your cart holds them all.", n=now), "info")
    else:
        flash(_("Added to your cart: %(name)s.", name=product.name), "success")
    return _back(url_for("cart.show")), 303


@bp.route("/cart/update/<id:product_id>", methods=["POST"])
def update(product_id: int) -> ResponseReturnValue:
    product = _product(product_id)
    quantity = _quantity()
    if quantity < 0:
        flash(_("Enter a whole number of 0 or more."), "error")
        return redirect(url_for("cart.show")), 303
    cart = current_cart()
    try:
        now = services.set_quantity(cart, product, quantity)
    except services.CartError as error:
        flash(str(error), "error")
        return redirect(url_for("cart.show")), 303
    db.session.commit()
    if 0 < now < quantity:
        flash(_("Only %(n)d left.", n=now), "info")
    return redirect(url_for("cart.show")), 303


@bp.route("/cart/remove/<id:product_id>", methods=["POST"])
def remove(product_id: int) -> ResponseReturnValue:
    services.remove(current_cart(), [product_id])
    db.session.commit()
    return redirect(url_for("cart.show")), 303


@bp.route("/cart/accept/<id:product_id>", methods=["POST"])
def accept_price(product_id: int) -> ResponseReturnValue:
    try:
        services.accept_price(current_cart(), _product(product_id))
    except services.CartError as error:
        flash(str(error), "error")
    db.session.commit()
    return redirect(url_for("cart.show")), 303
