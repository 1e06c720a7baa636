"""The cart's rules: bounded by stock, grouped by shop, never silently changed.

A member's cart is rows (``CartItem``); a visitor's is a small dict kept in the session
(product id → [quantity, price seen]), merged into the member's cart at log-in. Both sit
behind ``Cart`` so every rule below is written once. A listing that stopped being for
sale or changed price stays in the cart, flagged, until the shopper acts on it.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from marketplace.accounts.models import User
from marketplace.cart.models import CartItem
from marketplace.catalog.models import MAX_PRICE_VND, Product, ProductStatus
from marketplace.core.database import dialect_insert
from marketplace.core.errors import DomainError
from marketplace.core.models import utcnow
from marketplace.core.security import MAX_ID
from marketplace.extensions import db
from marketplace.shops.models import Shop, ShopStatus

MAX_LINES = 50
MAX_QUANTITY = 999


class CartError(DomainError):
    """A rule about the cart refused the change."""


class Problem(enum.StrEnum):
    UNAVAILABLE = "unavailable"  # no longer for sale (or sold out)
    PRICE_CHANGED = "price_changed"
    NOT_ENOUGH = "not_enough"  # fewer left than the cart asks for


class Cart(ABC):
    """Where a cart's entries live: product id → (quantity, price seen)."""

    @abstractmethod
    def entries(self) -> dict[int, tuple[int, int]]: ...

    @abstractmethod
    def put(self, product_id: int, quantity: int, price_seen_vnd: int) -> None: ...

    @abstractmethod
    def remove(self, product_ids: list[int]) -> None: ...


class MemberCart(Cart):
    def __init__(self, user: User) -> None:
        self.user = user

    def entries(self) -> dict[int, tuple[int, int]]:
        rows = db.session.execute(
            select(CartItem.product_id, CartItem.quantity, CartItem.price_seen_vnd)
            .where(CartItem.user_id == self.user.id)
            .order_by(CartItem.id)
        )
        return {product_id: (quantity, price) for product_id, quantity, price in rows}

    def put(self, product_id: int, quantity: int, price_seen_vnd: int) -> None:
        # One statement, so two tabs adding the same listing at once cannot collide.
        insert = dialect_insert(db.session)(CartItem).values(
            user_id=self.user.id,
            product_id=product_id,
            quantity=quantity,
            price_seen_vnd=price_seen_vnd,
            added_at=utcnow(),
        )
        db.session.execute(
            insert.on_conflict_do_update(
                index_elements=["user_id", "product_id"],
                set_={"quantity": quantity, "price_seen_vnd": price_seen_vnd},
            )
        )

    def remove(self, product_ids: list[int]) -> None:
        if product_ids:
            db.session.execute(
                delete(CartItem).where(
                    CartItem.user_id == self.user.id, CartItem.product_id.in_(product_ids)
                )
            )


class VisitorCart(Cart):
    """A cart in the (signed) session cookie: ids and numbers only, a few hundred bytes."""

    def __init__(self, store: MutableMapping[str, Any]) -> None:
        self.store = store

    def entries(self) -> dict[int, tuple[int, int]]:
        return {int(key): (value[0], value[1]) for key, value in stored_cart(self.store).items()}

    def put(self, product_id: int, quantity: int, price_seen_vnd: int) -> None:
        self.store[str(product_id)] = [quantity, price_seen_vnd]

    def remove(self, product_ids: list[int]) -> None:
        for product_id in product_ids:
            self.store.pop(str(product_id), None)


def stored_cart(raw: object) -> dict[str, list[int]]:
    """The entries of a session's cart that make sense, at most ``MAX_LINES`` of them.

    The cookie is signed, but one from an older version (or a bug) may hold anything: a
    list, negative quantities, ids beyond the database's keys. Such entries are dropped.
    """
    if not isinstance(raw, dict):
        return {}
    kept: dict[str, list[int]] = {}
    for key, value in raw.items():
        if len(kept) >= MAX_LINES:
            break
        if not (isinstance(key, str) and key.isascii() and key.isdigit()):
            continue
        if len(key) > 10 or str(int(key)) != key or not 0 < int(key) <= MAX_ID:
            continue
        if not (isinstance(value, list | tuple) and len(value) == 2):
            continue
        quantity, price = value
        if type(quantity) is not int or type(price) is not int:
            continue
        if 1 <= quantity <= MAX_QUANTITY and 0 < price <= MAX_PRICE_VND:
            kept[key] = [quantity, price]
    return kept


@dataclass
class Line:
    product: Product
    quantity: int
    price_seen_vnd: int
    problem: Problem | None = None

    @property
    def total_vnd(self) -> int:
        return self.product.price_vnd * self.quantity


