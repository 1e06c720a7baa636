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
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

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
from marketplace.shops.models import Shop, ShopStatus

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


# -- What each change shows on: the page cache's tags (see core/pagecache.py) -------------
#
# product:N   listing N's own page (and its QR code): anything about it
# card:N      what listing N's card shows on lists: name, price, OCOP badge, cover, sold out
# category:N  which listings category N (with everything below it) lists, in which order,
#             and how many
# shop:N      shop N's storefront: its details and which listings it lists, in which
#             order, and how many (a shop's details on its listings' pages bump their
#             product:N tags instead, so a product page depends on two tags only)
# home        which listings the home page's sections (newest, OCOP) list
#
# A list page depends on its list tag and on the card tag of each listing it shows, so a
# change to one card re-renders only the pages that show it. The category tree is on
# every page: changing it invalidates everything (pagecache.CATALOG).

HOME_TAG = "home"


def product_tag(product_id: int) -> str:
    return f"product:{product_id}"


def card_tag(product_id: int) -> str:
    return f"card:{product_id}"


def category_tag(category_id: int) -> str:
    return f"category:{category_id}"


def shop_tag(shop_id: int) -> str:
    return f"shop:{shop_id}"


# Columns of a listing shown on its card, that decide where it is listed and in which
# order, and that decide whether it is among the home page's newest or OCOP listings.
# (Leaving a list is seen through the card: a hidden listing's card changes.)
_CARD_COLUMNS = (
    "name", "slug", "price_vnd", "compare_at_price_vnd", "ocop_stars", "ocop_verified",
    "status", "shop_id",
)  # fmt: skip
_LIST_COLUMNS = ("status", "category_id", "root_category_id", "published_at", "price_vnd",
                 "shop_id")  # fmt: skip
_HOME_COLUMNS = ("status", "published_at", "ocop_stars", "shop_id")
UNKNOWN = pagecache.UNKNOWN


def _may_be(value: Any, wanted: Any) -> bool:
    return value is UNKNOWN or value == wanted


def _sold_out_changed(before: Any, after: Any) -> bool:
    if before is UNKNOWN or after is UNKNOWN:
        return True
    return ((before or 0) > 0) != ((after or 0) > 0)


def category_tags(session: Session, category_ids: set[Any]) -> set[str]:
    """The list tags of these categories and of every category above them."""
    if UNKNOWN in category_ids:
        return {pagecache.CATALOG}
    parents = dict(session.execute(select(Category.id, Category.parent_id)).all())
    tags = set()
    for category_id in category_ids - {None}:
        seen = set()
        while category_id is not None and category_id not in seen:
            seen.add(category_id)
            tags.add(category_tag(category_id))
            category_id = parents.get(category_id)
    return tags


def _product_tags(session: Session, change: pagecache.Change) -> set[str]:
    from marketplace.catalog.stock import stock_changes  # stock imports these models

    product_id = change.now("id")
    tags = {product_tag(product_id)}
    stock = stock_changes(session).get(product_id)
    if not change.known and stock is not None:
        # A sale or a returned order: the conditional UPDATE changed the stock, nothing else.
        change = pagecache.Change(
            values={**change.values, "stock": stock[1]}, before={"stock": stock[0]}
        )
    sold_out = stock is not None and _sold_out_changed(*stock)
    if change.changed("stock"):
        sold_out = sold_out or _sold_out_changed(change.old("stock"), change.now("stock"))
    was_public = _may_be(change.old("status"), ProductStatus.PUBLISHED)
    is_public = not change.deleted and _may_be(change.now("status"), ProductStatus.PUBLISHED)
    if not (was_public or is_public):
        return tags  # on no public page, before or after
    if sold_out or change.changed(*_CARD_COLUMNS):
        tags.add(card_tag(product_id))
    if change.changed(*_LIST_COLUMNS):
        categories = {change.old("category_id"), change.now("category_id"),
                      change.old("root_category_id"), change.now("root_category_id")}  # fmt: skip
        tags |= category_tags(session, categories)
        for shop_id in {change.old("shop_id"), change.now("shop_id")} - {None}:
            tags.add(pagecache.CATALOG if shop_id is UNKNOWN else shop_tag(shop_id))
    if change.changed(*_HOME_COLUMNS):
        tags.add(HOME_TAG)
    return tags


def _product_image_tags(session: Session, change: pagecache.Change) -> set[str]:
    # The pictures are on the listing's page; the first one is its card's cover.
    product_ids = {change.old("product_id"), change.now("product_id")} - {None}
    if UNKNOWN in product_ids:
        return {pagecache.CATALOG}
    return {tag for pid in product_ids for tag in (product_tag(pid), card_tag(pid))}


# Shop columns no public page shows.
_PRIVATE_SHOP_COLUMNS = frozenset(
    {"trusted", "updated_at", "status_reason", "status_changed_at", "rules_version",
     "rules_accepted_at", "registration_document_id", "id_number", "tax_code"}
)  # fmt: skip


def _shop_tags(session: Session, change: pagecache.Change) -> set[str]:
    shop_id = change.now("id")
    tags = {shop_tag(shop_id)}
    was_public = _may_be(change.old("status"), ShopStatus.APPROVED)
    is_public = not change.deleted and _may_be(change.now("status"), ShopStatus.APPROVED)
    if not (was_public or is_public):
        return tags
    shown = [name for name in change.values if name not in _PRIVATE_SHOP_COLUMNS]
    if not change.changed(*shown):
        return tags
    listings = session.execute(
        select(Product.id, Product.category_id).where(
            Product.shop_id == shop_id, Product.status == ProductStatus.PUBLISHED
        )
    ).all()
    # Each listing's page shows the shop's box (name, logo, address) and needs it approved.
    tags |= {product_tag(product_id) for product_id, _category_id in listings}
    if change.changed("status", "name"):
        # Its listings appear or disappear, or their cards show another shop name: every
        # list they are on.
        tags.add(HOME_TAG)
        tags |= category_tags(session, {category_id for _id, category_id in listings})
    return tags


pagecache.watch(Category)  # the tree is on every page
pagecache.on_change(Product, _product_tags)
pagecache.on_change(ProductImage, _product_image_tags)
pagecache.on_change(Shop, _shop_tags)
