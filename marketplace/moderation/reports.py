"""Visitors' reports of listings and shops, and how admins resolve them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from marketplace.accounts.models import User
from marketplace.catalog import queries as catalog_queries
from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.models import utcnow
from marketplace.extensions import db
from marketplace.moderation import services
from marketplace.moderation.models import Report, ReportReason, Resolution
from marketplace.shops.models import Shop, ShopStatus

REPORT_REASONS = {
    ReportReason.COUNTERFEIT: services.REJECTION_REASONS["counterfeit"],
    ReportReason.WRONG_INFORMATION: _l("Wrong information"),
    ReportReason.PROHIBITED: _l("Prohibited goods"),
    ReportReason.OFFENSIVE: services.REJECTION_REASONS["offensive"],
    ReportReason.OTHER: services.REJECTION_REASONS["other"],
}
MAX_DETAILS = 1000
TARGETS = {"product": Product, "shop": Shop}


class ReportError(DomainError):
    pass


def reportable(target_type: str, target_id: int) -> Product | Shop:
    """The public listing or shop a visitor may report; NotFound for anything else."""
    if target_type == "product":
        product = db.session.scalar(
            catalog_queries.public_products().where(Product.id == target_id)
        )
        if product is not None:
            return product
    elif target_type == "shop":
        shop = db.session.get(Shop, target_id)
        if shop is not None and shop.status == ShopStatus.APPROVED:
            return shop
    raise NotFound(_("This page does not exist."))


def file_report(
    target: Product | Shop, *, reason: ReportReason, details: str, reporter: User | None
) -> Report:
    details = (details or "").strip()
    if reason == ReportReason.OTHER and not details:
        raise ReportError(_("Say what is wrong, so admins can check it."))
    if len(details) > MAX_DETAILS:
        raise ReportError(_("Please keep it under %(count)s characters.", count=MAX_DETAILS))
    target_type = "product" if isinstance(target, Product) else "shop"
    if reporter is not None and db.session.scalar(
        select(Report.id).where(
            Report.reporter_id == reporter.id,
            Report.target_type == target_type,
            Report.target_id == target.id,
            Report.resolved_at.is_(None),
        )
    ):
        raise ReportError(_("You have already reported this; admins will look at it."))
    report = Report(
        target_type=target_type,
        target_id=target.id,
        reason=reason,
        details=details,
        reporter_id=reporter.id if reporter else None,
    )
    db.session.add(report)
    db.session.flush()
    return report


@dataclass
class ReportGroup:
    """The open reports of one listing or shop."""

    target_type: str
    target_id: int
    target: Product | Shop | None
    reports: list[Report]

    @property
    def reasons(self) -> Counter[ReportReason]:
        return Counter(report.reason for report in self.reports)

    @property
    def first_at(self) -> datetime:
        return min(report.created_at for report in self.reports)


def open_groups() -> list[ReportGroup]:
    """Open reports grouped by target, the most reported first, then the oldest."""
    reports = db.session.scalars(
        select(Report).where(Report.resolved_at.is_(None)).order_by(Report.id)
    )
    grouped: dict[tuple[str, int], list[Report]] = {}
    for report in reports:
        grouped.setdefault((report.target_type, report.target_id), []).append(report)
    groups = [
        ReportGroup(kind, target_id, db.session.get(TARGETS[kind], target_id), items)
        for (kind, target_id), items in grouped.items()
    ]
    return sorted(groups, key=lambda group: (-len(group.reports), group.first_at))


def open_count() -> int:
    return (
        db.session.scalar(select(db.func.count(Report.id)).where(Report.resolved_at.is_(None))) or 0
    )


def resolve(
    actor: User, target_type: str, target_id: int, *, resolution: Resolution, note: str
) -> int:
    """Act on a reported target and close every open report of it; return how many."""
    note = (note or "").strip()[:500]
    if not note:
        raise ReportError(_("Write a note: it is kept with the reports."))
    if target_type not in TARGETS:
        raise NotFound(_("This page does not exist."))
    target = db.session.get(TARGETS[target_type], target_id)
    if target is None:
        raise NotFound(_("This page does not exist."))
    closed = db.session.execute(
        update(Report)
        .where(
            Report.target_type == target_type,
            Report.target_id == target_id,
            Report.resolved_at.is_(None),
        )
        .values(
            resolved_at=utcnow(),
            resolved_by_id=actor.id,
            resolution=resolution,
            note=note,
        )
    ).rowcount
    if not closed:
        raise services.AlreadyDecided(_("These reports have already been resolved."))
    if resolution == Resolution.HIDE:
        if not isinstance(target, Product):
            raise ReportError(_("Only a listing can be hidden; suspend a shop instead."))
        if target.status == ProductStatus.PUBLISHED:
            services.hide_product(actor, target.id, reason=note)
    elif resolution == Resolution.SUSPEND:
        shop = target.shop if isinstance(target, Product) else target
        if shop.status == ShopStatus.APPROVED:
            services.suspend_shop(actor, shop.id, reason=note)
    services.record(
        actor,
        f"reports.{resolution}",
        target,
        before={"open_reports": closed},
        after={"open_reports": 0},
        reason=note,
    )
    return closed