@dataclass
class ShopGroup:
    shop: Shop
    lines: list[Line] = field(default_factory=list)

    @property
    def goods_vnd(self) -> int:
        return sum(line.total_vnd for line in self.lines if line.problem is None)

    @property
    def shipping_fee_vnd(self) -> int:
        return self.shop.shipping_fee_for(self.goods_vnd) if self.goods_vnd else 0

    @property
    def total_vnd(self) -> int:
        return self.goods_vnd + self.shipping_fee_vnd


@dataclass
class CartView:
    groups: list[ShopGroup]

    @property
    def lines(self) -> list[Line]:
        return [line for group in self.groups for line in group.lines]

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def total_vnd(self) -> int:
        return sum(group.total_vnd for group in self.groups)

    @property
    def problems(self) -> list[Line]:
        return [line for line in self.lines if line.problem is not None]

    @property
    def empty(self) -> bool:
        return not self.groups


def is_for_sale(product: Product) -> bool:
    return product.status == ProductStatus.PUBLISHED and product.shop.status == ShopStatus.APPROVED


def _problem(product: Product, quantity: int, price_seen_vnd: int) -> Problem | None:
    if not is_for_sale(product) or product.stock <= 0:
        return Problem.UNAVAILABLE
    if product.price_vnd != price_seen_vnd:
        return Problem.PRICE_CHANGED
    if quantity > product.stock:
        return Problem.NOT_ENOUGH
    return None


def view(cart: Cart) -> CartView:
    """The cart as the shopper sees it: by shop, each line checked against the listing now."""
    entries = cart.entries()
    if not entries:
        return CartView([])
    products = {
        product.id: product
        for product in db.session.scalars(select(Product).where(Product.id.in_(entries)))
    }
    gone = [product_id for product_id in entries if product_id not in products]
    cart.remove(gone)  # deleted from the database altogether: nothing left to show
    groups: dict[int, ShopGroup] = {}
    for product_id, (quantity, price_seen) in entries.items():
        product = products.get(product_id)
        if product is None:
            continue
        group = groups.setdefault(product.shop_id, ShopGroup(product.shop))
        group.lines.append(
            Line(product, quantity, price_seen, _problem(product, quantity, price_seen))
        )
    return CartView(list(groups.values()))


def add(cart: Cart, product: Product, quantity: int = 1) -> int:
    """Put ``quantity`` more of ``product`` in the cart; return the quantity now in it.

    The total is held to what is in stock; raise ``CartError`` if none can be added.
    """
    if quantity < 1:
        raise CartError(_("Choose a quantity of at least 1."))
    if not is_for_sale(product):
        raise CartError(_("This product is no longer for sale."))
    if product.stock <= 0:
        raise CartError(_("This product is sold out."))
    entries = cart.entries()
    if product.id not in entries and len(entries) >= MAX_LINES:
        raise CartError(_("Your cart is full. Check out or remove something first."))
    current = entries.get(product.id, (0, product.price_vnd))[0]
    wanted = min(current + quantity, product.stock, MAX_QUANTITY)
    # Adding again is agreeing to today's price.
    cart.put(product.id, wanted, product.price_vnd)
    return wanted


def set_quantity(cart: Cart, product: Product, quantity: int) -> int:
    """Change a line's quantity (0 removes it), held to the stock; return the new quantity."""
    entries = cart.entries()
    if product.id not in entries:
        raise CartError(_("This product is not in your cart."))
    if quantity <= 0:
        cart.remove([product.id])
        return 0
    price_seen = entries[product.id][1]
    wanted = min(quantity, max(product.stock, 1), MAX_QUANTITY)
    cart.put(product.id, wanted, price_seen)
    return wanted


def accept_price(cart: Cart, product: Product) -> None:
    """The shopper saw the new price and keeps the product."""
    entries = cart.entries()
    if product.id not in entries:
        raise CartError(_("This product is not in your cart."))
    cart.put(product.id, entries[product.id][0], product.price_vnd)


def remove(cart: Cart, product_ids: list[int]) -> None:
    cart.remove(product_ids)


def merge(visitor: Cart, member: Cart) -> None:
    """Move a visitor's cart into the member's cart at log-in; quantities add up to stock."""
    entries = visitor.entries()
    if not entries:
        return
    mine = member.entries()
    products = {
        product.id: product
        for product in db.session.scalars(select(Product).where(Product.id.in_(entries)))
    }
    for product_id, (quantity, price_seen) in entries.items():
        product = products.get(product_id)
        if product is None:
            continue
        if product_id not in mine and len(mine) >= MAX_LINES:
            break
        had, had_price = mine.get(product_id, (0, price_seen))
        # The price the visitor saw is kept, so a change since is still flagged.
        total = min(had + quantity, max(product.stock, 1), MAX_QUANTITY)
        member.put(product_id, total, had_price if product_id in mine else price_seen)
        mine[product_id] = (total, price_seen)
    visitor.remove(list(entries))
