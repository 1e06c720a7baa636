"""The provincial report: the figures a province publishes about its marketplace."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.sql import ColumnElement

from marketplace.accounts.models import User
from marketplace.catalog.models import Product, ProductStatus
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.shops import places
from marketplace.shops.models import Shop, ShopStatus
from marketplace.sync.standing import LiveOnChannel, live_by_channel

MONTHS = 12


@dataclass(frozen=True)
class CommuneRow:
    code: int
    name: str
    shops: int
    listings: int  # published listings of approved shops
    orders: int = 0  # orders placed with the commune's shops, not cancelled
    sales_vnd: int = 0  # their goods


@dataclass(frozen=True)
class ProvincialReport:
    members: dict[str, int]  # by role
    shops: dict[str, int]  # by state
    listings: dict[str, int]  # by state
    ocop_listings: int  # published, with an OCOP rating
    months: list[str]  # "2026-01" … oldest first
    signups: list[int]  # per month
    new_listings: list[int]  # per month
    orders: list[int]  # placed per month, not cancelled
    sales_vnd: list[int]  # their goods, per month
    communes: list[CommuneRow]
    channels: list[LiveOnChannel]  # shops and listings live on each external channel

    @property
    def published(self) -> int:
        return self.listings.get(ProductStatus.PUBLISHED, 0)

    @property
    def ocop_share(self) -> float:
        return self.ocop_listings / self.published if self.published else 0.0


def _month(column: ColumnElement) -> ColumnElement:
    """The calendar month in Vietnam (UTC+7, no daylight saving) as "YYYY-MM"."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Ho_Chi_Minh", column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+7 hours")


def _last_months(today: date, count: int = MONTHS) -> list[str]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _per_month(column: ColumnElement, months: list[str]) -> list[int]:
    month = _month(column)
    counts = dict(
        db.session.execute(
            select(month, func.count()).where(month >= months[0]).group_by(month)
        ).all()
    )
    return [counts.get(name, 0) for name in months]


def _sales_per_month(months: list[str]) -> tuple[list[int], list[int]]:
    month = _month(Order.placed_at)
    rows = {
        name: (count, int(total or 0))
        for name, count, total in db.session.execute(
            select(month, func.count(Order.id), func.sum(Order.goods_vnd))
            .where(_SOLD, month >= months[0])
            .group_by(month)
        )
    }
    return [rows.get(n, (0, 0))[0] for n in months], [rows.get(n, (0, 0))[1] for n in months]


# An order counts once placed (a card order once paid) and until it is cancelled.
_SOLD = Order.placed_at.is_not(None) & (Order.status != OrderStatus.CANCELLED)


def _count_by(column: ColumnElement) -> dict[str, int]:
    return {str(key): count for key, count in db.session.execute(
        select(column, func.count()).group_by(column)
    ).all()}  # fmt: skip


def build_report(today: date) -> ProvincialReport:
    months = _last_months(today)
    public = (Product.status == ProductStatus.PUBLISHED) & (Shop.status == ShopStatus.APPROVED)
    shops_by_commune = dict(
        db.session.execute(
            select(Shop.commune_code, func.count())
            .where(Shop.status == ShopStatus.APPROVED)
            .group_by(Shop.commune_code)
        ).all()
    )
    listings_by_commune = dict(
        db.session.execute(
            select(Shop.commune_code, func.count(Product.id))
            .join(Product, Product.shop_id == Shop.id)
            .where(public)
            .group_by(Shop.commune_code)
        ).all()
    )
    sales_by_commune = {
        code: (count, int(total or 0))
        for code, count, total in db.session.execute(
            select(Shop.commune_code, func.count(Order.id), func.sum(Order.goods_vnd))
            .join(Order, Order.shop_id == Shop.id)
            .where(_SOLD)
            .group_by(Shop.commune_code)
        )
    }
    communes = []
    for code in set(shops_by_commune) | set(sales_by_commune):
        commune = places.commune(code)
        name = commune.name if commune else str(code)
        orders, sales = sales_by_commune.get(code, (0, 0))
        communes.append(
            CommuneRow(
                code, name, shops_by_commune.get(code, 0), listings_by_commune.get(code, 0),
                orders, sales,
            )
        )  # fmt: skip
    communes.sort(key=lambda row: (-row.sales_vnd, -row.listings, -row.shops, row.name))
    orders, sales = _sales_per_month(months)
    return ProvincialReport(
        members=_count_by(User.role),
        shops=_count_by(Shop.status),
        listings=_count_by(Product.status),
        ocop_listings=db.session.scalar(
            select(func.count(Product.id))
            .join(Shop, Product.shop_id == Shop.id)
            .where(public, Product.ocop_stars.is_not(None))
        )
        or 0,
        months=months,
        signups=_per_month(User.created_at, months),
        new_listings=_per_month(Product.created_at, months),
        orders=orders,
        sales_vnd=sales,
        communes=communes,
        channels=live_by_channel(),
    )


def report_rows(report: ProvincialReport) -> Iterator[list[object]]:
    """The whole report as rows: section, item, value (and a second value by commune)."""
    yield ["section", "item", "value", "value_2"]
    for role, count in sorted(report.members.items()):
        yield ["members_by_role", role, count, ""]
    for state, count in sorted(report.shops.items()):
        yield ["shops_by_state", state, count, ""]
    for state, count in sorted(report.listings.items()):
        yield ["listings_by_state", state, count, ""]
    yield ["ocop", "published_ocop_listings", report.ocop_listings, ""]
    yield ["ocop", "share_of_published", f"{report.ocop_share:.4f}", ""]
    for month, signups, listings in zip(
        report.months, report.signups, report.new_listings, strict=True
    ):
        yield ["by_month", month, signups, listings]
    for month, orders, sales in zip(report.months, report.orders, report.sales_vnd, strict=True):
        yield ["sales_by_month", month, orders, sales]
    for row in report.communes:
        yield ["by_commune", row.name, row.shops, row.listings]
    for row in report.communes:
        yield ["sales_by_commune", row.name, row.orders, row.sales_vnd]
    for channel in report.channels:
        yield ["live_on_channel", channel.name, channel.shops, channel.listings]
