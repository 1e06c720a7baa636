"""Categories, products, their pictures and staged revisions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core import pagecache
from marketplace.core.models import (
    RevisionStatus,
    TimestampMixin,
    UTCDateTime,
    text_enum,
    utcnow,
)
from marketplace.extensions import db
from marketplace.media.models import Image
from marketplace.shops.models import Shop

MAX_PRICE_VND = 1_000_000_000
MAX_IMAGES = 8


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="Category.position"
    )

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    HIDDEN = "hidden"
    DELETED = "deleted"


class OcopLevel(enum.StrEnum):
    # Until 2025 districts certified 3 stars; provinces certify 3–4, the state 5.
    DISTRICT = "district"
    PROVINCE = "province"
    NATIONAL = "national"


class Product(TimestampMixin, db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    # The top of the category's tree, kept beside it so a top-level category's page reads
    # one index range in order instead of sorting every listing of its sub-categories.
    root_category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    name: Mapped[str] = mapped_column(String(150))
    slug: Mapped[str] = mapped_column(String(160))
    description_md: Mapped[str] = mapped_column(Text, default="")
    # Rendered and sanitised once, when the description is saved.
    description_html: Mapped[str] = mapped_column(Text, default="")
    price_vnd: Mapped[int]
    compare_at_price_vnd: Mapped[int | None]
    stock: Mapped[int] = mapped_column(default=0)
    unit: Mapped[str] = mapped_column(String(20))
    weight_grams: Mapped[int | None]
    ocop_stars: Mapped[int | None] = mapped_column(SmallInteger)
    ocop_certificate_no: Mapped[str | None] = mapped_column(String(50))
    ocop_year: Mapped[int | None] = mapped_column(SmallInteger)
    ocop_level: Mapped[OcopLevel | None] = mapped_column(text_enum(OcopLevel))
    # The claim matches the province's imported OCOP list (catalog.ocop); kept on the row
    # so a page of cards shows the badge without a lookup per card.
    ocop_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    origin: Mapped[str] = mapped_column(String(120), default="")
    gtin: Mapped[str | None] = mapped_column(String(14))
    traceability_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[ProductStatus] = mapped_column(
        text_enum(ProductStatus), default=ProductStatus.DRAFT
    )
    # Why the listing was last rejected or hidden: shown to the seller.
    status_reason: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    shop: Mapped[Shop] = relationship(lazy="joined", innerjoin=True)
    category: Mapped[Category] = relationship(
        lazy="joined", innerjoin=True, foreign_keys=[category_id]
    )
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product",
        order_by="ProductImage.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        CheckConstraint(f"price_vnd > 0 AND price_vnd <= {MAX_PRICE_VND}", name="price_range"),
        CheckConstraint(
            "compare_at_price_vnd IS NULL OR compare_at_price_vnd > price_vnd",
            name="compare_at_above_price",
        ),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("ocop_stars IS NULL OR ocop_stars IN (3, 4, 5)", name="ocop_stars"),
        # The public pages' lists: by category and by shop, newest or by price.
        Index("ix_products_status_category_published", "status", "category_id", "published_at"),
        Index("ix_products_status_category_price", "status", "category_id", "price_vnd"),
        Index("ix_products_status_root_published", "status", "root_category_id", "published_at"),
        Index("ix_products_status_root_price", "status", "root_category_id", "price_vnd"),
        Index("ix_products_shop_status", "shop_id", "status", "published_at"),
        Index("ix_products_status_ocop", "status", "ocop_stars", "published_at"),
    )

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.slug} {self.status}>"

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def cover(self) -> Image | None:
        return self.images[0].image if self.images else None


class ProductImage(db.Model):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"))
    position: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="images")
    image: Mapped[Image] = relationship(lazy="joined", innerjoin=True)


class ProductRevision(db.Model):
    """A content edit to a live listing, waiting for review while the live version stays."""

    __tablename__ = "product_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The proposed content fields (see catalog.services.CONTENT_FIELDS) and image ids.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[RevisionStatus] = mapped_column(
        text_enum(RevisionStatus), default=RevisionStatus.PENDING
    )
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    product: Mapped[Product] = relationship()
    author: Mapped[User] = relationship()

    __table_args__ = (
        # At most one edit waits per listing, even when two saves race.
        Index(
            "uq_product_revisions_one_pending",
            "product_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )


class OcopCertificate(db.Model):
    """One entry of the province's OCOP list, imported by admins."""

    __tablename__ = "ocop_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The number as printed, and the form it is matched by (see catalog.ocop.certificate_key).
    certificate_no: Mapped[str] = mapped_column(String(50))
    certificate_key: Mapped[str] = mapped_column(String(50), unique=True)
    product_name: Mapped[str] = mapped_column(String(200))
    producer: Mapped[str] = mapped_column(String(200))
    stars: Mapped[int] = mapped_column(SmallInteger)
    year: Mapped[int] = mapped_column(SmallInteger)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("stars IN (3, 4, 5)", name="ocop_certificate_stars"),)


# What shoppers see changes with these: cached public pages must go.
pagecache.watch(Category, Product, ProductImage, Shop)
