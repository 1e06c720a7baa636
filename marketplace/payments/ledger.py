"""What the marketplace owes each shop for payments it collected (cards), and payouts.

Entries are written once, each under a unique ``reference``: delivering an order, a
webhook told twice or an admin's double click cannot count money twice. A shop's balance
is the sum of its entries. Tax is withheld as Decree 117/2025 asks of a platform that
collects payment for household businesses and individuals (1 % VAT and 0.5 % PIT on
goods by default; ``WITHHOLD_VAT_RATE`` and ``WITHHOLD_PIT_RATE`` change the rates).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.core.errors import DomainError
from marketplace.core.money import format_vnd
from marketplace.extensions import db
from marketplace.orders.models import Order, PaymentMethod, PaymentStatus
from marketplace.payments.models import LedgerEntry, LedgerKind, Payout
from marketplace.shops.models import BusinessType, Shop

WITHHELD_FROM = frozenset({BusinessType.HOUSEHOLD, BusinessType.INDIVIDUAL})
# Amounts are 32-bit columns (2 147 483 647 đ at most): a bigger payout is made in parts.
MAX_PAYOUT_VND = 2_000_000_000


class LedgerError(DomainError):
    pass


def _rate(name: str, default: str) -> Decimal:
    return Decimal(str(current_app.config.get(name, default)))


def withheld_tax(shop: Shop, goods_vnd: int) -> tuple[int, int]:
    """The VAT and PIT withheld on ``goods_vnd`` of ``shop``, in whole đồng."""
    if shop.business_type not in WITHHELD_FROM:
        return 0, 0

    def part(rate: Decimal) -> int:
        return int((Decimal(goods_vnd) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    return part(_rate("WITHHOLD_VAT_RATE", "0.01")), part(_rate("WITHHOLD_PIT_RATE", "0.005"))


def _write(shop_id: int, kind: LedgerKind, amount: int, reference: str, **links: int) -> bool:
    """Write one entry unless its reference is already there; return True if written."""
    if not amount:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(
                LedgerEntry(
                    shop_id=shop_id, kind=kind, amount_vnd=amount, reference=reference, **links
                )
            )
    except IntegrityError:
        return False
    return True


def record_delivery(order: Order) -> None:
    """A delivered order the marketplace was paid for becomes money owed to the shop."""
    if order.payment_method != PaymentMethod.CARD or order.payment_status == PaymentStatus.UNPAID:
        return  # cash and transfers went to the seller directly
    shop = db.session.get(Shop, order.shop_id)
    assert shop is not None
    vat, pit = withheld_tax(shop, order.goods_vnd)
    key = f"order:{order.id}"
    _write(shop.id, LedgerKind.SALE, order.total_vnd, f"sale:{key}", order_id=order.id)
    _write(shop.id, LedgerKind.VAT, -vat, f"vat:{key}", order_id=order.id)
    _write(shop.id, LedgerKind.PIT, -pit, f"pit:{key}", order_id=order.id)
    if order.refunded_vnd:
        record_refund(order, order.refunded_vnd)


def record_refund(order: Order, refunded_total_vnd: int) -> None:
    """A refund after delivery comes off what the shop is owed, and so does the tax.

    Each entry is keyed by the refunded total it brings the order to, so applying the
    same total again writes nothing. The tax withheld follows the share of the order the
    shop keeps: a fully refunded order ends with no tax withheld at all.
    """
    if not _sum(order, LedgerKind.SALE):
        return  # not delivered: nothing was owed yet, so nothing to take back
    already = -_sum(order, LedgerKind.REFUND)
    key = f"order:{order.id}:{refunded_total_vnd}"
    if refunded_total_vnd > already:
        _write(order.shop_id, LedgerKind.REFUND, -(refunded_total_vnd - already),
               f"refund:{key}", order_id=order.id)  # fmt: skip
    shop = db.session.get(Shop, order.shop_id)
    assert shop is not None
    kept = max(order.total_vnd - refunded_total_vnd, 0)
    kept_goods = order.goods_vnd * kept // order.total_vnd if order.total_vnd else 0
    vat_due, pit_due = withheld_tax(shop, kept_goods)
    for kind, due in ((LedgerKind.VAT, vat_due), (LedgerKind.PIT, pit_due)):
        withheld = -_sum(order, kind)
        if withheld > due:
            _write(order.shop_id, kind, withheld - due, f"{kind}-back:{key}", order_id=order.id)


def _sum(order: Order, kind: LedgerKind) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0)).where(
            LedgerEntry.order_id == order.id, LedgerEntry.kind == kind
        )
    )
    return int(total or 0)


def balance(shop: Shop) -> int:
    """What the marketplace owes ``shop`` now."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0)).where(
                LedgerEntry.shop_id == shop.id
            )
        )
        or 0
    )


def entries(shop: Shop, limit: int = 200) -> list[LedgerEntry]:
    return list(
        db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.shop_id == shop.id)
            .order_by(LedgerEntry.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Owed:
    shop: Shop
    amount_vnd: int


def payouts_due() -> list[Owed]:
    """Every shop the marketplace owes money to, largest first."""
    total = func.sum(LedgerEntry.amount_vnd)
    rows = db.session.execute(
        select(Shop, total)
        .join(LedgerEntry, LedgerEntry.shop_id == Shop.id)
        .group_by(Shop.id)
        .having(total > 0)
        .order_by(total.desc())
    )
    return [Owed(shop, int(amount)) for shop, amount in rows]


def payout_sheet() -> str:
    """The payout list as CSV (UTF-8 with BOM, so Excel shows Vietnamese right)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["shop_id", "shop", "bank_bin", "account_number", "account_name", "amount_vnd"])
    for owed in payouts_due():
        shop = owed.shop
        writer.writerow(
            [
                shop.id,
                _cell(shop.name),
                shop.bank_bin or "",
                _cell(shop.bank_account_number or ""),
                _cell(shop.bank_account_name or ""),
                owed.amount_vnd,
            ]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    # A cell that starts like a formula would run in a spreadsheet: keep it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def record_payout(shop: Shop, amount_vnd: int, *, by: User, bank_reference: str = "") -> Payout:
    """An admin sent ``amount_vnd`` to the shop's bank account."""
    db.session.get(Shop, shop.id, with_for_update=True)  # two admins at once: one waits
    owed = balance(shop)
    if amount_vnd <= 0:
        raise LedgerError(_("The amount must be positive."))
    if amount_vnd > MAX_PAYOUT_VND:
        raise LedgerError(
            _(
                "A payout can be at most %(max)s: record a bigger one in parts.",
                max=format_vnd(MAX_PAYOUT_VND),
            )
        )
    if amount_vnd > owed:
        raise LedgerError(_("The shop is owed %(owed)s, less than that.", owed=format_vnd(owed)))
    payout = Payout(
        shop_id=shop.id,
        amount_vnd=amount_vnd,
        made_by_id=by.id,
        bank_reference=bank_reference[:100],
    )
    db.session.add(payout)
    db.session.flush()
    _write(shop.id, LedgerKind.PAYOUT, -amount_vnd, f"payout:{payout.id}", payout_id=payout.id)
    db.session.flush()
    return payout
