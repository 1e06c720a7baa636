"""The shop and its states."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core.models import RevisionStatus, TimestampMixin, UTCDateTime, text_enum, utcnow
from marketplace.extensions import db
from marketplace.media.models import Document, Image


class ShopStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class BusinessType(enum.StrEnum):
    ENTERPRISE = "enterprise"
    COOPERATIVE = "cooperative"
    HOUSEHOLD = "household"
    INDIVIDUAL = "individual"


class Shop(TimestampMixin, db.Model):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(20))
    street: Mapped[str] = mapped_column(String(200))
    province_code: Mapped[int] = mapped_column(index=True)
    commune_code: Mapped[int] = mapped_column(index=True)
    business_type: Mapped[BusinessType] = mapped_column(text_enum(BusinessType))
    tax_code: Mapped[str | None] = mapped_column(String(14))
    id_number: Mapped[str | None] = mapped_column(String(12))
    registration_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    rules_version: Mapped[str] = mapped_column(String(20))
    rules_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    logo_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"))
    banner_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"))
    status: Mapped[ShopStatus] = mapped_column(
        text_enum(ShopStatus), default=ShopStatus.PENDING, index=True
    )
    # Why the shop was last rejected or suspended: shown to its owner.
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    trusted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Selling: a flat shipping fee per order, waived from an order's goods total up.
    shipping_fee_vnd: Mapped[int] = mapped_column(default=30_000, server_default="30000")
    free_shipping_from_vnd: Mapped[int | None]
    # The account shoppers pay by bank transfer (VietQR): the bank's NAPAS BIN.
    bank_bin: Mapped[str | None] = mapped_column(String(6))
    bank_account_number: Mapped[str | None] = mapped_column(String(19))
    bank_account_name: Mapped[str | None] = mapped_column(String(100))

    owner: Mapped[User] = relationship()
    logo: Mapped[Image | None] = relationship(foreign_keys=[logo_id])
    banner: Mapped[Image | None] = relationship(foreign_keys=[banner_id])
    registration_document: Mapped[Document | None] = relationship()

    def __repr__(self) -> str:
        return f"<Shop {self.id} {self.slug} {self.status}>"

    def shipping_fee_for(self, goods_vnd: int) -> int:
        """The shipping fee of an order whose goods come to ``goods_vnd``."""
        free_from = self.free_shipping_from_vnd
        return 0 if free_from is not None and goods_vnd >= free_from else self.shipping_fee_vnd

    @property
    def takes_transfers(self) -> bool:
        return bool(self.bank_bin and self.bank_account_number)


class ShopRevision(db.Model):
    """A change to a live shop's name or legal details, waiting for review while the
    reviewed details stay (see shops.services.REVIEWED_FIELDS)."""

    __tablename__ = "shop_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[RevisionStatus] = mapped_column(
        text_enum(RevisionStatus), default=RevisionStatus.PENDING
    )
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    shop: Mapped[Shop] = relationship()
    author: Mapped[User] = relationship()

    __table_args__ = (
        # At most one change waits per shop.
        Index(
            "uq_shop_revisions_one_pending",
            "shop_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )
