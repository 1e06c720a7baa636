"""Stock taken by sales and given back by cancellations: single conditional updates.

A sale never reads the stock and writes it back (two shoppers would both see the last
unit): each line is one ``UPDATE … SET stock = stock - n WHERE stock >= n``, and rows are
updated in id order so two checkouts over the same listings cannot deadlock (FACTS.md).
The products touched are handed to the outbox's change capture, so search, the sync
channels and the page cache learn of the new stock like of any other edit.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import update
from sqlalchemy.orm import Session

from marketplace.catalog.models import Product, ProductStatus
from marketplace.core import outbox
from marketplace.core.errors import DomainError

# What the transaction's stock changes were, per product: (stock before, stock after).
STOCK_CHANGES = "catalog_stock_changes"


class OutOfStock(DomainError):
    """Some listings do not have the asked-for quantity (or are no longer for sale)."""

    def __init__(self, product_ids: list[int]) -> None:
        super().__init__(f"not enough stock for {product_ids}")
        self.product_ids = product_ids


def take_stock(session: Session, quantities: Mapping[int, int]) -> None:
    """Take ``quantities`` (product id → units) from public listings, all or nothing.

    Raise ``OutOfStock`` naming every listing that is short; nothing is taken then.
    """
    short: list[int] = []
    taken: dict[int, tuple[int, int]] = {}
    with session.begin_nested() as savepoint:
        for product_id in sorted(quantities):
            units = quantities[product_id]
            left = session.execute(
                update(Product)
                .where(
                    Product.id == product_id,
                    Product.status == ProductStatus.PUBLISHED,
                    Product.stock >= units,
                )
                .values(stock=Product.stock - units)
                .returning(Product.stock)
                .execution_options(synchronize_session=False)
            ).scalar()
            if left is None:
                short.append(product_id)
            else:
                taken[product_id] = (left + units, left)
        if short:
            savepoint.rollback()
    if short:
        raise OutOfStock(short)
    _note(session, taken)


def return_stock(session: Session, quantities: Mapping[int, int]) -> None:
    """Give ``quantities`` back (a cancelled or expired order), whatever the listing's state."""
    returned: dict[int, tuple[int, int]] = {}
    for product_id in sorted(quantities):
        units = quantities[product_id]
        now = session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + units)
            .returning(Product.stock)
            .execution_options(synchronize_session=False)
        ).scalar()
        if now is not None:
            returned[product_id] = (now - units, now)
    _note(session, returned)


def _note(session: Session, changes: dict[int, tuple[int, int]]) -> None:
    if not changes:
        return
    noted = outbox.transaction_state(session).setdefault(STOCK_CHANGES, {})
    for product_id, (before, after) in changes.items():
        first_before = noted.get(product_id, (before, after))[0]
        noted[product_id] = (first_before, after)
    products = []
    for product_id in changes:
        product = session.get(Product, product_id)
        if product is not None:
            session.expire(product, ["stock"])  # the row changed under the ORM
            products.append(product)
    outbox.note_changed(session, products)


def stock_changes(session: Session) -> dict[int, tuple[int, int]]:
    """The stock each product had before this transaction's sales and has after them."""
    return dict(outbox.transaction_state(session).get(STOCK_CHANGES, {}))
